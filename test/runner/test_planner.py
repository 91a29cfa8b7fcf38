"""The batching planner's numbers on traces small enough to compute by hand."""
import math

from cdk_event_driven_glue_workflow_tools import planner, scenario
from cdk_event_driven_glue_workflow_tools.planner import CostModel

# runs last 50 s + 1 s per file; billed with a 60 s minimum; 2 workers of 1 DPU
COST = CostModel(startup_seconds=50.0, seconds_per_file=1.0, workers=2)


def test_burst_within_the_window_is_one_run_with_latency_to_its_end():
    arrivals = [0.0, 10.0, 20.0]
    outcome = planner.batching_outcome(arrivals, 100, 300, COST)
    # one run at 300 s lasting 53 s -> ends at 353
    assert outcome.runs == 1
    assert outcome.p50 == 353.0 - 10.0
    assert outcome.p95 == 353.0
    assert outcome.dpu_seconds == 2 * 60.0


def test_lambda_per_file_is_one_run_per_file():
    outcome = planner.per_file_outcome([0.0, 10.0, 20.0], COST)
    assert (outcome.runs, outcome.p50, outcome.p95) == (3, 51.0, 51.0)
    assert outcome.dpu_seconds == 3 * 2 * 60.0


def test_fixed_schedule_runs_on_every_tick_even_without_files():
    outcome = planner.schedule_outcome([100.0], 900.0, COST, horizon=3600.0)
    # ticks at 900, 1800, 2700, 3600: the file waits for the 900 s tick
    assert outcome.runs == 4
    assert outcome.p95 == 900.0 + 51.0 - 100.0
    assert outcome.dpu_seconds == 4 * 2 * 60.0


def test_billing_uses_the_one_minute_minimum_and_per_second_above_it():
    assert COST.dpu_seconds(30.0) == 120.0
    assert COST.dpu_seconds(90.5) == 181.0


def test_percentile_is_nearest_rank():
    assert planner.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert planner.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5
    assert math.isnan(planner.percentile([], 50))


def test_bursty_scenario_has_bursts_of_ten_within_two_minutes():
    arrivals = scenario.bursty_trace()
    assert len(arrivals) == 60
    bursts = [arrivals[i:i + 10] for i in range(0, 60, 10)]
    assert all(b[-1] - b[0] <= 120.0 for b in bursts)
    assert all(later[0] - earlier[-1] > 3600.0 for earlier, later in zip(bursts, bursts[1:]))


def test_read_trace_accepts_seconds_and_iso_timestamps(tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("timestamp\n2026-11-22T10:00:00Z\n2026-11-22T10:00:30Z\n2026-11-22T10:15:00Z\n")
    assert scenario.read_trace(str(trace)) == [0.0, 30.0, 900.0]


def test_cli_writes_table_and_plot(tmp_path, capsys):
    assert planner.main(["--sizes", "10,100", "--windows", "300,900", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| batch 10 / 300 s |" in printed and "| Lambda per file | 60 |" in printed
    assert "assumptions: run = 45 s start + 0.5 s/file" in printed
    assert (tmp_path / "table.md").read_text().count("| batch ") == 4
    assert (tmp_path / "runs_vs_p95.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

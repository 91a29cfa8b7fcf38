"""The batching planner's numbers on traces small enough to compute by hand."""
import math

import pytest

from cdk_event_driven_glue_workflow_tools import batching, planner, scenario
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


def test_read_trace_skips_a_header_row_blank_rows_and_a_byte_order_mark(tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("\ufeffarrival,size\n100,3\n\n130.5,1\n,\n1000,2\n", encoding="utf-8")
    assert scenario.read_trace(str(trace)) == [0.0, 30.5, 900.0]


def test_read_trace_takes_a_first_row_that_is_a_time_as_an_arrival(tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("2026-11-22T10:00:00Z\n2026-11-22T10:00:30+00:00\n", encoding="utf-8")
    assert scenario.read_trace(str(trace)) == [0.0, 30.0]


@pytest.mark.parametrize("text, line, value", [
    ("arrival\n0\n30\nsoon\n", 4, "soon"),
    ("0\narrival\n", 2, "arrival"),
    ("seconds\n0\n\n2026-13-01T00:00:00\n", 4, "2026-13-01T00:00:00"),
    ("arrival\n0\nnan\n", 3, "nan"),
    ("arrival\n0\ninf\n", 3, "inf"),
])
def test_read_trace_names_the_line_and_value_of_a_later_row_that_is_not_a_time(tmp_path, text, line, value):
    trace = tmp_path / "t.csv"
    trace.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as error:
        scenario.read_trace(str(trace))
    assert str(error.value) == f"{trace}, line {line}: {value!r} is neither seconds nor an ISO-8601 time"


def test_read_trace_with_only_a_header_has_no_arrivals(tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("arrival\n\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        scenario.read_trace(str(trace))
    assert str(error.value) == f"{trace}: no arrival times found"


def test_cli_reports_a_bad_trace_as_a_usage_error_not_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("arrival\n0\nsoon\n", encoding="utf-8")
    for trace, message in [("t.csv", "t.csv, line 3: 'soon' is neither seconds nor an ISO-8601 time"),
                           ("missing.csv", "[Errno 2] No such file or directory: 'missing.csv'")]:
        with pytest.raises(SystemExit) as exit_:
            planner.main(["--trace", trace])
        assert exit_.value.code == 2
        assert capsys.readouterr().err.endswith(f"cdk-glue-pipeline plan: error: --trace: {message}\n")
    assert not (tmp_path / planner.DEFAULT_OUT).exists()


@pytest.mark.parametrize("option, value, message", [
    ("--sizes", "5,x", "--sizes: a comma-separated list of whole numbers, got: '5,x'"),
    ("--windows", "60,", "--windows: a comma-separated list of seconds, got: '60,'"),
])
def test_cli_reports_a_list_that_does_not_parse(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_:
        planner.main([option, value])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(f"cdk-glue-pipeline plan: error: {message}\n")


def test_cli_writes_to_a_folder_of_the_current_directory_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert planner.main(["--sizes", "10", "--windows", "300"]) == 0
    assert capsys.readouterr().out.endswith(
        "wrote cdk-glue-pipeline-plan/table.md and cdk-glue-pipeline-plan/runs_vs_p95.png\n")
    assert sorted(p.name for p in (tmp_path / "cdk-glue-pipeline-plan").iterdir()) == ["runs_vs_p95.png", "table.md"]


def test_cli_writes_table_and_plot(tmp_path, capsys):
    assert planner.main(["--sizes", "10,100", "--windows", "300,900", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| batch 10 / 300 s |" in printed and "| Lambda per file | 60 |" in printed
    assert "assumptions: run = 45 s start + 0.5 s/file" in printed
    assert (tmp_path / "table.md").read_text().count("| batch ") == 4
    assert (tmp_path / "runs_vs_p95.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- liveness: drain loop, sweep alarm, dropped firings; worst latency; plot labels ----------------------------------

OLD_MODEL = planner.Liveness(drain_budget=0.0, sweep="off")       # one round per run, no sweep: the model before


def test_worst_latency_is_the_largest_upload_to_round_end():
    outcome = planner.batching_outcome([0.0, 10.0, 20.0], 100, 300, COST)
    # one run at 300, its round at 350 lasts 3 s: the first file waits longest
    assert outcome.worst == 300.0 + COST.startup_seconds + 3 * COST.seconds_per_file - 0.0


def test_a_run_pays_its_start_once_and_every_file_in_each_of_its_rounds():
    # batch of 2 fires at 2; round 1 at 52 takes 2 files; the uploads at 52.5 and 53 (their firing is dropped)
    # are taken by round 2 of the same run
    arrivals = [0.0, 2.0, 52.5, 53.0]
    schedule = planner.batching_schedule(arrivals, 2, 300, COST)
    (run,) = schedule.runs
    assert [len(rnd.objects) for rnd in run.rounds] == [2, 2]
    assert run.seconds == COST.startup_seconds + 4 * COST.seconds_per_file
    outcome = planner.batching_outcome(arrivals, 2, 300, COST)
    assert outcome.dpu_seconds == COST.dpu_seconds(COST.startup_seconds + 4 * COST.seconds_per_file)


def test_without_drain_loop_and_sweep_an_upload_during_the_only_run_is_never_processed():
    # run 1 fires at 1, its round (51..54) takes 3 files; 52 arrives during it, its firing (with 50) is dropped
    arrivals = [0.0, 1.0, 50.0, 52.0]
    old = planner.batching_outcome(arrivals, 2, 900, COST, liveness=OLD_MODEL)
    new = planner.batching_outcome(arrivals, 2, 900, COST)
    assert (old.unprocessed, old.worst, old.skipped_firings) == (1, math.inf, 1)
    assert (new.unprocessed, new.skipped_firings) == (0, 1)
    assert new.worst == 1.0 + COST.startup_seconds + 3 * COST.seconds_per_file - 0.0


def test_drop_firings_during_runs_drops_firings_below_max_concurrency():
    arrivals = [0.0, 1.0, 10.0, 11.0]       # firing 2 at 11 finds run 1 starting
    glue = planner.batching_outcome(arrivals, 2, 900, COST, max_concurrent_runs=2)
    pessimistic = planner.batching_outcome(arrivals, 2, 900, COST, max_concurrent_runs=2,
                                           liveness=planner.Liveness(drop_firings_during_runs=True))
    assert (glue.runs, glue.skipped_firings) == (2, 0)
    assert (pessimistic.runs, pessimistic.skipped_firings, pessimistic.unprocessed) == (1, 1, 0)


@pytest.mark.parametrize("text, window, expected", [
    ("window+900", 300.0, 1200.0), ("window + 60", 900.0, 960.0), ("1800", 300.0, 1800.0), ("off", 300.0, None),
    ("OFF", 60.0, None)])
def test_sweep_after_is_window_plus_n_a_fixed_value_or_off(text, window, expected):
    assert planner.Liveness(sweep=text).sweep_after(window) == expected


@pytest.mark.parametrize("text", ["soon", "window+", "-5", "window+-1000"])
def test_invalid_sweep_after_is_rejected(text):
    with pytest.raises(ValueError, match="sweep after must be"):
        planner.Liveness(sweep=text)


def test_cli_rejects_an_invalid_sweep_after(capsys):
    with pytest.raises(SystemExit):
        planner.main(["--sweep-after", "soon"])
    assert "sweep after must be" in capsys.readouterr().err


def test_lost_firing_latency_is_the_window_a_one_file_run_and_per_lost_firing_a_re_arm_period_and_a_window():
    liveness = planner.Liveness()
    window = 900.0
    per_lost_firing = liveness.rearm_period + liveness.sweep_period + window     # R + P >= sweep_after + P here
    assert planner.lost_firing_latency(window, COST, liveness) == window + COST.run_seconds(1) + per_lost_firing
    assert planner.lost_firing_latency(window, COST, liveness, lost=2) == (
        window + COST.run_seconds(1) + 2 * per_lost_firing)


@pytest.mark.parametrize("liveness", [planner.Liveness(sweep="off"), planner.Liveness(rearm_period=None)])
def test_lost_firing_latency_is_unbounded_with_the_sweep_or_the_periodic_re_arm_off(liveness):
    assert planner.lost_firing_latency(900.0, COST, liveness) == math.inf


@pytest.mark.parametrize("lost", [1, 2])
def test_a_lone_file_whose_upload_and_sweep_firings_are_lost_stays_within_the_lost_firing_latency(lost):
    # lost=1: its upload's firing; lost=2: the sweep's too (sent again after the periodic re-arm)
    liveness = planner.Liveness()
    window = 900.0
    worst = 0.0
    for arrival in [liveness.sweep_period * k + 0.001 for k in range(0, 60, 7)] + [1000.0, 2500.5]:
        schedule = batching.simulate([arrival], 100, window, lambda _s, o: COST.round_seconds(len(o)),
                                     run_start=COST.startup_seconds, drain_budget=liveness.drain_budget,
                                     sweep_after=liveness.sweep_after(window), sweep_period=liveness.sweep_period,
                                     rearm_period=liveness.rearm_period,
                                     drop=batching.drop_firings(*range(1, lost + 1)))
        assert schedule.unprocessed() == []
        worst = max(worst, schedule.worst_latency())
    assert planner.lost_firing_latency(window, COST, liveness, lost - 1) < worst
    assert worst <= planner.lost_firing_latency(window, COST, liveness, lost)


def test_cheapest_ignores_settings_that_leave_files_unprocessed():
    cheap_but_lossy = planner.Outcome("batch 1 / 60 s", 1, 1.0, 1.0, 10.0, unprocessed=1, size=1, window=60.0)
    complete = planner.Outcome("batch 5 / 60 s", 2, 1.0, 1.0, 20.0, size=5, window=60.0)
    assert planner.cheapest([cheap_but_lossy, complete]) is complete


def test_cli_prints_liveness_assumptions_and_the_cheapest_settings_worst_latency(tmp_path, capsys):
    assert planner.main(["--sizes", "10,100", "--windows", "300,900", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assumptions = next(line for line in printed.splitlines() if line.startswith("assumptions:"))
    assert "drain budget 1800 s per run" in assumptions
    assert "sweep alarm at oldest message >= window + 900 s evaluated every 60 s" in assumptions
    assert "re-armed (set OK) every 3600 s" in assumptions
    assert "a lone file whose firing is lost: up to " in assumptions
    summary = next(line for line in printed.splitlines() if line.startswith("cheapest batching:"))
    strategy = summary.split(":")[1].strip()
    row = next(line for line in printed.splitlines() if line.startswith(f"| {strategy} |"))
    worst = row.split("|")[5].strip()
    assert f"worst latency {worst} s" in summary
    assert f"worst latency of {strategy}: {worst} s" in assumptions
    assert "| worst latency (s) |" in printed
    assert summary in (tmp_path / "table.md").read_text()


def test_cli_options_reach_the_model(tmp_path, capsys):
    assert planner.main(["--sizes", "5", "--windows", "60", "--drain-budget", "0", "--sweep-after", "off",
                         "--sweep-period", "30", "--drop-firings-during-runs", "--max-files-per-run", "7",
                         "--out", str(tmp_path)]) == 0
    assumptions = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("assumptions:"))
    assert "drain budget 0 s per run, 7 files per round; sweep off" in assumptions
    assert "every firing during a run dropped" in assumptions


def test_cli_rearm_period_reaches_the_model_and_the_assumptions(tmp_path, capsys, monkeypatch):
    seen = []
    simulate = batching.simulate
    monkeypatch.setattr(batching, "simulate", lambda *a, **k: seen.append(k["rearm_period"]) or simulate(*a, **k))
    assert planner.main(["--sizes", "5", "--windows", "60", "--rearm-period", "900", "--out", str(tmp_path)]) == 0
    assumptions = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("assumptions:"))
    assert set(seen) == {900.0}
    assert "re-armed (set OK) every 900 s" in assumptions


def test_cli_rearm_period_off_turns_the_periodic_re_arm_off_and_leaves_lost_firings_unbounded(tmp_path, capsys):
    assert planner.main(["--sizes", "5", "--windows", "60", "--rearm-period", "off", "--out", str(tmp_path)]) == 0
    assumptions = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("assumptions:"))
    assert "no periodic re-arm" in assumptions
    assert "a lone file whose firing is lost: no bound" in assumptions


@pytest.mark.parametrize("text", ["0", "-60", "soon", "inf"])
def test_cli_rejects_an_invalid_rearm_period(text, capsys):
    with pytest.raises(SystemExit):
        planner.main(["--rearm-period", text])
    assert "rearm period must be > 0 seconds or off" in capsys.readouterr().err


def outcome(size, window, runs, p95):
    return planner.Outcome(f"batch {size} / {window:g} s", runs, p95, p95, 0.0, size=size, window=window)


def test_settings_on_the_same_point_share_one_label():
    labels = planner.point_labels([outcome(25, 300, 6, 350.0), outcome(50, 300, 6, 350.0), outcome(50, 600, 6, 350.0),
                                   outcome(25, 600, 6, 350.0), outcome(10, 300, 6, 160.0)])
    assert sorted(labels) == [(6, 160.0, "10 / 300 s"), (6, 350.0, "25, 50 / 300, 600 s")]


def test_a_label_lists_each_window_with_its_own_sizes():
    labels = planner.point_labels([outcome(5, 60, 8, 99.0), outcome(10, 60, 8, 99.0), outcome(5, 900, 8, 99.0)])
    assert labels == [(8, 99.0, "5, 10 / 60 s\n5 / 900 s")]


@pytest.mark.parametrize("arrivals, sizes, windows", [
    (scenario.bursty_trace(), [1, 5, 10, 25, 50, 100], [60, 300, 600, 900]),
    (scenario.friday_trace(), [1, 2, 3, 5, 8, 10, 20, 40, 60, 100], [30, 60, 120, 300, 450, 600, 900]),
])
def test_plot_labels_one_per_point_and_none_overlap(arrivals, sizes, windows):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    liveness = planner.Liveness(drop_firings_during_runs=True)
    batched = planner.sweep(arrivals, sizes, windows, COST, liveness=liveness)
    fig, annotations = planner.figure(batched, [planner.per_file_outcome(arrivals, COST)])
    try:
        renderer = fig.canvas.get_renderer()
        assert len(annotations) == len({(o.runs, round(o.p95)) for o in batched})
        boxes = [Text.get_window_extent(a, renderer) for a in annotations]
        overlapping = [(annotations[i].get_text(), annotations[j].get_text())
                       for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
        assert overlapping == []
        assert all(fig.bbox.x0 <= b.x0 and b.x1 <= fig.bbox.x1 and fig.bbox.y0 <= b.y0 and b.y1 <= fig.bbox.y1
                   for b in boxes)
    finally:
        plt.close(fig)


def test_the_command_prints_its_installed_version(capsys):
    from importlib.metadata import version

    from cdk_event_driven_glue_workflow_tools import cli

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"cdk-glue-pipeline {version('cdk-event-driven-glue-workflow-tools')}\n"

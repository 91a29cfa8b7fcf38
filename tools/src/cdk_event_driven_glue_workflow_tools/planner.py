"""Batching planner: choose ``batch_size`` and ``batch_window`` from an arrival trace.

    python -m cdk_event_driven_glue_workflow_tools.planner --scenario bursty
    python -m cdk_event_driven_glue_workflow_tools.planner --trace arrivals.csv --sizes 5,20,100 --windows 60,300,900

For every (size, window) it schedules the runs with Glue's batching semantics and
reports runs, p50/p95 latency from upload to output, and estimated DPU-seconds;
it compares them with starting one run per file (the S3 -> Lambda -> Glue recipe)
and with a fixed schedule. It writes a table (Markdown) and a PNG plot.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import pathlib
import statistics
import sys
from typing import Sequence

from . import batching, scenario


@dataclasses.dataclass
class CostModel:
    """How long a run takes and how it is billed. Printed with every report."""

    startup_seconds: float = 45.0       # Spark start on Glue 5.x workers, plus job setup
    seconds_per_file: float = 0.5       # read + convert + publish one small file
    workers: int = 2                    # G.1X workers; 1 DPU each
    dpu_per_worker: float = 1.0
    minimum_billed_seconds: float = 60.0

    def run_seconds(self, files: int) -> float:
        return self.startup_seconds + self.seconds_per_file * files

    def dpu_seconds(self, seconds: float) -> float:
        return max(self.minimum_billed_seconds, seconds) * self.workers * self.dpu_per_worker

    def describe(self) -> str:
        return (f"run = {self.startup_seconds:g} s start + {self.seconds_per_file:g} s/file; "
                f"{self.workers} workers x {self.dpu_per_worker:g} DPU; billed per second, "
                f"{self.minimum_billed_seconds:g} s minimum per run")


@dataclasses.dataclass
class Outcome:
    strategy: str
    runs: int
    p50: float
    p95: float
    dpu_seconds: float
    unprocessed: int = 0
    skipped_firings: int = 0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def batching_outcome(arrivals: Sequence[float], size: int, window: float, cost: CostModel,
                     max_concurrent_runs: int = 1) -> Outcome:
    schedule = batching.simulate(arrivals, size, window, lambda _start, objects: cost.run_seconds(len(objects)),
                                 max_concurrent_runs)
    latencies = schedule.latencies()
    return Outcome(
        strategy=f"batch {size} / {window:g} s",
        runs=len(schedule.runs),
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        dpu_seconds=sum(cost.dpu_seconds(r.seconds) for r in schedule.runs),
        unprocessed=len(schedule.unprocessed()),
        skipped_firings=sum(1 for f in schedule.firings if not f.started),
    )


def per_file_outcome(arrivals: Sequence[float], cost: CostModel) -> Outcome:
    """S3 -> Lambda -> StartJobRun: one run per file, started at once."""
    seconds = cost.run_seconds(1)
    latencies = [seconds] * len(arrivals)
    return Outcome("Lambda per file", len(arrivals), percentile(latencies, 50), percentile(latencies, 95),
                   len(arrivals) * cost.dpu_seconds(seconds))


def schedule_outcome(arrivals: Sequence[float], every_seconds: float, cost: CostModel,
                     horizon: float | None = None) -> Outcome:
    """A scheduled run every `every_seconds` over the trace, empty or not."""
    end = max(horizon or 0.0, max(arrivals) if arrivals else 0.0)
    ticks = max(1, math.ceil(end / every_seconds))
    ordered = sorted(arrivals)
    latencies, dpu, i = [], 0.0, 0
    for k in range(1, ticks + 1):
        tick = k * every_seconds
        batch = []
        while i < len(ordered) and ordered[i] <= tick:
            batch.append(ordered[i])
            i += 1
        seconds = cost.run_seconds(len(batch))
        dpu += cost.dpu_seconds(seconds)
        latencies.extend(tick + seconds - t for t in batch)
    return Outcome(f"schedule every {every_seconds / 60:g} min", ticks, percentile(latencies, 50),
                   percentile(latencies, 95), dpu)


def sweep(arrivals: Sequence[float], sizes: Sequence[int], windows: Sequence[float], cost: CostModel,
          max_concurrent_runs: int = 1) -> list[Outcome]:
    return [batching_outcome(arrivals, s, w, cost, max_concurrent_runs) for s in sizes for w in windows]


def markdown_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| strategy | runs | p50 latency (s) | p95 latency (s) | DPU-seconds | not processed | skipped firings |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for o in outcomes:
        lines.append(f"| {o.strategy} | {o.runs} | {o.p50:.0f} | {o.p95:.0f} | {o.dpu_seconds:.0f} | "
                     f"{o.unprocessed} | {o.skipped_firings} |")
    return "\n".join(lines)


def plot(batched: Sequence[Outcome], alternatives: Sequence[Outcome], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    ax.scatter([o.runs for o in batched], [o.p95 for o in batched], label="Glue EVENT trigger batching")
    for o in batched:
        ax.annotate(o.strategy.replace("batch ", ""), (o.runs, o.p95), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    for marker, o in zip(["s", "^", "D", "v"], alternatives):
        ax.scatter([o.runs], [o.p95], marker=marker, s=70, label=o.strategy)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("job runs over the trace (log scale)")
    ax.set_ylabel("p95 latency, upload to output (s, log scale)")
    ax.set_title("Runs against p95 latency")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--trace", help="CSV of arrival times (seconds or ISO-8601), one per row")
    source.add_argument("--scenario", default="bursty", choices=["bursty"],
                        help="generated trace: 6 bursts of 10 files in 2 minutes over 24 h (default)")
    parser.add_argument("--sizes", default="1,5,10,25,50,100")
    parser.add_argument("--windows", default="60,300,600,900")
    parser.add_argument("--schedule-minutes", type=float, default=15.0)
    parser.add_argument("--max-concurrent-runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--startup-seconds", type=float, default=45.0)
    parser.add_argument("--seconds-per-file", type=float, default=0.5)
    parser.add_argument("--out", default="bench/out/planner", help="folder for table.md and runs_vs_p95.png")
    args = parser.parse_args(argv)

    arrivals = scenario.read_trace(args.trace) if args.trace else scenario.bursty_trace()
    horizon = None if args.trace else 24 * 3600.0
    cost = CostModel(args.startup_seconds, args.seconds_per_file, args.workers)
    sizes = [int(s) for s in args.sizes.split(",")]
    windows = [float(w) for w in args.windows.split(",")]
    for size in sizes:
        if not 1 <= size <= 100:
            parser.error(f"--sizes: each batch size must be between 1 and 100, got: {size}")
    for window in windows:
        if not 1 <= window <= 900:
            parser.error(f"--windows: each window must be between 1 and 900 seconds, got: {window:g}")

    batched = sweep(arrivals, sizes, windows, cost, args.max_concurrent_runs)
    alternatives = [per_file_outcome(arrivals, cost),
                    schedule_outcome(arrivals, args.schedule_minutes * 60.0, cost, horizon)]
    span_h = (max(arrivals) - min(arrivals)) / 3600.0
    print(f"trace: {len(arrivals)} files over {span_h:.1f} h ({args.trace or 'scenario ' + args.scenario})")
    print(f"assumptions: {cost.describe()}; max concurrent runs {args.max_concurrent_runs}")
    table = markdown_table(batched + alternatives)
    print(table)
    best = min(batched, key=lambda o: (o.dpu_seconds, o.p95))
    print(f"\ncheapest batching: {best.strategy}: {best.runs} runs, p95 {best.p95:.0f} s, "
          f"{best.dpu_seconds:.0f} DPU-s (Lambda per file: {alternatives[0].dpu_seconds:.0f} DPU-s)")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(f"assumptions: {cost.describe()}\n\n{table}\n", encoding="utf-8")
    plot(batched, alternatives, out / "runs_vs_p95.png")
    print(f"wrote {out / 'table.md'} and {out / 'runs_vs_p95.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Batching planner: choose ``batch_size`` and ``batch_window`` from an arrival trace.

    python -m cdk_event_driven_glue_workflow_tools.planner --scenario bursty
    python -m cdk_event_driven_glue_workflow_tools.planner --trace arrivals.csv --sizes 5,20,100 --windows 60,300,900

For every (size, window) it schedules the runs with Glue's batching semantics and
the product's liveness features (``batching``: the drain loop with its budget, the
sweep alarm and the end-of-run re-arm) and reports runs, p50/p95 and worst latency
from upload to output, objects never processed, dropped ("skipped") firings and
estimated DPU-seconds; it compares them with starting one run per file (the
S3 -> Lambda -> Glue recipe) and with a fixed schedule. It writes a table
(Markdown) and a PNG plot.

    --drain-budget 1800            a run drains the ledger in rounds until nothing waits or this is spent
    --sweep-after window+900       the sweep alarm's age threshold: window+N per setting, N seconds, or off
    --sweep-period 60              how often the alarm is evaluated
    --rearm-period 3600            a schedule sets the alarm to OK this often (a lost sweep event is sent again), or off
    --drop-firings-during-runs     the pessimistic Glue model: every firing during a run is dropped
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import pathlib
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
        """A run that processes `files` in one round."""
        return self.startup_seconds + self.seconds_per_file * files

    def round_seconds(self, files: int) -> float:
        """One drain round of `files`; the start is paid once per run, not per round."""
        return self.seconds_per_file * files

    def dpu_seconds(self, seconds: float) -> float:
        return max(self.minimum_billed_seconds, seconds) * self.workers * self.dpu_per_worker

    def describe(self) -> str:
        return (f"run = {self.startup_seconds:g} s start + {self.seconds_per_file:g} s/file "
                f"(start once per run, files in every drain round); "
                f"{self.workers} workers x {self.dpu_per_worker:g} DPU; billed per second, "
                f"{self.minimum_billed_seconds:g} s minimum per run")


@dataclasses.dataclass(frozen=True)
class Liveness:
    """The product's liveness settings, as the planner models them. Printed with every report."""

    drain_budget: float = batching.DRAIN_BUDGET
    sweep: str = f"window+{batching.SWEEP_MARGIN:g}"    # "window+N" (per setting), "N" seconds, or "off"
    sweep_period: float = batching.SWEEP_PERIOD
    drop_firings_during_runs: bool = False
    handover_lag: float = 0.0
    max_files_per_run: int = 1000
    rearm_period: float | None = batching.REARM_PERIOD     # None: no periodic re-arm

    def __post_init__(self):
        self._sweep()   # validates `sweep`
        if self.drain_budget < 0 or self.sweep_period <= 0 or self.handover_lag < 0 or self.max_files_per_run < 1:
            raise ValueError("drain budget and handover lag must be >= 0, sweep period > 0, max files per run >= 1")
        if self.rearm_period is not None and not self.rearm_period > 0:
            raise ValueError(f"rearm period must be > 0 seconds or off, got: {self.rearm_period}")

    def _sweep(self) -> tuple[bool, float] | None:
        """(relative to the window?, seconds), or None when the sweep is off."""
        text = self.sweep.strip().lower().replace(" ", "")
        if text == "off":
            return None
        relative = text.startswith("window+")
        try:
            seconds = float(text[len("window+"):] if relative else text)
        except ValueError:
            raise ValueError(f"sweep after must be 'window+N', a number of seconds or 'off', got: {self.sweep!r}")
        if seconds < 0 or math.isnan(seconds):
            raise ValueError(f"sweep after must be >= 0 seconds, got: {self.sweep!r}")
        return relative, seconds

    def sweep_after(self, window: float) -> float | None:
        """The alarm's threshold for a trigger window, None when the sweep is off."""
        parsed = self._sweep()
        if parsed is None:
            return None
        relative, seconds = parsed
        return window + seconds if relative else seconds

    def describe(self) -> str:
        parsed = self._sweep()
        if parsed is None:
            sweep = "sweep off (only uploads start runs)"
        else:
            threshold = f"window + {parsed[1]:g}" if parsed[0] else f"{parsed[1]:g}"
            rearm = ("no periodic re-arm" if self.rearm_period is None
                     else f"re-armed (set OK) every {self.rearm_period:g} s")
            sweep = (f"sweep alarm at oldest message >= {threshold} s evaluated every {self.sweep_period:g} s, "
                     f"set OK at each run's end (and ALARM at once when the run and every waiting file are younger "
                     f"than that), {rearm}")
        drops = "every firing during a run dropped" if self.drop_firings_during_runs else \
            "firings finding max concurrent runs dropped"
        handover = ("end-of-run event at the run's end, which no longer counts as in progress" if not self.handover_lag
                    else f"end-of-run event {self.handover_lag:g} s before Glue ends the run")
        return (f"drain budget {self.drain_budget:g} s per run, {self.max_files_per_run} files per round; {sweep}; "
                f"{drops}; {handover}")


@dataclasses.dataclass
class Outcome:
    strategy: str
    runs: int
    p50: float
    p95: float
    dpu_seconds: float
    unprocessed: int = 0
    skipped_firings: int = 0
    worst: float = math.nan             # worst latency; inf when some object is never processed
    size: int | None = None             # the batching setting, for batching outcomes
    window: float | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def batching_schedule(arrivals: Sequence[float], size: int, window: float, cost: CostModel,
                      max_concurrent_runs: int = 1, liveness: Liveness | None = None) -> batching.Schedule:
    """The runs for one setting: the cost model's start once per run, its per-file seconds in every round."""
    liveness = liveness or Liveness()
    return batching.simulate(
        arrivals, size, window, lambda _start, objects: cost.round_seconds(len(objects)), max_concurrent_runs,
        liveness.max_files_per_run, run_start=cost.startup_seconds, drain_budget=liveness.drain_budget,
        sweep_after=liveness.sweep_after(window), sweep_period=liveness.sweep_period,
        handover_lag=liveness.handover_lag,
        drop=batching.drop_during_runs if liveness.drop_firings_during_runs else None,
        rearm_period=liveness.rearm_period)


def batching_outcome(arrivals: Sequence[float], size: int, window: float, cost: CostModel,
                     max_concurrent_runs: int = 1, liveness: Liveness | None = None) -> Outcome:
    schedule = batching_schedule(arrivals, size, window, cost, max_concurrent_runs, liveness)
    latencies = schedule.latencies()
    unprocessed = len(schedule.unprocessed())
    return Outcome(
        strategy=f"batch {size} / {window:g} s",
        runs=len(schedule.runs),
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        dpu_seconds=sum(cost.dpu_seconds(r.seconds) for r in schedule.runs),
        unprocessed=unprocessed,
        skipped_firings=sum(1 for f in schedule.firings if not f.started),
        worst=math.inf if unprocessed else schedule.worst_latency(),
        size=size,
        window=window,
    )


def lost_firing_latency(window: float, cost: CostModel, liveness: Liveness, lost: int = 1) -> float:
    """Worst latency of a lone file (nothing ahead of it, no run in progress, its round holds it alone) when
    `lost` firings are lost while it waits, of any kind (its upload's, the sweep's, ...):
    :func:`batching.latency_bound`, i.e. window + a one-file run + `lost` * (the wait for the next alarm event,
    up to re-arm period + sweep period, or sweep_after + sweep period, + window). inf with the sweep off, or
    with the periodic re-arm off (a lost alarm event is never sent again)."""
    return batching.latency_bound(
        0, batch_window=window, startup_seconds=cost.startup_seconds, seconds_per_file=cost.seconds_per_file,
        max_files_per_run=1, drain_budget=liveness.drain_budget, sweep_after=liveness.sweep_after(window),
        sweep_period=liveness.sweep_period, rearm_period=liveness.rearm_period, lost_firings=lost,
        run_in_progress=False)


def per_file_outcome(arrivals: Sequence[float], cost: CostModel) -> Outcome:
    """S3 -> Lambda -> StartJobRun: one run per file, started at once."""
    seconds = cost.run_seconds(1)
    latencies = [seconds] * len(arrivals)
    return Outcome("Lambda per file", len(arrivals), percentile(latencies, 50), percentile(latencies, 95),
                   len(arrivals) * cost.dpu_seconds(seconds), worst=max(latencies, default=math.nan))


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
                   percentile(latencies, 95), dpu, worst=max(latencies, default=math.nan))


def sweep(arrivals: Sequence[float], sizes: Sequence[int], windows: Sequence[float], cost: CostModel,
          max_concurrent_runs: int = 1, liveness: Liveness | None = None) -> list[Outcome]:
    """Every (size, window) setting. (A parameter sweep; not the sweep alarm.)"""
    return [batching_outcome(arrivals, s, w, cost, max_concurrent_runs, liveness) for s in sizes for w in windows]


def seconds(value: float) -> str:
    return "never" if value == math.inf else f"{value:.0f}"


def markdown_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| strategy | runs | p50 latency (s) | p95 latency (s) | worst latency (s) | DPU-seconds | not processed "
             "| skipped firings |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for o in outcomes:
        lines.append(f"| {o.strategy} | {o.runs} | {o.p50:.0f} | {o.p95:.0f} | {seconds(o.worst)} | "
                     f"{o.dpu_seconds:.0f} | {o.unprocessed} | {o.skipped_firings} |")
    return "\n".join(lines)


def cheapest(batched: Sequence[Outcome]) -> Outcome:
    """The cheapest setting that processes every object (any setting when none does), then the lowest p95."""
    complete = [o for o in batched if o.unprocessed == 0] or list(batched)
    return min(complete, key=lambda o: (o.dpu_seconds, o.p95))


def _short(o: Outcome) -> str:
    return o.strategy.replace("batch ", "")


def point_labels(outcomes: Sequence[Outcome]) -> list[tuple[int, float, str]]:
    """One label per distinct point, listing every setting on it.

    Points are equal when their runs and their p95 to the second (as the table shows them) are equal;
    the label sits at the first one's p95. Settings are written "sizes / windows", windows with the same
    sizes merged, e.g. "25, 50, 100 / 300, 600 s", one line per set of sizes, by smallest window."""
    groups: dict[tuple[int, float], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.runs, round(o.p95)), []).append(o)
    labels = []
    for members in groups.values():
        sizes_by_window: dict[float, set[int]] = {}
        others = []
        for o in members:
            if o.window is None or o.size is None:
                others.append(_short(o))
            else:
                sizes_by_window.setdefault(o.window, set()).add(o.size)
        windows_by_sizes: dict[tuple[int, ...], list[float]] = {}
        for window in sorted(sizes_by_window):
            windows_by_sizes.setdefault(tuple(sorted(sizes_by_window[window])), []).append(window)
        lines = [f"{', '.join(map(str, sizes))} / {', '.join(f'{w:g}' for w in windows)} s"
                 for sizes, windows in sorted(windows_by_sizes.items(), key=lambda item: item[1][0])]
        labels.append((members[0].runs, members[0].p95, "\n".join(lines + others)))
    return labels


# Label offsets tried, in points: near the point first, then further out (with a leader line).
_RINGS = (6, 16, 30, 46, 64, 84)
_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))


def _place_labels(ax, labels: Sequence[tuple[float, float, str]], points: Sequence[tuple[float, float]],
                  keep_clear: Sequence = (), fontsize: float = 7):
    """Annotates each point, trying offsets until its text overlaps no label placed so far, no marker, none of
    the `keep_clear` display boxes (the legend) and stays in the figure."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    placed = list(keep_clear) + [Bbox.from_bounds(px - 4, py - 4, 8, 8)
                                 for px, py in (ax.transData.transform(point) for point in points)]
    annotations = []
    for x, y, text in sorted(labels, key=lambda label: (label[0], label[1])):
        chosen = None
        for ring in _RINGS:
            for dx, dy in _DIRECTIONS:
                ann = ax.annotate(text, (x, y), xytext=(dx * ring, dy * ring), textcoords="offset points",
                                  fontsize=fontsize, ha="left" if dx > 0 else "right" if dx < 0 else "center",
                                  va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                                  arrowprops=None if ring == _RINGS[0] else
                                  dict(arrowstyle="-", lw=0.5, color="0.5", shrinkA=0, shrinkB=3))
                ann.update_positions(renderer)
                box = Text.get_window_extent(ann, renderer).padded(1)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                if inside and not any(box.overlaps(other) for other in placed):
                    chosen = ann, box
                    break
                ann.remove()
            if chosen:
                break
        if chosen is None:   # crowded: accept the first offset of the outermost ring
            ann = ax.annotate(text, (x, y), xytext=(_RINGS[-1], _RINGS[-1]), textcoords="offset points",
                              fontsize=fontsize, arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5"))
            ann.update_positions(renderer)
            chosen = ann, Text.get_window_extent(ann, renderer)
        annotations.append(chosen[0])
        placed.append(chosen[1])
    return annotations


def figure(batched: Sequence[Outcome], alternatives: Sequence[Outcome]):
    """The runs-against-p95 figure and its point labels (one per distinct point, placed apart)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 7))
    ax.scatter([o.runs for o in batched], [o.p95 for o in batched], label="Glue EVENT trigger batching")
    for marker, o in zip(["s", "^", "D", "v"], alternatives):
        ax.scatter([o.runs], [o.p95], marker=marker, s=70, label=o.strategy)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(0.15)
    ax.set_xlabel("job runs over the trace (log scale)")
    ax.set_ylabel("p95 latency, upload to output (s, log scale)")
    ax.set_title("Runs against p95 latency (labels: batch size / window; settings on one point share a label)")
    ax.title.set_fontsize(10)
    ax.grid(True, alpha=0.3)
    legend = ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    fig.tight_layout()
    fig.canvas.draw()
    points = [(o.runs, o.p95) for o in list(batched) + list(alternatives)]
    keep_clear = [legend.get_window_extent(fig.canvas.get_renderer()).padded(2)]
    return fig, _place_labels(ax, point_labels(batched), points, keep_clear)


def plot(batched: Sequence[Outcome], alternatives: Sequence[Outcome], path: pathlib.Path) -> None:
    import matplotlib.pyplot as plt

    fig, _ = figure(batched, alternatives)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


#: Where ``plan`` writes table.md and runs_vs_p95.png unless --out says otherwise: a folder of the
#: current directory, named after the command.
DEFAULT_OUT = "cdk-glue-pipeline-plan"


def _rearm_period(text: str) -> float | None:
    """--rearm-period: seconds > 0, or off."""
    if text.strip().lower() == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or value == math.inf:
        raise argparse.ArgumentTypeError(f"rearm period must be > 0 seconds or off, got: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdk-glue-pipeline plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--trace", help="CSV of arrival times, one per row in its first column, in seconds or "
                                        "ISO-8601; a header row (such as 'arrival') is skipped "
                                        "(default: none, the --scenario trace)")
    source.add_argument("--scenario", default="bursty", choices=["bursty", "friday"],
                        help="generated trace: bursty, 6 bursts of 10 files in 2 minutes over 24 h; "
                             "friday, a working week ending with a burst of 40, then nothing (7 days) "
                             "(default: %(default)s)")
    parser.add_argument("--sizes", default="1,5,10,25,50,100",
                        help="batch sizes to compare, comma-separated, each 1 to 100 (default: %(default)s)")
    parser.add_argument("--windows", default="60,300,600,900",
                        help="batch windows to compare, in seconds, comma-separated, each 1 to 900 "
                             "(default: %(default)s)")
    parser.add_argument("--schedule-minutes", type=float, default=15.0,
                        help="the fixed schedule compared with batching: a run every N minutes "
                             "(default: %(default)g)")
    parser.add_argument("--max-concurrent-runs", type=int, default=1,
                        help="the workflow's maxConcurrentRuns (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="workers of 1 DPU per run (default: %(default)s)")
    parser.add_argument("--startup-seconds", type=float, default=45.0,
                        help="seconds a run takes to start, paid once per run (default: %(default)g)")
    parser.add_argument("--seconds-per-file", type=float, default=0.5,
                        help="seconds a run takes per file, in every drain round (default: %(default)g)")
    parser.add_argument("--max-files-per-run", type=int, default=1000,
                        help="files per drain round (default: %(default)s)")
    parser.add_argument("--drain-budget", type=float, default=batching.DRAIN_BUDGET,
                        help="seconds after its start a run stops starting drain rounds (default: %(default)g)")
    parser.add_argument("--sweep-after", default=f"window+{batching.SWEEP_MARGIN:g}",
                        help="the sweep alarm's oldest-message age: window+N (per setting), N seconds, or off "
                             "(default: %(default)s)")
    parser.add_argument("--sweep-period", type=float, default=batching.SWEEP_PERIOD,
                        help="seconds between alarm evaluations (default: %(default)g)")
    parser.add_argument("--rearm-period", type=_rearm_period, default=batching.REARM_PERIOD,
                        help="seconds between the schedule's re-arms of the sweep alarm (set OK), or off "
                             "(default: %(default)g)")
    parser.add_argument("--drop-firings-during-runs", action="store_true",
                        help="the pessimistic Glue model: drop every firing while a run is in progress "
                             "(default: off, only firings that find max concurrent runs are dropped)")
    parser.add_argument("--handover-lag", type=float, default=0.0,
                        help="seconds Glue still counts a run in progress after its end-of-run event "
                             "(default: %(default)g)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="folder for table.md and runs_vs_p95.png, created if missing "
                             "(default: %(default)s, in the current folder)")
    args = parser.parse_args(argv)

    try:
        liveness = Liveness(args.drain_budget, args.sweep_after, args.sweep_period, args.drop_firings_during_runs,
                            args.handover_lag, args.max_files_per_run, args.rearm_period)
    except ValueError as error:
        parser.error(str(error))
    if args.trace:
        try:
            arrivals, horizon = scenario.read_trace(args.trace), None
        except (OSError, ValueError) as error:
            parser.error(f"--trace: {error}")
    elif args.scenario == "friday":
        arrivals, horizon = scenario.friday_trace(), 7 * 24 * 3600.0
    else:
        arrivals, horizon = scenario.bursty_trace(), 24 * 3600.0
    cost = CostModel(args.startup_seconds, args.seconds_per_file, args.workers)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: a comma-separated list of whole numbers, got: {args.sizes!r}")
    try:
        windows = [float(w) for w in args.windows.split(",")]
    except ValueError:
        parser.error(f"--windows: a comma-separated list of seconds, got: {args.windows!r}")
    for size in sizes:
        if not 1 <= size <= 100:
            parser.error(f"--sizes: each batch size must be between 1 and 100, got: {size}")
    for window in windows:
        if not 1 <= window <= 900:
            parser.error(f"--windows: each window must be between 1 and 900 seconds, got: {window:g}")

    batched = sweep(arrivals, sizes, windows, cost, args.max_concurrent_runs, liveness)
    alternatives = [per_file_outcome(arrivals, cost),
                    schedule_outcome(arrivals, args.schedule_minutes * 60.0, cost, horizon)]
    span_h = (max(arrivals) - min(arrivals)) / 3600.0
    print(f"trace: {len(arrivals)} files over {span_h:.1f} h ({args.trace or 'scenario ' + args.scenario})")
    best = cheapest(batched)
    one, two = (lost_firing_latency(best.window, cost, liveness, lost) for lost in (1, 2))
    lost_firing = (f"up to {one:.0f} s, each further lost firing (the sweep's too): up to +{two - one:.0f} s"
                   if one < math.inf else "no bound (with the sweep or the periodic re-arm off, a lost alarm event "
                                          "is never sent again)")
    assumptions = (f"assumptions: {cost.describe()}; max concurrent runs {args.max_concurrent_runs}; "
                   f"{liveness.describe()}; latency = end of the object's round - upload; worst latency of "
                   f"{best.strategy}: {seconds(best.worst)} s in this trace, a lone file whose firing is lost: "
                   f"{lost_firing}")
    print(assumptions)
    table = markdown_table(batched + alternatives)
    print(table)
    summary = (f"cheapest batching: {best.strategy}: {best.runs} runs, p95 {best.p95:.0f} s, "
               f"worst latency {seconds(best.worst)} s, {best.dpu_seconds:.0f} DPU-s "
               f"(Lambda per file: {alternatives[0].dpu_seconds:.0f} DPU-s)")
    if best.unprocessed:
        summary += f"; no setting processes every file: {best.unprocessed} never processed"
    print(f"\n{summary}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(f"{assumptions}\n\n{table}\n\n{summary}\n", encoding="utf-8")
    plot(batched, alternatives, out / "runs_vs_p95.png")
    print(f"wrote {out / 'table.md'} and {out / 'runs_vs_p95.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

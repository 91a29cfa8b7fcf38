"""Glue EVENT-trigger batching on a virtual clock.

The model, for one workflow with one EVENT trigger:

- The trigger collects events. It fires when ``batch_size`` events have arrived,
  or ``batch_window`` seconds after the first event of the batch, whichever comes
  first; then it starts a new, empty batch.
- A firing starts a workflow run if fewer than ``max_concurrent_runs`` runs are in
  progress; otherwise that run is not started (Glue rejects it with
  ConcurrentRunsExceededException) and the firing is recorded as skipped.
- A run drains the event ledger when it starts: it processes every object that
  has arrived and is not yet taken by an earlier run, up to ``max_files_per_run``.
  So an object whose firing was skipped, or that arrived during a run, is
  processed by a later run; it is never lost, only later.
"""
from __future__ import annotations

import dataclasses
import heapq
from typing import Callable, Sequence

BATCH_SIZE = "BatchSize"
BATCH_WINDOW = "BatchWindow"


@dataclasses.dataclass
class Firing:
    """One firing of the trigger."""

    time: float
    reason: str          # BatchSize or BatchWindow
    events: int          # events in the batch that fired
    started: bool        # False when max concurrent runs were in progress


@dataclasses.dataclass
class Run:
    """One workflow run and the objects it processed."""

    index: int
    start: float
    end: float
    reason: str
    events: int                     # events in the batch that started it
    objects: list[int]              # indexes into the arrival list

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclasses.dataclass
class Schedule:
    firings: list[Firing]
    runs: list[Run]
    arrivals: list[float]

    def latencies(self) -> list[float]:
        """Seconds from each object's arrival to the end of the run that processed it."""
        done = {}
        for run in self.runs:
            for i in run.objects:
                done[i] = run.end - self.arrivals[i]
        return [done[i] for i in sorted(done)]

    def unprocessed(self) -> list[int]:
        taken = {i for run in self.runs for i in run.objects}
        return [i for i in range(len(self.arrivals)) if i not in taken]


def fire_times(arrivals: Sequence[float], batch_size: int, batch_window: float) -> list[tuple[float, str, int]]:
    """When the trigger fires for sorted arrival times: (time, reason, events in batch)."""
    if batch_size < 1 or batch_window <= 0:
        raise ValueError(f"batch_size must be >= 1 and batch_window > 0, got {batch_size} and {batch_window}")
    firings = []
    first = None
    count = 0
    for t in arrivals:
        if first is not None and t >= first + batch_window:
            firings.append((first + batch_window, BATCH_WINDOW, count))
            first, count = None, 0
        if first is None:
            first = t
        count += 1
        if count == batch_size:
            firings.append((t, BATCH_SIZE, count))
            first, count = None, 0
    if first is not None:
        firings.append((first + batch_window, BATCH_WINDOW, count))
    return firings


def simulate(
    arrivals: Sequence[float],
    batch_size: int,
    batch_window: float,
    run: Callable[[float, list[int]], float],
    max_concurrent_runs: int = 1,
    max_files_per_run: int = 1000,
) -> Schedule:
    """Schedules the runs for a trace.

    ``run(start, objects)`` is called, in start order, for every run that starts,
    with the indexes of the objects it drains; it returns the run's duration in
    seconds (a model for the planner, a real job run for the local runner).
    """
    order = sorted(range(len(arrivals)), key=lambda i: arrivals[i])
    times = [arrivals[i] for i in order]
    firings: list[Firing] = []
    runs: list[Run] = []
    in_progress: list[float] = []      # end times, a heap
    next_object = 0                    # position in `order` of the first object not yet taken
    for time, reason, events in fire_times(times, batch_size, batch_window):
        while in_progress and in_progress[0] <= time:
            heapq.heappop(in_progress)
        if len(in_progress) >= max_concurrent_runs:
            firings.append(Firing(time, reason, events, started=False))
            continue
        firings.append(Firing(time, reason, events, started=True))
        taken = []
        while next_object < len(order) and times[next_object] <= time and len(taken) < max_files_per_run:
            taken.append(order[next_object])
            next_object += 1
        end = time + run(time, taken)
        heapq.heappush(in_progress, end)
        runs.append(Run(len(runs) + 1, time, end, reason, events, taken))
    return Schedule(firings, runs, list(arrivals))

"""Glue EVENT-trigger batching, the ledger drain loop and the sweep alarm on a virtual clock.

The model, for one workflow with one EVENT trigger:

- **The trigger** collects events. It fires when ``batch_size`` events have
  arrived, or ``batch_window`` seconds after the first event of the batch,
  whichever comes first; then it starts a new, empty batch. An event that
  arrives exactly when the window ends starts the next batch. Events are the
  uploads' ``NotifyEvent`` calls and the sweep alarm's (below).
- **A firing** starts a workflow run, unless it is *dropped*: Glue does not
  guarantee delivery, and what it does with a firing that finds
  ``max_concurrent_runs`` runs in progress is not documented, so such a firing
  is modelled as dropped (``Firing.dropped == MAX_CONCURRENT_RUNS``). The
  optional fault model ``drop(firing) -> bool`` drops more firings
  (``Firing.dropped == FAULT``): see :func:`drop_during_runs` and
  :func:`drop_firings`.
- **A run** pays a start overhead (``run_start``), then drains the ledger in
  rounds. Round r starts at t_r and takes, oldest first, up to
  ``max_files_per_run`` objects that have arrived by t_r and are not taken;
  ``run_round(t_r, objects)`` returns its seconds, and the objects are deleted
  from the ledger when the round ends. The first round always runs (it may find
  nothing). After a round the run does another round if objects are waiting
  (uploads during the run included) and the time since the run started is
  below ``drain_budget``; otherwise it ends. ``drain_budget=0`` gives one round
  per run (the model before the drain loop).
- **The sweep** (``sweep_after`` seconds, ``None`` turns it off) is a
  CloudWatch alarm on the ledger's age of oldest message. The age counts every
  message not yet deleted, so also the ones a running round has taken. The
  alarm is evaluated every ``sweep_period`` seconds on a fixed grid
  (0, P, 2P, ...); an evaluation sees the age at that instant. OK -> ALARM when
  age >= ``sweep_after``: that transition sends ONE event to the trigger.
  ALARM -> OK when age < ``sweep_after``; no event. While ALARM, nothing more is sent.
  **A state that is set** (SetAlarmState, by the job or the re-arm schedule, below) at
  time t stands until the first evaluation at or after t + P; the evaluations in between
  are skipped. So a transition the evaluation makes after a set state comes at least one
  period after it.
- **The hand-over (end of every run).** At the end of its last round (time t) the job
  sets the alarm to OK (the re-arm). It then sets ALARM at once (an OK -> ALARM
  transition, so one event to the trigger at t) ONLY when objects are waiting in the
  ledger AND the run lasted less than ``sweep_after`` (the job's clock: t - its first
  round's start) AND every waiting object arrived less than ``sweep_after`` before t.
  Otherwise it only re-arms, and the evaluation turns OK into ALARM, at the first grid
  point at or after t + P where the oldest message is at least ``sweep_after`` old.
  Should the immediate event be lost, the waiting objects are younger than
  ``sweep_after``, so an evaluation returns the alarm to OK and it re-arms itself (unless
  the oldest reaches ``sweep_after`` first: then the periodic re-arm does); when they are
  old, the evaluation, not the job, makes the transition, after the run.
  ``Run.alarm_at_end`` tells which.
- **The periodic re-arm** (``rearm_period`` seconds, ``None`` turns it off): a
  schedule sets the alarm to OK at 0, R, 2R, ... Setting OK on an alarm already OK
  changes nothing (no event, no held state). Setting OK on an alarm in ALARM is a
  transition to OK (no event; ``Schedule.rearms`` lists them), and the evaluation at the
  first grid point at or after it + P turns it back to ALARM, a new event, if the oldest
  message is still at least ``sweep_after`` old. So a lost alarm event is sent again
  within ``rearm_period`` + ``sweep_period`` (+ one more period when R is not a multiple
  of P) of the loss. Re-arms are the only happening that recurs without end: they are
  simulated up to ``horizon`` (default: :data:`HORIZON` after the last upload), all
  else until nothing more can happen.

Assumption: the end-of-run event arrives at the end of the run's last round,
and a run that ends at time ``end`` is no longer in progress at ``end`` (so a
firing at ``end`` can start a run). ``handover_lag`` > 0 is the pessimistic
model: Glue still counts the run as in progress for ``handover_lag`` seconds
after its last round (shutdown, state change), so the event arrives
``handover_lag`` s before the run's end (``Run.end`` = last round's end + lag).

Ordering of simultaneous happenings, at one instant: uploads enter the ledger;
rounds end (their objects are deleted, runs decide to go on or end, the job sets the
alarm, runs end); the re-arm schedule sets OK; the alarm is evaluated (unless a set
state stands); a batch whose window ends fires; events reach the trigger (in the order
they were sent; a full batch fires at once); rounds start.

Latency of an object = end of the round that took it - its arrival.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from typing import Callable, Sequence, Union

BATCH_SIZE = "BatchSize"
BATCH_WINDOW = "BatchWindow"

# Why a firing started no run.
MAX_CONCURRENT_RUNS = "MaxConcurrentRuns"
FAULT = "fault"

# Alarm states and the sources of alarm events.
OK = "OK"
ALARM = "ALARM"
SWEEP = "sweep"          # an evaluation found the oldest message at least sweep_after old
HANDOVER = "handover"    # a run ended with objects still waiting

# The product's liveness defaults (the planner uses them; simulate() defaults to the older model).
DRAIN_BUDGET = 1800.0
SWEEP_PERIOD = 60.0
SWEEP_MARGIN = 900.0     # sweep_after = batch_window + SWEEP_MARGIN
REARM_PERIOD = 3600.0    # the schedule that sets the sweep alarm to OK
HORIZON = 7 * 24 * 3600.0   # re-arms are simulated this long after the last upload (by default)


def default_sweep_after(batch_window: float) -> float:
    """The product's default sweep threshold for a trigger window."""
    return batch_window + SWEEP_MARGIN


@dataclasses.dataclass
class Firing:
    """One firing of the trigger."""

    time: float
    reason: str                 # BatchSize or BatchWindow
    events: int                 # events in the batch that fired (alarm events included)
    started: bool               # False when the firing was dropped
    number: int = 0             # 1, 2, ... in time order
    alarm_events: int = 0       # how many of the events came from the sweep alarm
    runs_in_progress: int = 0   # when it fired
    dropped: str = ""           # "" (started), MaxConcurrentRuns or fault


@dataclasses.dataclass
class Round:
    """One drain round of a run."""

    start: float
    end: float
    objects: list[int]          # indexes into the arrival list, oldest first


@dataclasses.dataclass
class Run:
    """One workflow run and the objects it processed."""

    index: int
    start: float
    end: float                          # last round's end + handover_lag
    reason: str
    events: int                         # events in the batch that started it
    objects: list[int]                  # every object of every round, in round order
    rounds: list[Round] = dataclasses.field(default_factory=list)
    alarm_events: int = 0               # alarm events in the batch that started it
    left_waiting: int = 0               # objects waiting in the ledger when it ended
    alarm_at_end: str = ""              # the state the job left the sweep alarm in ("" with the sweep off)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def handed_over(self) -> bool:
        """It ended with objects waiting (drain budget spent)."""
        return self.left_waiting > 0


@dataclasses.dataclass
class AlarmEvent:
    """An OK -> ALARM transition of the sweep alarm: one event sent to the trigger."""

    time: float
    source: str                 # SWEEP or HANDOVER


@dataclasses.dataclass
class Schedule:
    firings: list[Firing]
    runs: list[Run]
    arrivals: list[float]
    alarm_events: list[AlarmEvent] = dataclasses.field(default_factory=list)
    final_alarm: str = OK       # the alarm state when the simulation ended
    rearms: list[float] = dataclasses.field(default_factory=list)   # re-arms that turned ALARM into OK

    def _done(self) -> dict[int, float]:
        return {i: rnd.end - self.arrivals[i] for run in self.runs for rnd in run.rounds for i in rnd.objects}

    def latencies(self) -> list[float]:
        """Seconds from each processed object's arrival to the end of the round that took it, by object index."""
        done = self._done()
        return [done[i] for i in sorted(done)]

    def worst_latency(self) -> float:
        """The largest latency over the processed objects (nan when none was processed)."""
        return max(self._done().values(), default=math.nan)

    def unprocessed(self) -> list[int]:
        taken = {i for run in self.runs for i in run.objects}
        return [i for i in range(len(self.arrivals)) if i not in taken]

    def lost_firings(self, since: float, until: float) -> int:
        """Dropped firings at times in [since, until) when no run had a round to do (outside every
        run's [start, end of its last round)): the firings :func:`latency_bound` counts as lost.
        A firing dropped while a run is draining costs nothing: that run takes the objects or hands over."""
        busy = [(run.start, run.rounds[-1].end if run.rounds else run.end) for run in self.runs]
        return sum(1 for f in self.firings if not f.started and since <= f.time < until
                   and not any(start <= f.time < end for start, end in busy))

    def taken_counts(self) -> list[int]:
        """How many rounds took each object (1 everywhere when each was processed exactly once)."""
        counts = [0] * len(self.arrivals)
        for run in self.runs:
            for i in run.objects:
                counts[i] += 1
        return counts


DropRule = Callable[[Firing], bool]
Seconds = Union[float, Callable[[float], float]]


def drop_during_runs(firing: Firing) -> bool:
    """The pessimistic Glue model: every firing while any run is in progress is dropped."""
    return firing.runs_in_progress > 0


def drop_firings(*numbers: int) -> DropRule:
    """Drops the firings with these numbers (1 is the first firing)."""
    chosen = frozenset(numbers)
    return lambda firing: firing.number in chosen


def drop_any(*rules: DropRule) -> DropRule:
    """Drops a firing when any of the rules drops it."""
    return lambda firing: any(rule(firing) for rule in rules)


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


def rearm_delay(rearm_period: float, sweep_period: float = SWEEP_PERIOD) -> float:
    """Longest time from a re-arm to the evaluation that can turn the alarm back to ALARM: the first
    grid point at or after re-arm + P. P when the re-arm grid lies on the evaluation grid (R a multiple
    of P), else less than 2P."""
    ratio = rearm_period / sweep_period
    return sweep_period if math.isclose(ratio, round(ratio)) else 2 * sweep_period


def latency_bound(backlog: int, *, batch_window: float, startup_seconds: float, seconds_per_file: float,
                  max_files_per_run: int, drain_budget: float, sweep_after: float | None,
                  sweep_period: float = SWEEP_PERIOD, rearm_period: float | None = REARM_PERIOD,
                  lost_firings: int = 0, run_in_progress: bool = True) -> float:
    """An upper bound on one object's latency, given `backlog` = objects ahead of it in the ledger
    when it arrives (arrived before it, not yet taken; an over-count is fine) and `lost_firings` =
    firings dropped while it waited and no run had a round to do (:meth:`Schedule.lost_firings`
    from its arrival to its round; an over-count is fine). Firings of any kind count: uploads',
    the sweep's, the hand-over's, and those dropped because Glue still counts a run in progress
    during ``handover_lag``. ``run_in_progress=False`` when no run had a round to do when it
    arrived (a lone file): a tighter first term.

    Valid when: at most one run is in progress at a time (``max_concurrent_runs=1``, or
    :func:`drop_during_runs`); rounds cost ``seconds_per_file`` per file and runs
    ``startup_seconds`` once; any ``handover_lag``; firings dropped during a run's rounds are free.
    With the sweep off there is no bound (inf): an object left waiting by a run whose budget is
    spent waits for the next upload. With the periodic re-arm off a lost firing has no bound (inf):
    a lost alarm event leaves the alarm in ALARM for good.

    With W = batch_window, S = sweep_after, P = sweep_period, R = rearm_period, s = startup_seconds,
    c = seconds_per_file, M = max_files_per_run, D = drain_budget, q = backlog, k = lost_firings:

        L < F + q*c + m*(2P + W) + (m + 1)*s + M*c + k*K
        F  = max(s, M*c) + max(2P, S + P) + W        (W when no run has a round to do at its arrival)
        m  = floor(q / Q),  Q = M * max(1, ceil((D - s) / (M*c)))   (objects a run takes before it hands over)
        K  = max(R + P_R, S + P) + W,  P_R = rearm_delay(R, P)        (P when R is a multiple of P)

    Why. Let the object x arrive at a; o <= a is the oldest message not yet deleted while x waits.
    Its wait splits into time when a run has rounds to do and gaps when none has.
    (1) Rounds: the run busy at a finishes its start or its round (<= max(s, M*c)); every later
    round takes M objects ahead of x (FIFO) or x (<= q*c in all), then x's own round (<= M*c).
    A run started while x waits and ending with x waiting spent its budget on full rounds of
    objects ahead: Q of them, so at most m such runs; with x's own run, m + 1 starts.
    (2) Gaps without a lost firing. Each gap ends at the first firing in it that is not dropped
    (no run is in progress: the firing starts one, which takes x or objects ahead). At a, with
    no run having rounds, x's own event's batch fires by a + W. At the end t of a run's last round
    with x waiting, the job sets the alarm: ALARM at once (an event at t, a firing by t + W), or
    only OK, held until the first grid point >= t + P (< t + 2P); its evaluation sends the event
    at the first grid point >= max(t + P, o + S) < max(t + 2P, a + S + P). For a run that started
    while x waited, "not at once" means it lasted >= S from a later start than a, or its oldest
    waiting was >= S old: either way o + S <= t, so the event comes before t + 2P: gap < 2P + W.
    For the run busy at a the gap is < max(2P, S + P) + W. A ``handover_lag`` only makes a
    firing in the gap fall while Glue still counts the run: dropped, so counted in k.
    (3) Each lost firing, at t_d in a gap: from any alarm state an alarm event follows before
    max(t_d + R + P_R, a + S + P): OK (a held state ends before t_d + 2P <= t_d + R + P_R)
    turns ALARM when the age is >= S, before a + S + P; ALARM that an evaluation finds below S
    turns OK and then as before; ALARM that stays (the age only grows in a gap) is re-armed by
    t_d + R and turned back to ALARM P_R later. That event's batch fires within W: the gap
    grows by at most K per lost firing. Lost firings before a cost nothing extra: the first gap
    is bounded by x's own event, later ones start with the job setting the alarm.
    F is the worse of: x arrives in a gap (W), or a run is busy (its rest and its hand-over).
    """
    if sweep_after is None:
        return math.inf
    if lost_firings and rearm_period is None:
        return math.inf
    P = sweep_period
    full = max_files_per_run * seconds_per_file
    rounds = math.ceil((drain_budget - startup_seconds) / full) if full > 0 and drain_budget > startup_seconds else 1
    per_run = max_files_per_run * max(1, rounds)
    handovers = backlog // per_run
    first = (max(startup_seconds, full) + max(2 * P, sweep_after + P) + batch_window if run_in_progress
             else batch_window)
    lost = (max(rearm_period + rearm_delay(rearm_period, P), sweep_after + P) + batch_window) if lost_firings else 0.0
    return (first + backlog * seconds_per_file + handovers * (2 * P + batch_window)
            + (handovers + 1) * startup_seconds + full + lost_firings * lost)


# Order of happenings at one instant (see the module docstring); alarm evaluations sit at _TICK.
_ARRIVAL, _ROUND_END, _RUN_END, _REARM, _TICK, _WINDOW, _EVENT, _ROUND_START = range(8)
_UPLOAD = "upload"


def simulate(
    arrivals: Sequence[float],
    batch_size: int,
    batch_window: float,
    run_round: Callable[[float, list[int]], float],
    max_concurrent_runs: int = 1,
    max_files_per_run: int = 1000,
    *,
    run_start: Seconds = 0.0,
    drain_budget: float = 0.0,
    sweep_after: float | None = None,
    sweep_period: float = SWEEP_PERIOD,
    handover_lag: float = 0.0,
    drop: DropRule | None = None,
    rearm_period: float | None = REARM_PERIOD,
    horizon: float | None = None,
) -> Schedule:
    """Schedules the runs and rounds for a trace, until nothing more can happen.

    ``run_round(start, objects)`` is called, in start order, for every round,
    with the indexes of the objects it takes (oldest first; the first round of
    a run may get none); it returns the round's seconds (a model for the
    planner, a real job run for the local runner). ``run_start`` is the run's
    start overhead in seconds, a number or ``run_start(run_start_time)``; it is
    paid once per run, before the first round.

    ``rearm_period`` (with the sweep on; ``None``: off) is the periodic re-arm;
    re-arms are simulated at times <= ``horizon`` (default: the last upload +
    :data:`HORIZON`), so the simulation ends even if every firing is dropped.

    The defaults (``drain_budget=0``: one round per run; ``sweep_after=None``:
    no sweep; no fault model) are the model before the liveness features; pass
    :data:`DRAIN_BUDGET` and :func:`default_sweep_after` for the product's.
    """
    if batch_size < 1 or batch_window <= 0:
        raise ValueError(f"batch_size must be >= 1 and batch_window > 0, got {batch_size} and {batch_window}")
    if max_concurrent_runs < 1 or max_files_per_run < 1:
        raise ValueError(f"max_concurrent_runs and max_files_per_run must be >= 1, "
                         f"got {max_concurrent_runs} and {max_files_per_run}")
    if drain_budget < 0 or handover_lag < 0 or sweep_period <= 0 or (sweep_after is not None and sweep_after < 0):
        raise ValueError(f"drain_budget, handover_lag and sweep_after must be >= 0 and sweep_period > 0, got "
                         f"{drain_budget}, {handover_lag}, {sweep_after} and {sweep_period}")
    if rearm_period is not None and rearm_period <= 0:
        raise ValueError(f"rearm_period must be > 0 or None, got {rearm_period}")
    start_seconds: Callable[[float], float] = run_start if callable(run_start) else (lambda _t: float(run_start))

    order = sorted(range(len(arrivals)), key=lambda i: arrivals[i])
    times = [float(arrivals[i]) for i in order]
    firings: list[Firing] = []
    runs: list[Run] = []
    alarm_events: list[AlarmEvent] = []
    rearms: list[float] = []
    last_arrival = max(times, default=0.0)
    until = last_arrival + HORIZON if horizon is None else horizon

    queue: list[tuple] = []
    seq = itertools.count()

    def push(time: float, priority: int, kind: str, data=None) -> None:
        heapq.heappush(queue, (time, priority, next(seq), kind, data))

    # The ledger: positions in `order`; [taken, arrived) are waiting; in_flight maps a round to its oldest arrival.
    arrived = 0
    taken = 0
    in_flight: dict[int, float] = {}
    # The trigger's open batch.
    batch_id = 0
    batch_first: float | None = None
    batch_events = 0
    batch_alarm_events = 0
    # Runs and the alarm.
    running = 0
    alarm = OK
    last_tick = -math.inf        # grid index of the last evaluation
    held_until = -math.inf       # grid index of the first evaluation after the last set state
    last_rearm = -1              # index of the last re-arm processed (they are processed only while ALARM)
    now = times[0] if times else 0.0
    position = (now, -1)         # (time, priority) of the last happening processed

    def oldest_undeleted() -> float | None:
        candidates = list(in_flight.values())
        if taken < arrived:
            candidates.append(times[taken])
        return min(candidates, default=None)

    def next_tick() -> tuple[float, int]:
        """The next evaluation that can change the alarm; (inf, 0) when none can until something else happens."""
        if sweep_after is None:
            return math.inf, 0
        k = int(max(last_tick + 1, math.ceil(now / sweep_period), held_until))
        oldest = oldest_undeleted()
        if alarm == OK:
            if oldest is None:
                return math.inf, 0
            j = math.ceil((oldest + sweep_after) / sweep_period)
            while j * sweep_period - oldest < sweep_after:
                j += 1
            k = max(k, j)
        elif oldest is not None and k * sweep_period - oldest >= sweep_after:
            return math.inf, 0   # ALARM and the age only grows until a deletion
        return k * float(sweep_period), k

    def set_state(time: float, state: str) -> None:
        """SetAlarmState: the state stands until the first evaluation at or after time + P."""
        nonlocal alarm, held_until
        alarm = state
        k = math.ceil((time + sweep_period) / sweep_period)
        while (k - 1) * sweep_period >= time + sweep_period:
            k -= 1
        while k * sweep_period < time + sweep_period:
            k += 1
        held_until = k

    def next_rearm() -> tuple[float, int]:
        """The next re-arm that can change the alarm (one in ALARM); (inf, 0) when none can."""
        if sweep_after is None or rearm_period is None or alarm != ALARM:
            return math.inf, 0
        k = max(last_rearm + 1, math.ceil(now / rearm_period))
        if (k * rearm_period, _REARM) <= position:
            k += 1
        time = k * float(rearm_period)
        return (time, k) if time <= until else (math.inf, 0)

    def send_alarm_event(time: float, source: str) -> None:
        alarm_events.append(AlarmEvent(time, source))
        push(time, _EVENT, "event", source)

    def fire(time: float, reason: str) -> None:
        nonlocal batch_first, batch_events, batch_alarm_events, running
        firing = Firing(time, reason, batch_events, started=False, number=len(firings) + 1,
                        alarm_events=batch_alarm_events, runs_in_progress=running)
        batch_first, batch_events, batch_alarm_events = None, 0, 0
        firings.append(firing)
        if running >= max_concurrent_runs:
            firing.dropped = MAX_CONCURRENT_RUNS
            return
        if drop is not None and drop(firing):
            firing.dropped = FAULT
            return
        firing.started = True
        run = Run(len(runs) + 1, time, math.nan, reason, firing.events, [], alarm_events=firing.alarm_events)
        runs.append(run)
        running += 1
        overhead = float(start_seconds(time))
        if overhead < 0:
            raise ValueError(f"run_start returned {overhead} s")
        push(time + overhead, _ROUND_START, "round_start", run)

    for pos, t in enumerate(times):
        push(t, _ARRIVAL, "arrival", pos)
        push(t, _EVENT, "event", _UPLOAD)

    while True:
        tick_time, tick_index = next_tick()
        rearm_time, rearm_index = next_rearm()
        head = (queue[0][0], queue[0][1]) if queue else (math.inf, math.inf)
        if head < (rearm_time, _REARM) and head < (tick_time, _TICK):
            time, priority, _seq, kind, data = heapq.heappop(queue)
        elif rearm_time < math.inf and (rearm_time, _REARM) < (tick_time, _TICK):
            time, priority, kind, data = rearm_time, _REARM, "rearm", rearm_index
        elif tick_time < math.inf:
            time, priority, kind, data = tick_time, _TICK, "tick", tick_index
        else:
            break
        now = time
        position = (time, priority)

        if kind == "arrival":
            arrived += 1
        elif kind == "rearm":
            last_rearm = data
            if alarm == ALARM:
                set_state(time, OK)
                rearms.append(time)
        elif kind == "tick":
            last_tick = data
            oldest = oldest_undeleted()
            age = time - oldest if oldest is not None else 0.0
            if alarm == OK and oldest is not None and age >= sweep_after:
                alarm = ALARM
                send_alarm_event(time, SWEEP)
            elif alarm == ALARM and (oldest is None or age < sweep_after):
                alarm = OK
        elif kind == "window":
            if data == batch_id and batch_first is not None:
                fire(time, BATCH_WINDOW)
        elif kind == "event":
            if batch_first is None:
                batch_id += 1
                batch_first = time
                push(time + batch_window, _WINDOW, "window", batch_id)
            batch_events += 1
            if data != _UPLOAD:
                batch_alarm_events += 1
            if batch_events == batch_size:
                fire(time, BATCH_SIZE)
        elif kind == "round_start":
            run = data
            count = min(max_files_per_run, arrived - taken)
            positions = range(taken, taken + count)
            objects = [order[p] for p in positions]
            taken += count
            seconds = float(run_round(time, objects))
            if seconds < 0:
                raise ValueError(f"run_round returned {seconds} s")
            rnd = Round(time, time + seconds, objects)
            run.rounds.append(rnd)
            run.objects.extend(objects)
            if objects:
                in_flight[id(rnd)] = times[positions[0]]
            push(rnd.end, _ROUND_END, "round_end", (run, rnd))
        elif kind == "round_end":
            run, rnd = data
            in_flight.pop(id(rnd), None)
            waiting = arrived - taken
            if waiting and time - run.start < drain_budget:
                push(time, _ROUND_START, "round_start", run)
                continue
            run.left_waiting = waiting
            run.end = time + handover_lag
            if sweep_after is not None:          # the hand-over: re-arm, and ALARM at once when that is safe
                set_state(time, OK)
                young = (waiting and time - run.rounds[0].start < sweep_after
                         and time - times[taken] < sweep_after)
                if young:
                    set_state(time, ALARM)
                    send_alarm_event(time, HANDOVER)
                run.alarm_at_end = alarm
            if handover_lag:
                push(run.end, _RUN_END, "run_end", run)
            else:
                running -= 1
        elif kind == "run_end":
            running -= 1

    return Schedule(firings, runs, list(arrivals), alarm_events, alarm, rearms)

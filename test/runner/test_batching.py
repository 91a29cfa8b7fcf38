"""Glue EVENT-trigger batching, the drain loop and the sweep alarm: the model of the local runner and the planner."""
import math
import random

import pytest

from cdk_event_driven_glue_workflow_tools import scenario
from cdk_event_driven_glue_workflow_tools.batching import (ALARM, BATCH_SIZE, BATCH_WINDOW, FAULT, HANDOVER, HORIZON,
                                                           MAX_CONCURRENT_RUNS, OK, SWEEP, AlarmEvent, drop_any,
                                                           drop_during_runs, drop_firings, fire_times, latency_bound,
                                                           simulate)


def fixed(seconds):
    return lambda _start, _objects: seconds


def test_exactly_100_events_fire_once_on_batch_size_at_the_100th_event():
    arrivals = [float(i) for i in range(100)]
    assert fire_times(arrivals, 100, 900) == [(99.0, BATCH_SIZE, 100)]


def test_99_events_fire_when_the_window_expires_after_the_first():
    arrivals = [10.0 + i for i in range(99)]
    assert fire_times(arrivals, 100, 900) == [(910.0, BATCH_WINDOW, 99)]


def test_101_events_are_one_full_batch_then_a_window_batch():
    arrivals = [float(i) for i in range(101)]
    assert fire_times(arrivals, 100, 900) == [(99.0, BATCH_SIZE, 100), (100.0 + 900, BATCH_WINDOW, 1)]


def test_window_of_one_second_splits_events_more_than_a_second_apart():
    arrivals = [0.0, 0.5, 2.0, 2.2, 5.0]
    assert fire_times(arrivals, 100, 1) == [(1.0, BATCH_WINDOW, 2), (3.0, BATCH_WINDOW, 2), (6.0, BATCH_WINDOW, 1)]


def test_event_exactly_at_window_end_starts_the_next_batch():
    assert fire_times([0.0, 900.0], 100, 900) == [(900.0, BATCH_WINDOW, 1), (1800.0, BATCH_WINDOW, 1)]


def test_events_arriving_during_a_run_are_processed_by_the_next_run():
    # batch of 2; the first run lasts 100 s; events 3 and 4 arrive while it runs
    schedule = simulate([0.0, 1.0, 50.0, 60.0], 2, 900, fixed(100.0), max_concurrent_runs=2)
    assert [(r.start, r.objects) for r in schedule.runs] == [(1.0, [0, 1]), (60.0, [2, 3])]
    assert schedule.latencies() == [101.0, 100.0, 110.0, 100.0]


def test_max_concurrent_runs_of_one_skips_a_firing_during_a_run_and_the_next_run_catches_up():
    arrivals = [0.0, 1.0, 50.0, 60.0, 3000.0, 3001.0]
    schedule = simulate(arrivals, 2, 900, fixed(100.0), max_concurrent_runs=1)
    assert [(f.time, f.started) for f in schedule.firings] == [(1.0, True), (60.0, False), (3001.0, True)]
    assert [r.objects for r in schedule.runs] == [[0, 1], [2, 3, 4, 5]]
    assert schedule.unprocessed() == []


def test_objects_without_a_later_firing_stay_unprocessed():
    schedule = simulate([0.0, 1.0, 50.0, 60.0], 2, 900, fixed(100.0), max_concurrent_runs=1)
    assert schedule.unprocessed() == [2, 3]


def test_a_run_takes_at_most_max_files_per_run():
    schedule = simulate([0.0, 1.0, 2.0], 3, 900, fixed(1.0), max_files_per_run=2)
    assert [r.objects for r in schedule.runs] == [[0, 1]]
    assert schedule.unprocessed() == [2]


def test_run_callback_receives_start_time_and_objects_in_arrival_order():
    calls = []
    simulate([5.0, 0.0, 3.0], 3, 900, lambda start, objects: calls.append((start, objects)) or 1.0)
    assert calls == [(5.0, [1, 2, 0])]


@pytest.mark.parametrize("size, window", [(0, 900), (5, 0)])
def test_invalid_batching_is_rejected(size, window):
    with pytest.raises(ValueError, match="batch_size must be >= 1 and batch_window > 0"):
        fire_times([0.0], size, window)


# --- The liveness model: drain loop, sweep alarm, hand-over, periodic re-arm, lost firings ---------------------------
#
# Unless a test says otherwise: runs start in S0 s and take C s per file per round (the planner's cost model),
# the product's defaults for the rest, and the pessimistic Glue model (every firing during a run is dropped).

S0 = 45.0           # run start overhead, paid once per run
C = 0.5             # seconds per file per round
B = 100             # batch size
W = 900.0           # batch window
S = W + 900.0       # sweep_after, the product default
P = 60.0            # sweep period
D = 1800.0          # drain budget
M = 1000            # max files per run (per round)
R = 3600.0          # the periodic re-arm


def per_file(_start, objects):
    return C * len(objects)


def live(arrivals, batch_size=B, batch_window=W, **overrides):
    options = dict(run_start=S0, drain_budget=D, sweep_after=S, sweep_period=P, max_files_per_run=M,
                   drop=drop_during_runs)
    options.update(overrides)
    return simulate(arrivals, batch_size, batch_window, per_file, **options)


def bound(backlog, batch_window=W, **overrides):
    options = dict(batch_window=batch_window, startup_seconds=S0, seconds_per_file=C, max_files_per_run=M,
                   drain_budget=D, sweep_after=S, sweep_period=P, rearm_period=R)
    options.update(overrides)
    return latency_bound(backlog, **options)


def assert_all_processed_once(schedule):
    assert schedule.unprocessed() == []
    assert schedule.taken_counts() == [1] * len(schedule.arrivals)
    assert schedule.runs[-1].left_waiting == 0
    assert schedule.final_alarm == OK


def next_grid(t):
    """The first sweep evaluation at or after t."""
    return math.ceil(t / P) * P


def next_rearm(t):
    """The first re-arm at or after t."""
    return math.ceil(t / R) * R


def test_with_liveness_off_the_trigger_fires_as_fire_times_says():
    arrivals = scenario.random_trace(7)
    schedule = simulate(arrivals, 5, 300, lambda _s, _o: 10.0, max_concurrent_runs=100)
    assert [(f.time, f.reason, f.events) for f in schedule.firings] == fire_times(arrivals, 5, 300)
    assert schedule.alarm_events == []


def test_drop_during_runs_drops_firings_while_a_run_is_in_progress_even_below_max_concurrency():
    schedule = simulate([0.0, 1.0, 50.0, 60.0], 2, 900, fixed(100.0), max_concurrent_runs=3, drop=drop_during_runs)
    assert [(f.time, f.started, f.dropped, f.runs_in_progress) for f in schedule.firings] == [
        (1.0, True, "", 0), (60.0, False, FAULT, 1)]


def test_drop_firings_drops_exactly_the_numbered_firings():
    schedule = simulate([0.0, 1000.0, 2000.0], 1, 900, fixed(1.0), drop=drop_firings(2))
    assert [(f.number, f.started, f.dropped) for f in schedule.firings] == [(1, True, ""), (2, False, FAULT),
                                                                          (3, True, "")]
    assert [r.objects for r in schedule.runs] == [[0], [1, 2]]      # run 2 catches up


def test_max_concurrent_runs_reached_is_a_dropped_firing_with_its_reason():
    schedule = simulate([0.0, 1.0, 50.0, 60.0], 2, 900, fixed(100.0), max_concurrent_runs=1)
    assert [f.dropped for f in schedule.firings] == ["", MAX_CONCURRENT_RUNS]


def test_start_overhead_is_paid_once_per_run_and_run_round_is_called_per_round():
    calls = []

    def run_round(start, objects):
        calls.append((start, list(objects)))
        return 10.0

    schedule = simulate([0.0, 1.0, 2.0], 3, 900, run_round, max_files_per_run=1, run_start=5.0, drain_budget=1800)
    # firing at 2; start overhead 5 s; then rounds of one file each, back to back
    assert calls == [(7.0, [0]), (17.0, [1]), (27.0, [2])]
    assert [(r.start, r.end, len(r.rounds)) for r in schedule.runs] == [(2.0, 37.0, 3)]


def test_drain_loop_takes_uploads_that_arrive_during_the_run_in_a_later_round():
    # the case of test_objects_without_a_later_firing_stay_unprocessed, with a drain budget
    schedule = simulate([0.0, 1.0, 50.0, 60.0], 2, 900, fixed(100.0), drain_budget=1800)
    assert [[rnd.objects for rnd in r.rounds] for r in schedule.runs] == [[[0, 1], [2, 3]]]
    assert schedule.unprocessed() == []
    assert schedule.worst_latency() == 1.0 + 100.0 + 100.0 - 50.0


def test_the_issue_every_firing_during_a_run_is_dropped_and_nothing_is_uploaded_afterwards():
    # a burst of 10, one a second, batch size 2: firing 1 starts run 1, firings 2..5 happen during it;
    # two more uploads arrive during its first round and fill a batch whose firing (6) is dropped too
    burst = [float(i) for i in range(10)]
    late = [S0 + 2.0, S0 + 4.0]                   # during round 1, which starts at 1 + S0
    schedule = live(burst + late, batch_size=2)
    assert [(f.number, f.started) for f in schedule.firings] == [(1, True)] + [(k, False) for k in range(2, 7)]
    assert [[len(rnd.objects) for rnd in r.rounds] for r in schedule.runs] == [[10, 2]]
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == burst[1] + S0 + 10 * C - burst[0]


def test_the_issue_with_the_budget_spent_hands_over_the_late_uploads_to_a_new_run():
    # same, but the drain budget ends with round 1: the late uploads wait; the run's end event starts run 2
    burst = [float(i) for i in range(10)]
    late = [S0 + 2.0, S0 + 4.0]
    budget = S0 + 10 * C
    schedule = live(burst + late, batch_size=2, drain_budget=budget)
    run1, run2 = schedule.runs
    assert run1.left_waiting == 2
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(run1.end, HANDOVER)]
    assert (run2.start, run2.reason, run2.alarm_events) == (run1.end + W, BATCH_WINDOW, 1)
    assert_all_processed_once(schedule)
    # the late uploads wait for the rest of round 1, the window, a start and their round
    assert schedule.worst_latency() == (run1.end - late[0]) + W + S0 + 2 * C
    assert schedule.worst_latency() <= bound(len(burst))


def test_the_issue_with_the_budget_spent_and_the_sweep_off_leaves_the_late_uploads_waiting():
    # the negative control of the test above: without the alarm there is no end-of-run event
    burst = [float(i) for i in range(10)]
    late = [S0 + 2.0, S0 + 4.0]
    schedule = live(burst + late, batch_size=2, drain_budget=S0 + 10 * C, sweep_after=None)
    assert schedule.unprocessed() == [10, 11]
    assert schedule.alarm_events == []


def test_drain_loop_clears_a_backlog_larger_than_max_files_per_run_in_one_run_of_three_rounds():
    n = 2500
    schedule = live([0.0] * n)
    assert len(schedule.runs) == 1
    assert [len(rnd.objects) for rnd in schedule.runs[0].rounds] == [M, M, n - 2 * M]
    assert S0 + 2 * M * C < D                       # the budget allows the third round
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == S0 + n * C


def test_budget_spent_hands_over_through_the_end_of_run_alarm_event_and_the_batch_window():
    n, budget, quiet_sweep = 2500, 900.0, 3600.0    # a late sweep, so only the hand-over can start run 2
    schedule = live([0.0] * n, drain_budget=budget, sweep_after=quiet_sweep)
    run1, run2 = schedule.runs
    assert [len(rnd.objects) for rnd in run1.rounds] == [M, M]      # 2nd round ends past the budget
    assert run1.left_waiting == n - 2 * M
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(run1.end, HANDOVER)]
    assert (run2.start, run2.reason, run2.events, run2.alarm_events) == (run1.end + W, BATCH_WINDOW, 1, 1)
    assert [len(rnd.objects) for rnd in run2.rounds] == [n - 2 * M]
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == 2 * S0 + W + n * C
    assert schedule.worst_latency() <= bound(n - 1, drain_budget=budget, sweep_after=quiet_sweep)


def test_a_lone_file_whose_firing_is_dropped_is_processed_by_the_sweep():
    a = 10.0
    schedule = live([a], drop=drop_firings(1))
    sweep_at = next_grid(a + S)
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(sweep_at, SWEEP)]
    assert [(r.start, r.alarm_events) for r in schedule.runs] == [(sweep_at + W, 1)]
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == sweep_at + W + S0 + C - a
    assert schedule.worst_latency() <= S + P + W + S0 + C


def test_with_the_sweep_off_a_lone_file_whose_firing_is_dropped_stays_unprocessed():
    schedule = live([10.0], drop=drop_firings(1), sweep_after=None)
    assert schedule.runs == []
    assert schedule.unprocessed() == [0]


def test_a_lost_sweep_firing_is_sent_again_after_the_periodic_re_arm():
    # firing 2 carries the sweep's only event; it is lost while no run is in progress and the alarm stays ALARM
    # (the age only grows). The re-arm sets it OK; the evaluation a period later sends the event again.
    a = 10.0
    schedule = live([a], drop=drop_firings(1, 2))
    sweep_at = next_grid(a + S)
    rearm_at = next_rearm(sweep_at + W)               # the first re-arm after the loss
    assert schedule.rearms == [rearm_at]
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(sweep_at, SWEEP), (rearm_at + P, SWEEP)]
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == rearm_at + P + W + S0 + C - a
    # the upload's window, the sweep (< S + P), its window, the re-arm (<= R after the loss) and its evaluation
    assert schedule.worst_latency() <= W + (S + P - W) + W + (R + P) + W + S0 + C
    assert schedule.worst_latency() <= bound(0, lost_firings=2, run_in_progress=False)


def test_without_the_periodic_re_arm_a_lost_sweep_firing_leaves_the_file_waiting():
    # the negative control of the test above: the alarm stays ALARM, nothing is sent again
    schedule = live([10.0], drop=drop_firings(1, 2), rearm_period=None)
    assert [e.source for e in schedule.alarm_events] == [SWEEP]
    assert schedule.final_alarm == ALARM
    assert schedule.unprocessed() == [0]


def test_an_evaluation_turns_the_alarm_ok_when_the_oldest_is_young_so_a_lost_hand_over_is_swept_later():
    # one round of one file per run (budget 0): run 1 hands over at its end; that event's firing (2) is lost;
    # the next evaluation sees the oldest younger than sweep_after: OK; later the age reaches it: a new event
    sweep_after = 3600.0
    schedule = live([0.0, 0.0], max_files_per_run=1, drain_budget=0.0, sweep_after=sweep_after, drop=drop_firings(2))
    run1 = schedule.runs[0]
    assert [(e.time, e.source) for e in schedule.alarm_events] == [
        (run1.end, HANDOVER), (next_grid(sweep_after), SWEEP)]
    assert schedule.firings[1].alarm_events == 1 and schedule.firings[1].dropped == FAULT
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == next_grid(sweep_after) + W + S0 + C


def test_a_run_ending_at_t_is_not_in_progress_at_t_so_an_immediate_hand_over_firing_starts_a_run():
    # batch size 1: the end-of-run event fires at once, at the run's end
    schedule = live([0.0, 0.0, 0.0], batch_size=1, max_files_per_run=1, drain_budget=0.0)
    assert [r.start for r in schedule.runs[1:]] == [r.end for r in schedule.runs[:-1]]
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == 3 * (S0 + C)


def test_a_window_firing_at_the_very_end_of_a_run_starts_a_run():
    # run 1 lasts 950 s from 900; the upload at 950 opens a batch whose window ends at 1850, the run's end
    schedule = simulate([0.0, 950.0], 100, 900, fixed(950.0))
    assert [(f.time, f.started) for f in schedule.firings] == [(900.0, True), (1850.0, True)]
    assert schedule.runs[0].end == schedule.runs[1].start


def test_with_a_handover_lag_a_dropped_hand_over_is_made_good_by_the_evaluation_and_every_file_is_converted():
    # the pessimistic model: Glue counts a run in progress for `lag` s after its last round, so an immediate
    # end-of-run firing (batch size 1) is dropped. Run 1 leaves young files: it sets ALARM at once, that
    # firing is dropped, the evaluation turns the alarm OK and the sweep starts run 2 at S. Run 2 leaves a
    # file already S old: it only re-arms, and the evaluation makes the transition a period after the run's
    # last round, after the lag: run 3 starts.
    lag = 5.0
    schedule = live([0.0, 0.0, 0.0], batch_size=1, max_files_per_run=1, drain_budget=0.0, handover_lag=lag)
    run1, run2, run3 = schedule.runs
    assert run1.end == S0 + C + lag
    assert (run1.alarm_at_end, run2.alarm_at_end) == (ALARM, OK)
    run2_last_round = next_grid(S) + S0 + C
    assert [(e.time, e.source) for e in schedule.alarm_events] == [
        (S0 + C, HANDOVER), (next_grid(S), SWEEP), (next_grid(run2_last_round + P), SWEEP)]
    hand_over = next(f for f in schedule.firings if f.time == run1.end - lag and f.alarm_events)
    assert hand_over.dropped == MAX_CONCURRENT_RUNS
    assert run3.start == next_grid(run2_last_round + P) > run2.end
    assert_all_processed_once(schedule)
    assert schedule.worst_latency() == next_grid(run2_last_round + P) + S0 + C
    assert schedule.worst_latency() <= bound(2, batch_window=W, drain_budget=0.0, max_files_per_run=1,
                                             lost_firings=schedule.lost_firings(0.0, math.inf))


def test_a_file_arriving_just_after_the_last_round_is_taken_by_its_batch_firing():
    # run 1 drains a backlog in three rounds; an upload at u1 during it starts a batch that fires after the
    # run; the file arriving just after the last round joins that batch
    n = 2500
    last_round_end = S0 + n * C + C                  # round 3 takes the rest of the backlog and u1
    u1 = last_round_end - W + 4.5                     # its batch fires 4.5 s after the last round
    a = last_round_end + 0.5
    schedule = live([0.0] * n + [u1, a])
    assert schedule.runs[0].rounds[-1].end == last_round_end
    assert schedule.runs[1].start == u1 + W
    assert_all_processed_once(schedule)
    assert schedule.latencies()[-1] == u1 + W + S0 + C - a <= W + S0 + C


def test_a_file_arriving_as_the_last_round_of_a_long_run_starts_waits_for_the_sweep_not_the_hand_over():
    # a backlog of 4M - 1 and one upload u at 925 fill four full rounds; the budget is spent after the 4th.
    # The file arrives just after round 4 started; its event is in u's batch, which fires during the run
    # (dropped). The run lasted >= S, so the job only re-arms: no immediate event. The file is young, so the
    # evaluation turns the alarm ALARM when it is S old.
    n, u = 4 * M - 1, 925.0
    round4_start = S0 + 3 * M * C
    a = round4_start + 0.01
    schedule = live([0.0] * n + [u, a])
    run1, run2 = schedule.runs
    assert [len(rnd.objects) for rnd in run1.rounds] == [M] * 4 and run1.left_waiting == 1
    assert run1.rounds[-1].end - run1.rounds[0].start >= S
    assert run1.alarm_at_end == OK and HANDOVER not in [e.source for e in schedule.alarm_events]
    assert run2.start == next_grid(a + S) + W
    assert_all_processed_once(schedule)
    assert schedule.latencies()[-1] == pytest.approx(next_grid(a + S) + W + S0 + C - a)
    assert schedule.latencies()[-1] <= S + P + W + S0 + C
    assert schedule.latencies()[-1] <= bound(0)


def test_a_long_running_backlog_gets_no_immediate_hand_over_and_is_swept_one_period_after_the_run():
    # 5000 files at once; a short window, so the sweep event sent during the run (the age counts the messages
    # its rounds hold) fires during it and is dropped. The run spends its budget after 4 rounds with the oldest
    # waiting file 2045 s old: the job only re-arms, the evaluation a period after the last round sends the event.
    window, sweep_after = 60.0, 60.0 + 900.0
    schedule = live([0.0] * 5000, batch_window=window, sweep_after=sweep_after)
    run1, run2 = schedule.runs
    last_round = run1.rounds[-1].end
    assert (last_round, run1.left_waiting, run1.alarm_at_end) == (S0 + 4 * M * C, M, OK)
    assert last_round - 0.0 >= sweep_after
    assert [(e.time, e.source) for e in schedule.alarm_events] == [
        (next_grid(sweep_after), SWEEP), (next_grid(last_round + P), SWEEP)]
    assert run2.start == next_grid(last_round + P) + window
    assert_all_processed_once(schedule)


def test_a_re_arm_on_an_alarm_already_ok_changes_nothing():
    # the lone file reaches S exactly at a re-arm: the re-arm (OK on OK) holds nothing back, the evaluation
    # at that instant sends the only event
    a = R - S
    schedule = live([a], drop=drop_firings(1))
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(R, SWEEP)]
    assert schedule.rearms == []
    assert_all_processed_once(schedule)


def test_re_arms_stop_at_the_horizon_so_a_trace_whose_every_firing_is_dropped_ends():
    a = 10.0
    schedule = live([a], drop=lambda _firing: True)
    assert schedule.unprocessed() == [0]
    assert schedule.rearms[-1] <= a + HORIZON < schedule.rearms[-1] + R
    assert len(schedule.alarm_events) == 1 + len(schedule.rearms)       # the sweep, then one per re-arm


def test_a_re_arm_while_the_sweep_event_s_batch_is_open_adds_its_event_to_that_batch():
    # the sweep event at 3120 opens a batch that fires at 4020; the re-arm at 3600 turns ALARM to OK and the
    # evaluation at 3660 sends a second event into the same batch: one firing, one run
    a = R - S - 480.0 - 0.5
    schedule = live([a], drop=drop_firings(1))
    sweep_at = next_grid(a + S)
    assert [(e.time, e.source) for e in schedule.alarm_events] == [(sweep_at, SWEEP), (R + P, SWEEP)]
    assert [(f.time, f.alarm_events, f.started) for f in schedule.firings[1:]] == [(sweep_at + W, 2, True)]
    assert_all_processed_once(schedule)


def test_with_a_handover_lag_a_file_just_after_the_last_round_loses_its_firing_and_is_swept():
    # the same trace; Glue still counts run 1 in progress when the batch fires, so the firing is dropped
    n, lag = 2500, 30.0
    last_round_end = S0 + n * C + C
    u1 = last_round_end - W + 4.5
    a = last_round_end + 0.5
    schedule = live([0.0] * n + [u1, a], handover_lag=lag)
    assert schedule.firings[-2].time == u1 + W and schedule.firings[-2].dropped == MAX_CONCURRENT_RUNS
    assert schedule.alarm_events[0] == AlarmEvent(next_grid(a + S), SWEEP)
    assert schedule.runs[1].start == next_grid(a + S) + W
    assert_all_processed_once(schedule)
    assert schedule.latencies()[-1] == next_grid(a + S) + W + S0 + C - a
    assert schedule.latencies()[-1] <= S + P + W + S0 + C


def test_lost_firings_counts_drops_while_no_run_has_a_round_to_do_and_not_drops_during_rounds():
    # firings 2 and 3 are dropped while run 1 starts (free: run 1 drains or hands over); the hand-over's firing
    # is dropped during the lag after run 1's last round: that one is lost
    schedule = live([0.0, 0.0, 0.0], batch_size=1, max_files_per_run=1, drain_budget=0.0, handover_lag=5.0)
    dropped = [f.time for f in schedule.firings if not f.started]
    assert dropped == [0.0, 0.0, S0 + C]
    assert schedule.lost_firings(0.0, math.inf) == 1
    assert schedule.lost_firings(0.0, S0 + C) == 0


@pytest.mark.parametrize("rearm_period, per_lost_firing", [
    (R, R + P + W),                 # the re-arm grid lies on the evaluation grid
    (2500.0, 2500.0 + 2 * P + W),   # it does not: up to one more period to the evaluation
    (600.0, S + P + W),             # re-armed more often than the sweep: the sweep's own wait dominates
])
def test_each_lost_firing_adds_the_wait_for_the_next_alarm_event_and_its_window_to_the_bound(rearm_period,
                                                                                          per_lost_firing):
    assert bound(7, rearm_period=rearm_period, lost_firings=3) - bound(7, rearm_period=rearm_period,
                                                                       lost_firings=2) == per_lost_firing


def test_without_the_periodic_re_arm_a_lost_firing_has_no_latency_bound():
    assert bound(0, rearm_period=None) < math.inf
    assert bound(0, rearm_period=None, lost_firings=1) == math.inf


STRESSED_FRIDAY = dict(last_burst_files=200, burst_seconds=300.0)


@pytest.mark.parametrize("trace, batch_size, batch_window, max_files, budget, seconds_per_file", [
    ({}, B, W, M, D, C),                              # the product defaults
    (STRESSED_FRIDAY, 5, 300.0, 10, 120.0, 5.0),      # small rounds, a short budget, a slow job: many hand-overs
])
def test_friday_last_burst_then_nothing_for_days_is_all_converted(trace, batch_size, batch_window, max_files, budget,
                                                                  seconds_per_file):
    arrivals = scenario.friday_trace(**trace)
    sweep_after = batch_window + 900.0
    schedule = simulate(arrivals, batch_size, batch_window, lambda _s, objects: seconds_per_file * len(objects),
                        max_files_per_run=max_files, run_start=S0, drain_budget=budget, sweep_after=sweep_after,
                        sweep_period=P, drop=drop_during_runs)
    assert_all_processed_once(schedule)
    assert all(f.runs_in_progress == 0 for f in schedule.firings if f.started)
    assert schedule.worst_latency() <= latency_bound(
        len(arrivals) - 1, batch_window=batch_window, startup_seconds=S0, seconds_per_file=seconds_per_file,
        max_files_per_run=max_files, drain_budget=budget, sweep_after=sweep_after, sweep_period=P)


def test_friday_stressed_needs_the_hand_over_after_the_last_upload():
    # the second case above: the last burst is finished by runs started by alarm events, after the last upload
    arrivals = scenario.friday_trace(**STRESSED_FRIDAY)
    schedule = simulate(arrivals, 5, 300.0, lambda _s, objects: 5.0 * len(objects), max_files_per_run=10,
                        run_start=S0, drain_budget=120.0, sweep_after=1200.0, drop=drop_during_runs)
    late = [r for r in schedule.runs if r.start > arrivals[-1]]
    assert late and all(r.alarm_events >= 1 for r in late)
    assert any(r.handed_over for r in late[:-1])


def objects_ahead(arrivals, i, done):
    """Objects that arrived before object i (in FIFO order) and were not finished when it arrived."""
    order = sorted(range(len(arrivals)), key=lambda j: arrivals[j])
    position = order.index(i)
    return sum(1 for j in order[:position] if done[j] > arrivals[i])


@pytest.mark.parametrize("seed", range(300))
def test_property_random_traces_and_random_lost_firings_are_all_processed_within_the_bound(seed):
    # Random traces, settings and drop patterns: every firing during a run is dropped (the pessimistic model,
    # with max concurrency 1 or above), and every other firing, uploads', sweeps' and hand-overs' alike, is
    # lost independently with probability p < 1; handover_lag 0, 5 or 30 s. Re-arms run for the default
    # horizon (a week after the last upload), long enough for the ledger to empty.
    # Bound: batching.latency_bound (documented there) with each object's own backlog and lost firings.
    rng = random.Random(seed)
    arrivals = scenario.random_trace(seed, max_files=60)
    batch_size = rng.choice([1, 2, 5, 10, 100])
    batch_window = rng.choice([30.0, 300.0, 900.0])
    max_files = rng.choice([1, 3, 10, 1000])
    budget = rng.choice([0.0, 60.0, 600.0, 1800.0])
    startup = rng.choice([0.0, 45.0])
    seconds_per_file = rng.choice([0.5, 5.0])
    sweep_after = rng.choice([0.0, 120.0, batch_window + 900.0])
    period = rng.choice([60.0, 300.0])
    rearm = rng.choice([3600.0, 900.0, 1000.0])          # 1000 s is not on the evaluation grid
    lag = rng.choice([0.0, 5.0, 30.0])
    loss = rng.choice([0.0, 0.3, 0.6])
    losses = random.Random(seed + 10_000)

    def drop(firing):
        return firing.runs_in_progress > 0 or losses.random() < loss

    schedule = simulate(arrivals, batch_size, batch_window, lambda _s, objects: seconds_per_file * len(objects),
                        max_concurrent_runs=rng.choice([1, 3]), max_files_per_run=max_files, run_start=startup,
                        drain_budget=budget, sweep_after=sweep_after, sweep_period=period, handover_lag=lag,
                        drop=drop, rearm_period=rearm)
    assert_all_processed_once(schedule)
    done = {i: rnd.end for run in schedule.runs for rnd in run.rounds for i in rnd.objects}
    settings = dict(batch_window=batch_window, startup_seconds=startup, seconds_per_file=seconds_per_file,
                    max_files_per_run=max_files, drain_budget=budget, sweep_after=sweep_after, sweep_period=period,
                    rearm_period=rearm)
    for i, latency in enumerate(schedule.latencies()):
        lost = schedule.lost_firings(arrivals[i], done[i])
        assert latency <= latency_bound(objects_ahead(arrivals, i, done), lost_firings=lost, **settings), i
    lost = schedule.lost_firings(0.0, math.inf)
    assert schedule.worst_latency() <= latency_bound(len(arrivals) - 1, lost_firings=lost, **settings)

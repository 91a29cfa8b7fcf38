"""Glue EVENT-trigger batching semantics of the local runner and the planner."""
import pytest

from cdk_event_driven_glue_workflow_tools.batching import BATCH_SIZE, BATCH_WINDOW, fire_times, simulate


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

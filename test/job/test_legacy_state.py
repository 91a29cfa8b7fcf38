"""A pipeline deployed before state was per pipeline keeps its state after the upgrade.

The construct now keeps a job's state under ``_pipeline/<table>/``; a job alone on its
bucket with the default layout also gets ``--legacy_state_path`` (the old shared root
``_pipeline/``): its markers still count, and a run it left crashed there is repaired.
"""
import time

import pytest

from glue_ingest.faults import SimulatedCrash
from job_helpers import jsonl, run_job


def _objects(lake, count=2):
    return [lake.put("in/legacy-%d.jsonl" % f, jsonl([{"id": f * 10 + i} for i in range(5)])) for f in range(count)]


def _args(lake, objs, state, legacy=None, **extra):
    args = lake.args(input_files=",".join(o["uri"] for o in objs), state_path=state,
                     visibility_timeout_seconds="1", **extra)
    if legacy:
        args["legacy_state_path"] = legacy
    return args


def test_a_file_committed_under_the_old_root_is_not_ingested_again(spark, lake):
    objs = _objects(lake)
    old_root, new_root = lake.state, lake.state + "events/"
    run_job(spark, _args(lake, objs[:1], old_root))           # the release before: shared root
    stats = run_job(spark, _args(lake, objs, new_root, legacy=old_root))
    assert {f["key"]: f["status"] for f in stats["files"]} == {
        "in/legacy-0.jsonl": "skipped_duplicate", "in/legacy-1.jsonl": "ok"}
    assert sorted(r["id"] for r in lake.output_rows()) == list(range(0, 5)) + list(range(10, 15))
    assert lake.keys(new_root + "objects/") and len(lake.keys(new_root + "objects/")) == 1  # only the new one


def test_without_the_legacy_root_the_old_marker_is_not_seen(spark, lake):
    """Control: the legacy root is what keeps the file from a second ingestion."""
    objs = _objects(lake, 1)
    run_job(spark, _args(lake, objs, lake.state))
    stats = run_job(spark, _args(lake, objs, lake.state + "events/"))
    assert [f["status"] for f in stats["files"]] == ["ok"]
    assert len(lake.output_rows()) == 10


@pytest.mark.parametrize("point", ["mid_write", "after_write"])
def test_a_run_crashed_under_the_old_root_is_rolled_back_by_the_new_one(spark, lake, point):
    objs = _objects(lake)
    with pytest.raises(SimulatedCrash):
        run_job(spark, _args(lake, objs, lake.state, target_file_size_mb="0.0001"), crash_at=point)
    assert lake.keys(lake.state + "pending/")
    time.sleep(1.1)  # the crashed run's lease (visibility_timeout_seconds) runs out
    stats = run_job(spark, _args(lake, objs, lake.state + "events/", legacy=lake.state))
    assert len(stats["recovered_runs"]["rolled_back"]) == 1
    assert lake.keys(lake.state + "pending/") == []
    ids = sorted(r["id"] for r in lake.output_rows())
    assert ids == list(range(0, 5)) + list(range(10, 15))  # every row once: the orphans went


def test_the_new_roots_own_pending_records_are_not_taken_for_legacy_ones(spark, lake):
    """A table named "pending" keeps its state in the old root's pending/ folder; a crashed
    run of it there is repaired by its own store, never settled as a legacy run."""
    objs = _objects(lake)
    new_root = lake.state + "pending/"
    with pytest.raises(SimulatedCrash):
        run_job(spark, _args(lake, objs, new_root, legacy=lake.state), crash_at="after_commit")
    time.sleep(1.1)
    stats = run_job(spark, _args(lake, objs, new_root, legacy=lake.state))
    assert len(stats["recovered_runs"]["finalized"]) == 1 and stats["recovered_runs"]["rolled_back"] == []
    assert sorted(r["id"] for r in lake.output_rows()) == list(range(0, 5)) + list(range(10, 15))

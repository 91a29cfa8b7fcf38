"""Exactly-once under injected crashes: crash, rerun, every row once."""
import time

import pytest

from glue_ingest.faults import SimulatedCrash
from glue_ingest.storage import Storage
from glue_ingest.commit import StateStore
from job_helpers import jsonl, run_job

CRASH_POINTS = ["after_read", "mid_write", "after_write", "after_catalog", "after_commit"]
# The points after which a run's rows are committed: the commit record (Parquet), or the
# run's Iceberg snapshot, appended right before after_write.
COMMITTED_AFTER = {"PARQUET": {"after_commit"}, "ICEBERG": {"after_write", "after_catalog", "after_commit"}}
BOTH_FORMATS = pytest.mark.parametrize("table_format", ["PARQUET", "ICEBERG"], indirect=True)


def _inputs(lake):
    objs = []
    for f in range(4):
        rows = [{"id": f * 100 + i, "payload": "x" * 200} for i in range(40)]
        objs.append(lake.put("in/batch-%d.jsonl" % f, jsonl(rows)))
    return objs


def _args(lake, objs):
    # A tiny target size gives several output files, so mid_write really is halfway.
    # visibility_timeout_seconds is also the lease of a run's pending record.
    catalog = {} if lake.iceberg else {"catalog_update": "true", "database_name": "lakedb", "table_name": "events"}
    return lake.args(input_files=",".join(o["uri"] for o in objs), target_file_size_mb="0.01",
                     visibility_timeout_seconds="1", **catalog)


def _leftovers(lake, sub):
    return lake.keys(lake.state + sub)


@BOTH_FORMATS
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_crash_then_clean_rerun_leaves_every_row_exactly_once(spark, lake, aws, point, table_format):
    objs = _inputs(lake)
    clients = {"glue": aws["glue"]}
    with pytest.raises(SimulatedCrash, match=point):
        run_job(spark, _args(lake, objs), crash_at=point, clients=clients)
    time.sleep(1.1)
    stats = run_job(spark, _args(lake, objs), clients=clients)
    ids = [r["id"] for r in lake.output_rows()]
    assert sorted(ids) == sorted(f * 100 + i for f in range(4) for i in range(40))
    assert len(ids) == len(set(ids)) == 160
    if point in COMMITTED_AFTER[table_format]:
        assert stats["recovered_runs"]["finalized"] != []
        assert {f["status"] for f in stats["files"]} == {"skipped_duplicate"}
    else:
        assert stats["recovered_runs"]["rolled_back"] != []
        assert stats["rows_out"] == 160
    assert _leftovers(lake, "pending") == [] and _leftovers(lake, "staging") == []


def test_mid_write_crash_leaves_part_of_the_files_published_until_recovery(spark, lake, aws):
    objs = _inputs(lake)
    with pytest.raises(SimulatedCrash):
        run_job(spark, _args(lake, objs), crash_at="mid_write", clients={"glue": aws["glue"]})
    orphans = lake.output_files()
    storage = Storage(lake.s3)
    [pending] = storage.list(lake.state + "pending/")
    planned = [d for d in storage.read_json(pending)["destinations"] if d.endswith(".parquet")]
    assert len(planned) == 4
    assert 1 <= len(orphans) < len(planned)
    store = StateStore(storage, lake.state)
    report = store.recover()
    assert len(report["rolled_back"]) == 1
    assert [u for u in orphans if lake.exists(u)] == []


@BOTH_FORMATS
def test_rerun_of_committed_inputs_is_a_no_op(spark, lake, aws):
    objs = _inputs(lake)[:1]
    run_job(spark, _args(lake, objs), clients={"glue": aws["glue"]})
    stats = run_job(spark, _args(lake, objs), clients={"glue": aws["glue"]})
    assert [f["status"] for f in stats["files"]] == ["skipped_duplicate"]
    assert len(lake.output_rows()) == 40


@BOTH_FORMATS
def test_run_in_flight_is_left_alone_and_its_sources_are_skipped(spark, lake, aws):
    objs = _inputs(lake)[:2]
    with pytest.raises(SimulatedCrash):
        run_job(spark, _args(lake, objs), crash_at="after_write", clients={"glue": aws["glue"]})
    published = lake.output_files()
    args = _args(lake, objs)
    args["visibility_timeout_seconds"] = "600"
    stats = run_job(spark, args, clients={"glue": aws["glue"]})
    assert len(stats["recovered_runs"]["in_flight"]) == 1
    assert {f["status"] for f in stats["files"]} == {"skipped_in_flight"}
    assert lake.output_files() == published


def test_emrfs_folder_markers_are_ignored_by_recovery_and_publishing_and_removed_with_staging(spark, lake, aws):
    """Glue 5.0 reads and writes s3:// through EMRFS, which leaves a ``<folder>_$folder$`` object
    next to a folder it creates. Here they are put where EMRFS would: the crashed run's staging,
    its data partition folder and the state root. Recovery ignores them and removes the run's;
    publishing copies none; every row is there once."""
    objs = _inputs(lake)[:2]
    with pytest.raises(SimulatedCrash):
        run_job(spark, _args(lake, objs), crash_at="after_read", clients={"glue": aws["glue"]})
    storage = Storage(lake.s3)
    [pending] = storage.list(lake.state + "pending/")
    run_id = storage.read_json(pending)["run_id"]
    markers = [lake.state + "staging/%s_$folder$" % run_id,
               lake.state + "staging/%s/data/ingest_date=2026-12-06_$folder$" % run_id,
               lake.state + "pending_$folder$"]
    for marker in markers:
        storage.write_bytes(marker, b"")
    time.sleep(1.1)
    stats = run_job(spark, _args(lake, objs), clients={"glue": aws["glue"]})
    assert stats["recovered_runs"]["rolled_back"] == [run_id]
    assert [m for m in markers[:2] if lake.exists(m)] == []
    assert lake.exists(markers[2])  # not a run's: left alone, and read by nothing
    assert [u for u in lake.keys(lake.output) if "$folder$" in u] == []
    assert len(lake.output_rows()) == 80

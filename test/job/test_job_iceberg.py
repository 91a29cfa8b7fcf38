"""Iceberg table output: the job creates the table in the Glue catalog (Iceberg's
GlueCatalog on the local endpoint), commits each run as one snapshot carrying its run id
and sources, evolves the schema by name and turns the table optimizers on.

The format, fault-injection and exactly-once tests run in both formats
(test_formats.py, test_exactly_once.py); these are the Iceberg-only properties.
"""
import json

import pytest

from cdk_event_driven_glue_workflow_tools.moto_patches import GLUE_TABLE_OPTIMIZERS
from glue_ingest.faults import SimulatedCrash
from job_helpers import jsonl, run_job

pytestmark = pytest.mark.parametrize("table_format", ["ICEBERG"], indirect=True)


def _run(spark, lake, *objs, **extra):
    return run_job(spark, lake.args(input_files=",".join(o["uri"] for o in objs), **extra))


def _snapshots(spark, lake):
    return spark.table(lake.table_ident + ".snapshots").orderBy("committed_at").collect()


def test_the_job_creates_the_table_in_the_glue_catalog_at_the_output_location(spark, lake, local_aws):
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1}])))
    table = local_aws.client("glue").get_table(DatabaseName=lake.iceberg["database"], Name="events")["Table"]
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"
    assert table["Parameters"]["metadata_location"].startswith(lake.output.rstrip("/") + "/metadata/")
    files = spark.table(lake.table_ident + ".files").collect()
    assert files and all(f["file_path"].startswith(lake.output.rstrip("/") + "/data/") for f in files)


def test_partitions_are_days_of_ingestion_by_default_or_the_given_columns(spark, lake):
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1, "region": "eu"}])))
    [partition] = spark.table(lake.table_ident + ".partitions").collect()
    assert partition["partition"].asDict().keys() == {"_ingested_at_day"}


def test_user_partition_columns(spark, lake):
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1, "region": "eu"}, {"id": 2, "region": "us"}])),
         partition_columns="region")
    parts = sorted(p["partition"]["region"] for p in spark.table(lake.table_ident + ".partitions").collect())
    assert parts == ["eu", "us"]


def test_each_run_is_one_snapshot_with_its_run_id_and_source_versions(spark, lake):
    a = lake.put("in/a.jsonl", jsonl([{"id": 1}, {"id": 2}]))
    b = lake.put("in/b.jsonl", jsonl([{"id": 3}]))
    first = _run(spark, lake, a, b)
    second = _run(spark, lake, lake.put("in/c.jsonl", jsonl([{"id": 4}])))
    snapshots = _snapshots(spark, lake)
    assert [s["summary"]["cdk-edgw.run-id"] for s in snapshots] == [first["run_id"], second["run_id"]]
    sources = json.loads(snapshots[0]["summary"]["cdk-edgw.sources"])
    assert sorted(tuple(s) for s in sources) == sorted([(a["uri"], a["etag"]), (b["uri"], b["etag"])])
    assert snapshots[0]["summary"]["added-records"] == "3"


def test_a_crash_before_the_snapshot_leaves_no_visible_row(spark, lake):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    with pytest.raises(SimulatedCrash):
        _run(spark, lake, obj, crash_at="mid_write", visibility_timeout_seconds="1")
    assert lake.output_rows() == []


def test_a_crash_after_the_snapshot_shows_the_whole_run_and_the_rerun_adds_nothing(spark, lake):
    objs = [lake.put("in/%d.jsonl" % i, jsonl([{"id": i * 10 + j} for j in range(5)])) for i in range(3)]
    with pytest.raises(SimulatedCrash):
        _run(spark, lake, *objs, crash_at="after_write", visibility_timeout_seconds="1")
    assert len(lake.output_rows()) == 15          # readers see the whole run at once
    import time
    time.sleep(1.1)                               # the crashed run's lease ends
    stats = _run(spark, lake, *objs, visibility_timeout_seconds="1")
    assert stats["recovered_runs"]["finalized"] != []
    assert len(_snapshots(spark, lake)) == 1
    assert sorted(r["id"] for r in lake.output_rows()) == sorted(i * 10 + j for i in range(3) for j in range(5))


def test_new_columns_are_added_by_name_and_a_type_conflict_is_rejected_with_its_reason(spark, lake):
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1, "qty": 5, "dims": {"w": 2}}])))
    obj = lake.put("in/b.jsonl", jsonl([{"id": 2, "qty": "many"}, {"qty": 7, "color": "red", "id": 3}]))
    stats = _run(spark, lake, obj)
    assert [(r["reason"], r["position"]) for r in lake.rejected_records()] == [
        ("type conflict on column qty: table has bigint, file has string", 1)]
    columns = [(f.name, f.dataType.simpleString()) for f in spark.table(lake.table_ident).schema.fields]
    assert columns[-1] == ("color", "string")
    assert dict(columns)["qty"] == "bigint" and dict(columns)["dims"] == "struct<w:bigint>"
    rows = sorted((r["id"], r["qty"], r["color"], r["dims"]) for r in lake.output_rows())
    assert rows == [(1, 5, None, {"w": 2}), (3, 7, "red", None)]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (2, 1, 1)


OPTIMIZERS = dict(iceberg_optimizers="compaction,retention,orphan_file_deletion",
                  iceberg_optimizer_role_arn="arn:aws:iam::123456789012:role/optimizers")


def _optimizers(local_aws, lake):
    return {k[-1]: v for k, v in GLUE_TABLE_OPTIMIZERS.items()
            if k[0] == local_aws.account_id and k[3:5] == (lake.iceberg["database"], "events")}


def test_a_fresh_table_gets_its_optimizers_right_after_the_job_creates_it(spark, lake, local_aws):
    assert _optimizers(local_aws, lake) == {}
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1}])), **OPTIMIZERS)
    optimizers = _optimizers(local_aws, lake)
    assert set(optimizers) == {"compaction", "retention", "orphan_file_deletion"}
    assert {o["roleArn"] for o in optimizers.values()} == {OPTIMIZERS["iceberg_optimizer_role_arn"]}
    assert optimizers["retention"]["retentionConfiguration"]["icebergConfiguration"] == {
        "snapshotRetentionPeriodInDays": 5, "numberOfSnapshotsToRetain": 1, "cleanExpiredFiles": True}
    assert optimizers["orphan_file_deletion"]["orphanFileDeletionConfiguration"]["icebergConfiguration"] == {
        "orphanFileRetentionPeriodInDays": 3}


def test_changed_optimizer_settings_are_updated_once(spark, lake, local_aws):
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1}])), **OPTIMIZERS)
    _run(spark, lake, lake.put("in/b.jsonl", jsonl([{"id": 2}])), iceberg_snapshot_retention_days="9", **OPTIMIZERS)
    retention = _optimizers(local_aws, lake)["retention"]["retentionConfiguration"]["icebergConfiguration"]
    assert retention["snapshotRetentionPeriodInDays"] == 9


def test_the_optimizer_extension_refuses_a_table_that_does_not_exist(local_aws, lake):
    glue = local_aws.client("glue")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.create_table_optimizer(CatalogId=local_aws.account_id, DatabaseName=lake.iceberg["database"],
                                    TableName="missing", Type="compaction",
                                    TableOptimizerConfiguration={"roleArn": OPTIMIZERS["iceberg_optimizer_role_arn"],
                                                                 "enabled": True})


def test_reading_a_table_nothing_created_fails_instead_of_reading_as_empty(spark, lake):
    """An emptiness assertion must not pass because the table was never created."""
    assert lake.table_exists() is False
    with pytest.raises(AssertionError, match="does not exist: nothing created it"):
        lake.output_rows()
    _run(spark, lake, lake.put("in/a.jsonl", jsonl([{"id": 1}])))
    assert lake.table_exists() is True and [r["id"] for r in lake.output_rows()] == [1]

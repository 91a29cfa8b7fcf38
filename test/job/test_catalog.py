"""Glue Data Catalog: table creation, schema evolution, partitions, type conflicts."""
from job_helpers import jsonl, run_job


def _run(spark, lake, aws, *objs, **extra):
    args = lake.args(input_files=",".join(o["uri"] for o in objs), catalog_update="true",
                     database_name="lakedb", table_name="events", **extra)
    return run_job(spark, args, clients={"glue": aws["glue"]})


def _table(aws):
    return aws["glue"].get_table(DatabaseName="lakedb", Name="events")["Table"]


def _columns(aws):
    return [(c["Name"], c["Type"]) for c in _table(aws)["StorageDescriptor"]["Columns"]]


def test_first_run_creates_an_external_parquet_table(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a", "price": 1.5, "ok": True,
                                         "tags": ["x"], "dims": {"w": 2}}]))
    _run(spark, lake, aws, obj)
    table = _table(aws)
    sd = table["StorageDescriptor"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    assert sd["SerdeInfo"]["SerializationLibrary"] == \
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert sd["Location"] == lake.output
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("ingest_date", "string")]
    assert dict(_columns(aws)) == {
        "dims": "struct<w:bigint>", "id": "bigint", "name": "string", "ok": "boolean",
        "price": "double", "tags": "array<string>", "_source_file": "string",
        "_ingested_at": "timestamp"}


def test_new_columns_are_appended_to_the_end(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a"}])))
    before = _columns(aws)
    _run(spark, lake, aws, lake.put("in/b.jsonl", jsonl([{"id": 2, "color": "red", "qty": 3}])))
    after = _columns(aws)
    assert after[:len(before)] == before
    assert after[len(before):] == [("color", "string"), ("qty", "bigint")]


def test_partitions_are_registered_for_each_partition_value(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1, "country": "NO"}, {"id": 2, "country": "IT"},
                                        {"id": 3, "country": "IT"}]))
    stats = _run(spark, lake, aws, obj, partition_columns="ingest_date,country")
    day = stats["started_at"][:10]
    parts = aws["glue"].get_partitions(DatabaseName="lakedb", TableName="events")["Partitions"]
    got = sorted((tuple(p["Values"]), p["StorageDescriptor"]["Location"]) for p in parts)
    assert got == [((day, "IT"), "%singest_date=%s/country=IT/" % (lake.output, day)),
                   ((day, "NO"), "%singest_date=%s/country=NO/" % (lake.output, day))]
    assert [k["Name"] for k in _table(aws)["PartitionKeys"]] == ["ingest_date", "country"]
    rows = sorted((r["id"], r["country"]) for r in lake.output_rows())
    assert rows == [(1, "NO"), (2, "IT"), (3, "IT")]


def test_existing_partition_is_not_an_error(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1}])))
    _run(spark, lake, aws, lake.put("in/b.jsonl", jsonl([{"id": 2}])))
    parts = aws["glue"].get_partitions(DatabaseName="lakedb", TableName="events")["Partitions"]
    assert len(parts) == 1
    assert sorted(r["id"] for r in lake.output_rows()) == [1, 2]


def test_widening_type_is_cast_to_the_table_type(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "amount": 1.5}])))
    stats = _run(spark, lake, aws, lake.put("in/b.csv", "id,amount\n2,7\n"))
    assert stats["rows_rejected"] == 0
    assert dict(_columns(aws))["amount"] == "double"
    assert sorted((r["id"], r["amount"]) for r in lake.output_rows()) == [(1, 1.5), (2, 7.0)]


def test_any_type_is_cast_to_string_when_the_table_has_string(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "code": "A7"}])))
    stats = _run(spark, lake, aws, lake.put("in/b.jsonl", jsonl([{"id": 2, "code": 42}])))
    assert stats["rows_rejected"] == 0
    assert sorted((r["id"], r["code"]) for r in lake.output_rows()) == [(1, "A7"), (2, "42")]


def test_narrowing_type_conflict_rejects_the_affected_rows(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "qty": 5}])))
    obj = lake.put("in/b.jsonl", jsonl([{"id": 2, "qty": "many"}, {"id": 3}]))
    stats = _run(spark, lake, aws, obj)
    rejected = lake.rejected_records()
    assert [(r["source_file"], r["reason"], r["position"]) for r in rejected] == [
        (obj["uri"], "type conflict on column qty: table has bigint, file has string", 1)]
    assert rejected[0]["raw_record"] == '{"id": 2, "qty": "many"}'
    assert sorted((r["id"], r["qty"]) for r in lake.output_rows()) == [(1, 5), (3, None)]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (2, 1, 1)
    assert dict(_columns(aws))["qty"] == "bigint"


def test_type_rule_applies_without_the_catalog_too(spark, lake):
    first = lake.put("in/a.jsonl", jsonl([{"id": 1, "qty": 5}]))
    run_job(spark, lake.args(input_files=first["uri"]))
    second = lake.put("in/b.jsonl", jsonl([{"id": 2, "qty": "many"}]))
    stats = run_job(spark, lake.args(input_files=second["uri"]))
    assert stats["rows_rejected"] == 1
    assert [r["reason"] for r in lake.rejected_records()] == [
        "type conflict on column qty: table has bigint, file has string"]

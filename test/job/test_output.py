"""Output layout: file count, partitions, metadata columns, stats JSON."""
import os

import pyarrow.parquet as pq

from job_helpers import jsonl, run_job


def _replay(spark, lake, objs, **extra):
    return run_job(spark, lake.args(input_files=",".join(o["uri"] for o in objs), **extra))


def test_burst_of_50_small_files_gives_one_output_file(spark, lake):
    objs = [lake.put("in/small-%02d.jsonl" % i, jsonl([{"id": i, "v": i * 2}])) for i in range(50)]
    stats = _replay(spark, lake, objs)
    files = lake.output_files()
    assert len(files) == 1 and stats["output_files"] == 1
    rows = lake.output_rows()
    assert sorted((r["id"], r["v"]) for r in rows) == [(i, i * 2) for i in range(50)]
    assert {r["_source_file"] for r in rows} == {o["uri"] for o in objs}


def test_output_file_count_follows_total_input_bytes(spark, lake):
    # Four target sizes of input on the suite's 2 cores: 4 files, two waves of 2 writers
    # (a count that is not a multiple of the cores is rounded to one: test_units).
    assert spark.sparkContext.defaultParallelism == 2
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i * 1000 + j, "pad": "p" * 100}
                                                  for j in range(100)])) for i in range(4)]
    total = sum(o["size"] for o in objs)
    target_mb = total / 4.0 / (1024 * 1024) * 1.01
    stats = _replay(spark, lake, objs, target_file_size_mb="%.6f" % target_mb)
    assert stats["output_files"] == 4 == len(lake.output_files())
    assert len(lake.output_rows()) == 400


def test_parquet_is_snappy_in_ingest_date_partition_with_run_prefix(spark, lake):
    stats = _replay(spark, lake, [lake.put("in/a.jsonl", jsonl([{"id": 1}]))])
    [uri] = lake.output_files()
    rel = uri[len(lake.output):]
    day = stats["started_at"][:10]
    assert rel.startswith("ingest_date=%s/%s-" % (day, stats["run_id"]))
    [path] = lake.download([uri])
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "SNAPPY"


def test_metadata_columns_source_file_and_ingested_at(spark, lake):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    stats = _replay(spark, lake, [obj])
    [row] = lake.output_rows()
    assert row["_source_file"] == obj["uri"]
    assert row["_ingested_at"].isoformat()[:19] == stats["started_at"][:19]


def test_data_column_can_be_a_partition_column(spark, lake):
    obj = lake.put("in/a.csv", "id,region\n1,eu\n2,us\n3,eu\n")
    _replay(spark, lake, [obj], partition_columns="region")
    dirs = sorted({os.path.basename(os.path.dirname(p)) for p in lake.output_files()})
    assert dirs == ["region=eu", "region=us"]
    assert sorted((r["id"], r["region"]) for r in lake.output_rows()) == [(1, "eu"), (2, "us"), (3, "eu")]


def test_stats_json_has_the_documented_fields(spark, lake):
    obj = lake.put("in/a.jsonl", '{"id": 1}\n{bad\n')
    stats = _replay(spark, lake, [obj])
    [written] = lake.stats_files()
    run_level = {"rounds": 1, "round_ids": [stats["run_id"]], "messages_waiting_at_end": None}
    assert {k: v for k, v in stats.items() if k not in run_level} == dict(written, seconds=stats["seconds"])
    assert {k: stats[k] for k in run_level} == run_level
    assert lake.exists(lake.stats + stats["run_id"] + ".json")
    for key in ("run_id", "job_name", "workflow_run_id", "batch_condition", "files",
                "files_processed", "rows_in", "rows_out", "rows_rejected", "bytes_in",
                "seconds", "output_files", "started_at", "finished_at"):
        assert key in written
    assert written["files"] == [{
        "uri": obj["uri"], "bucket": lake.raw_bucket, "key": "in/a.jsonl", "etag": obj["etag"],
        "rows_in": 2, "rows_out": 1, "rows_rejected": 1, "rows_filtered": 0, "rule_failures": {},
        "bytes": obj["size"], "status": "ok", "reason": None}]
    assert (written["job_name"], written["batch_condition"], written["bytes_in"]) == (
        "test-job", "replay", obj["size"])


def test_replay_mode_reads_plain_local_paths(spark, lake, tmp_path):
    local = tmp_path / "drop" / "local file.jsonl"
    local.parent.mkdir()
    local.write_text(jsonl([{"id": 9}]))
    stats = run_job(spark, lake.args(input_files=str(local)))
    [row] = lake.output_rows()
    assert (row["id"], row["_source_file"]) == (9, str(local))
    assert stats["files"][0]["key"] == str(local)


def test_missing_partition_column_goes_to_the_hive_default_partition(spark, lake):
    _replay(spark, lake, [lake.put("in/a.jsonl", jsonl([{"id": 1}]))],
            partition_columns="ingest_date,region")
    [path] = lake.output_files()
    assert os.path.basename(os.path.dirname(path)) == "region=__HIVE_DEFAULT_PARTITION__"


def test_clean_json_takes_the_single_parse_fast_path(spark, lake):
    stats = _replay(spark, lake, [lake.put("in/a.jsonl", jsonl([{"id": 1}, {"id": 2}]))])
    assert stats["read_path"] == "fast"
    assert (stats["files"][0]["rows_in"], stats["rows_out"]) == (2, 2)


def test_malformed_json_takes_the_checked_path(spark, lake):
    stats = _replay(spark, lake, [lake.put("in/a.jsonl", '{"id": 1}\n123\n')])
    assert stats["read_path"] == "checked"
    assert [(r["position"], r["raw_record"]) for r in lake.rejected_records()] == [(2, "123")]

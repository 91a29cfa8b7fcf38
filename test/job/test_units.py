"""Argument parsing, defaults and small pure helpers (no Spark job run)."""
import pytest
from pyspark.sql import types as T

from glue_ingest.args import Config, parse_args
from glue_ingest.storage import Storage
from glue_ingest.commit import StateStore
from glue_ingest import probe
from glue_ingest import transforms as pt
from glue_ingest.schema import spark_to_hive_type


def test_glue_style_arguments_are_parsed():
    args = parse_args(["script.py", "--JOB_NAME", "j", "--output_path", "s3://b/p/",
                           "--enable-metrics", "--catalog_update=false", "--input_files", "a,b"])
    assert args == {"JOB_NAME": "j", "output_path": "s3://b/p/", "enable-metrics": "true",
                    "catalog_update": "false", "input_files": "a,b"}


def test_defaults():
    cfg = Config({"input_files": "a.json", "output_path": "o", "rejected_path": "r",
                      "stats_path": "s", "state_path": "t", "catalog_update": "false"})
    assert (cfg.input_format, cfg.partition_columns, cfg.max_files, cfg.target_mb) == (
        "AUTO", ["ingest_date"], 1000, 128.0)
    assert (cfg.output_path, cfg.visibility, cfg.wait_seconds) == ("o/", 3600, 1)


def test_catalog_target_is_required_unless_disabled():
    with pytest.raises(ValueError, match="--database_name and --table_name are required"):
        Config({"input_files": "a", "output_path": "o", "rejected_path": "r",
                    "stats_path": "s", "state_path": "t"})


def test_a_source_is_required():
    with pytest.raises(ValueError, match="either --ledger_queue_url or --input_files"):
        Config({"output_path": "o", "rejected_path": "r", "stats_path": "s",
                    "state_path": "t", "catalog_update": "false"})


@pytest.mark.parametrize("name,fmt,expected", [
    ("a.json", "AUTO", "JSON"), ("a.ndjson.gz", "AUTO", "JSON"), ("a.jsonl", "AUTO", "JSON"),
    ("a.CSV.GZ", "AUTO", "CSV"), ("a.txt", "AUTO", None), ("a.txt", "CSV", "CSV")])
def test_format_from_name(name, fmt, expected):
    assert pt.format_from_name(name, fmt) == expected


@pytest.mark.parametrize("total,target,expected", [
    (0, 128, 1), (50 * 1024, 128, 1), (128 * 1024 * 1024, 128, 1),
    (128 * 1024 * 1024 + 1, 128, 2), (1000 * 1024 * 1024, 128, 8)])
def test_output_file_count(total, target, expected):
    assert pt.output_file_count(total, target) == expected


MIB = 1024 * 1024


@pytest.mark.parametrize("total_mib,cores,expected", [
    (300, 4, 3),      # fewer files than cores: the size decides alone
    (335, 2, 2),      # 2.6 files wanted: 2 of 168 MiB are nearer 128 MiB than 4 of 84
    (370, 2, 4),      # 2.9 wanted: 4 of 92 MiB are nearer than 2 of 185
    (1000, 4, 8),     # 7.8 wanted: 8
    (1300, 4, 12),    # 10.2 wanted: 8 of 162 MiB vs 12 of 108: 12
    (1100, 4, 8),     # 8.6 wanted: 8 of 138 MiB
    (129, 1, 2)])     # one core: the ceiling, as before
def test_more_files_than_cores_come_in_whole_waves(total_mib, cores, expected):
    assert pt.output_file_count(total_mib * MIB, 128, cores) == expected


def test_spark_to_hive_types():
    schema = T.StructType([
        T.StructField("a", T.ArrayType(T.StructType([T.StructField("x", T.LongType())]))),
        T.StructField("d", T.DecimalType(10, 2)), T.StructField("t", T.TimestampType()),
        T.StructField("m", T.MapType(T.StringType(), T.DoubleType()))])
    assert spark_to_hive_type(schema) == (
        "struct<a:array<struct<x:bigint>>,d:decimal(10,2),t:timestamp,m:map<string,double>>")


def test_locate_positions_matches_line_starts_in_order():
    text = "h\nab\nx ab\nab\n"
    assert probe.locate_positions(text, ["ab", "ab", "zz", None]) == [2, 4, None, None]


def test_recovery_without_pending_runs_is_empty(tmp_path):
    store = StateStore(Storage(), str(tmp_path) + "/state/")
    assert store.recover() == {"rolled_back": [], "finalized": [], "in_flight": []}


def test_recovery_leaves_a_fresh_pending_run_alone(tmp_path):
    store = StateStore(Storage(), str(tmp_path) + "/state/")
    store.write_pending({"run_id": "r1", "heartbeat_at": 1000.0, "destinations": [],
                         "sources": [{"uri": "s3://b/k", "etag": "e"}]})
    assert store.recover(lease_seconds=60, now=1030.0)["in_flight"] == ["r1"]
    assert store.claimed == {("s3://b/k", "e")}
    assert store.recover(lease_seconds=60, now=1061.0)["rolled_back"] == ["r1"]
    assert store.pending_exists("r1") is False


def test_hive_partition_dirs_escape_like_spark():
    assert pt.hive_partition_dir("d", "2026-11-22") == "d=2026-11-22"
    assert pt.hive_partition_dir("k", "a/b=c%") == "k=a%2Fb%3Dc%25"
    assert pt.hive_partition_dir("k", None) == "k=__HIVE_DEFAULT_PARTITION__"


def test_leading_constant_partitions_become_a_path_prefix():
    consts = {"ingest_date": "2026-11-22", "region": None}
    assert pt.split_partitions(["ingest_date", "country"], consts) == (
        ["ingest_date=2026-11-22"], ["country"])
    assert pt.split_partitions(["country", "ingest_date"], consts) == ([], ["country", "ingest_date"])
    assert pt.split_partitions(["ingest_date", "region"], consts) == (
        ["ingest_date=2026-11-22", "region=__HIVE_DEFAULT_PARTITION__"], [])


def test_hadoop_uri_string_predicts_input_file_name():
    assert pt.hadoop_uri_string("/tmp/a b+c=d%e ü.csv") == "file:///tmp/a%20b+c=d%25e%20ü.csv"
    assert pt.hadoop_uri_string("s3://bkt/in/x[1].json") == "s3://bkt/in/x%5B1%5D.json"


def _plan(df):
    return df._jdf.queryExecution().executedPlan().toString()


def test_a_small_run_parses_on_every_core_and_shuffles_to_its_few_writers(spark):
    df = spark.range(0, 1000, numPartitions=4)     # the suite's Spark has 2 cores
    shaped = pt.shape_for_output(df, 1)
    assert shaped.rdd.getNumPartitions() == 1
    assert "Exchange SinglePartition, REPARTITION_BY_NUM" in _plan(shaped)   # a shuffle to 1 writer


def test_as_many_files_as_cores_coalesce_without_a_shuffle(spark):
    df = spark.range(0, 1000, numPartitions=4)
    shaped = pt.shape_for_output(df, 3)
    assert shaped.rdd.getNumPartitions() == 3
    assert "Exchange" not in _plan(shaped)


def test_more_files_than_input_partitions_are_spread_round_robin(spark):
    shaped = pt.shape_for_output(spark.range(0, 1000, numPartitions=2), 5)
    assert shaped.rdd.getNumPartitions() == 5
    assert "RoundRobinPartitioning(5)" in _plan(shaped)


def test_an_empty_partition_list_is_no_partitions_and_never_a_column_named_true():
    from glue_ingest.args import Config, parse_args

    base = ["--input_files", "s3://b/k", "--catalog_update", "false"] + [
        x for name in ("output", "rejected", "stats", "state") for x in ("--%s_path" % name, "s3://b/%s/" % name)]
    assert Config(parse_args(base + ["--partition_columns", "[]"])).partition_columns == []
    assert Config(parse_args(base)).partition_columns == ["ingest_date"]
    assert Config(parse_args(base + ["--partition_columns", "ingest_date,region"])).partition_columns == [
        "ingest_date", "region"]

"""S3A harness: Spark reads and writes the job's ``s3://`` URIs over HTTP against moto's server.

The objects are put and checked with boto3 (another client of the same endpoint), so a pass
means the bytes went through S3 over HTTP both ways. Negative controls: without the
``fs.s3.impl`` mapping, and against a closed port, the same read fails.
"""
from __future__ import annotations

import io
import json
import time

import pyarrow.parquet as pq
import pytest
from harness_fixtures import hadoop_overrides, running_local_aws, s3_spark_session
from pyspark.sql import functions as F

BUCKET = "bkt-test"
# key -> rows; every key is a name Glue users do produce (space, +, =, non-ASCII, colon)
INPUTS = {
    "in/a b+c=d ü.json": [{"id": 1, "v": "space plus equals"}],
    "in/colon:key.json": [{"id": 2, "v": "colon"}],
    "in/plain.json": [{"id": 3, "v": "plain"}, {"id": 4, "v": "plain"}],
}


def _json_lines(rows):
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture(scope="module")
def aws():
    with running_local_aws() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for key, rows in INPUTS.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=_json_lines(rows))
        yield aws


@pytest.fixture(scope="module")
def spark(aws):
    with s3_spark_session(aws) as spark:
        yield spark


@pytest.mark.parametrize("key", sorted(INPUTS))
def test_reads_each_key_exactly_as_named(spark, key):
    df = spark.read.json(f"s3://{BUCKET}/{key}").withColumn("file", F.input_file_name())
    rows = [r.asDict() for r in df.orderBy("id").collect()]
    assert [{"id": r["id"], "v": r["v"]} for r in rows] == INPUTS[key]
    assert {r["file"] for r in rows} == {f"s3://{BUCKET}/" + key.replace(" ", "%20")}


def test_reads_the_folder_with_all_keys(spark):
    df = spark.read.json(f"s3://{BUCKET}/in/").withColumn("file", F.input_file_name())
    got = sorted((r["id"], r["file"]) for r in df.collect())
    assert got == [
        (1, f"s3://{BUCKET}/in/a%20b+c=d%20ü.json"),
        (2, f"s3://{BUCKET}/in/colon:key.json"),
        (3, f"s3://{BUCKET}/in/plain.json"),
        (4, f"s3://{BUCKET}/in/plain.json"),
    ]


def test_parquet_written_by_spark_is_read_back_by_boto3_and_pyarrow(aws, spark):
    df = spark.createDataFrame([(i, f"row {i}") for i in range(5)], "id long, v string")
    df.coalesce(1).write.mode("overwrite").parquet(f"s3://{BUCKET}/out/parquet/")

    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="out/parquet/")["Contents"]]
    parts = [k for k in keys if k.endswith(".parquet")]
    assert "out/parquet/_SUCCESS" in keys
    assert len(parts) == 1, keys
    assert not [k for k in keys if "_temporary" in k], keys
    body = s3.get_object(Bucket=BUCKET, Key=parts[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.to_pylist() == [{"id": i, "v": f"row {i}"} for i in range(5)]


def test_negative_control_without_the_s3_mapping_the_read_fails(spark):
    with hadoop_overrides(spark, {"fs.s3.impl": None}):
        with pytest.raises(Exception, match='No FileSystem for scheme "s3"'):
            spark.read.json(f"s3://{BUCKET}/in/plain.json").collect()
    # and the mapping restored, the same read works again
    assert spark.read.json(f"s3://{BUCKET}/in/plain.json").count() == 2


def test_negative_control_wrong_endpoint_port_fails_fast(aws, spark):
    wrong = f"http://127.0.0.1:{_closed_port()}"
    with hadoop_overrides(spark, {"fs.s3a.endpoint": wrong}):
        started = time.perf_counter()
        with pytest.raises(Exception, match="Connection refused"):
            spark.read.json(f"s3://{BUCKET}/in/plain.json").collect()
        assert time.perf_counter() - started < 30


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_session_returns_the_running_session_for_the_same_conf_and_refuses_another(aws, spark):
    from cdk_event_driven_glue_workflow_tools import sparkconf
    from harness_fixtures import s3_spark_conf

    assert sparkconf.session(s3_spark_conf(aws)) is spark
    other = s3_spark_conf(aws, extra={"spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:1"})
    with pytest.raises(RuntimeError, match="spark.hadoop.fs.s3a.endpoint"):
        sparkconf.session(other)

"""Child processes reach the local endpoint the way a Glue script would: unchanged code.

* boto3 in a child, configured only by ``LocalAws.env()`` (``AWS_ENDPOINT_URL``), for S3, SQS
  and Glue; negative control: the same child with the caller's environment merged naively
  (a service-specific endpoint variable wins) fails.
* Spark in a child that only calls ``SparkSession.builder.getOrCreate()``, configured only by
  ``write_spark_defaults`` + ``SPARK_CONF_DIR``; negative control: without it, ``s3://`` fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cdk_event_driven_glue_workflow_tools import sparkconf
from harness_fixtures import running_local_aws, s3_spark_conf

BUCKET = "bkt-child"
KEY = "in/a b+c=d ü.json"

BOTO3_CHILD = """
import json, boto3
s3, sqs, glue = boto3.client("s3"), boto3.client("sqs"), boto3.client("glue")
print(json.dumps({
    "s3": s3.get_object(Bucket="bkt-child", Key="in/a b+c=d ü.json")["Body"].read().decode(),
    "sqs": sqs.get_queue_url(QueueName="child-queue")["QueueUrl"],
    "glue": glue.get_database(Name="childdb")["Database"]["Name"],
    "endpoint": s3.meta.endpoint_url,
}))
"""

SPARK_CHILD = """
import json
from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
system = spark._jvm.java.lang.System
rows = spark.read.json("s3://bkt-child/in/a b+c=d ü.json").withColumn("file", F.input_file_name())
print("RESULT " + json.dumps({
    "rows": [r.asDict() for r in rows.collect()],
    "tz": system.getProperty("user.timezone"),
    "note": system.getProperty("harness.note"),
    "marker": system.getProperty("harness.marker"),
    "session_tz": spark.conf.get("spark.sql.session.timeZone"),
}))
"""


PLAIN_CHILD = """
import json
from pyspark.sql import SparkSession
from cdk_event_driven_glue_workflow_tools import sparkconf
spark = SparkSession.builder.getOrCreate()
out = {}
try:
    spark.read.json("s3://bkt-child/in/a b+c=d ü.json").collect()
    out["read"] = "ok"
except Exception as error:
    out["read"] = str(error)
spark.stop()
# the JVM of this process has no hadoop-aws: sparkconf.session must say so, not start without it
try:
    sparkconf.session(sparkconf.packages_conf(sparkconf.HADOOP_AWS))
    out["session"] = "ok"
except RuntimeError as error:
    out["session"] = str(error)
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def aws():
    with running_local_aws() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b'{"id": 1}\n')
        aws.client("sqs").create_queue(QueueName="child-queue")
        aws.client("glue").create_database(DatabaseInput={"Name": "childdb"})
        yield aws


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)


def _hostile_parent_env(aws) -> dict[str, str]:
    """What a developer's shell may hold: a profile, a token, a service-specific endpoint."""
    return {**os.environ, "AWS_PROFILE": "no-such-profile", "AWS_SESSION_TOKEN": "stale",
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}


def test_child_boto3_reaches_s3_sqs_glue_through_env_only(aws):
    result = _run(BOTO3_CHILD, aws.env(base=_hostile_parent_env(aws)))
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got == {"s3": '{"id": 1}\n', "sqs": f"{aws.endpoint}/{aws.account_id}/child-queue",
                   "glue": "childdb", "endpoint": aws.endpoint}


@pytest.mark.parametrize("variable,value,error", [
    ("AWS_PROFILE", "no-such-profile", "ProfileNotFound"),
    ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", "Could not connect to the endpoint URL"),
])
def test_negative_control_child_boto3_with_a_naive_env_fails(aws, variable, value, error):
    """Our variables merged over the parent's: one leftover variable breaks the child."""
    naive = {**os.environ, **aws.env(), variable: value}
    result = _run(BOTO3_CHILD, naive)
    assert result.returncode != 0
    assert error in result.stderr, result.stderr[-2000:]


@pytest.fixture(scope="module")
def spark_children(aws, tmp_path_factory):
    """Both Spark children, started together (each launches a JVM: running them side by side
    saves a JVM start on the suite's clock); each test waits for its own."""
    conf = s3_spark_conf(aws)
    # two options, one of them a value with a space: both must reach the driver JVM
    conf["spark.driver.extraJavaOptions"] = '-Duser.timezone=UTC -Dharness.note="a b" -Dharness.marker=m'
    conf_dir = sparkconf.write_spark_defaults(conf, tmp_path_factory.mktemp("conf"))
    configured = sparkconf.child_env(
        conf_dir, {**aws.env(), "PYSPARK_SUBMIT_ARGS": "--conf spark.ui.enabled=true pyspark-shell"})
    assert "PYSPARK_SUBMIT_ARGS" not in configured  # child_env drops it: it would override the file
    plain = {k: v for k, v in aws.env().items() if k not in ("SPARK_CONF_DIR", "PYSPARK_SUBMIT_ARGS")}
    plain["SPARK_LOCAL_IP"] = "127.0.0.1"
    children = {
        "configured": subprocess.Popen([sys.executable, "-c", SPARK_CHILD], env=configured,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        "plain": subprocess.Popen([sys.executable, "-c", PLAIN_CHILD], env=plain,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    yield children
    for child in children.values():
        if child.poll() is None:
            child.kill()
            child.communicate()


def _result(child: subprocess.Popen) -> dict:
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr[-3000:]
    line = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    assert line, stdout + stderr[-3000:]
    return json.loads(line[0][len("RESULT "):])


def test_child_spark_gets_the_conf_from_spark_defaults_only(spark_children):
    assert _result(spark_children["configured"]) == {
        "rows": [{"id": 1, "file": f"s3://{BUCKET}/in/a%20b+c=d%20ü.json"}],
        "tz": "UTC", "note": "a b", "marker": "m", "session_tz": "UTC",
    }


def test_negative_control_child_spark_without_spark_defaults_fails(spark_children):
    got = _result(spark_children["plain"])
    assert 'No FileSystem for scheme "s3"' in got["read"], got
    assert got["session"].startswith("this Python process already runs a JVM launched without "
                                     "['org.apache.hadoop:hadoop-aws:3.3.4']"), got

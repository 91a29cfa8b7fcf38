"""Fixtures of the Glue job tests: one local SparkSession, fake AWS, temp lake."""
import os
import sys

import pytest

# The job package, imported from the source tree (the launcher tests run it from
# the synthesized assembly instead, as Glue stages it).
PACKAGE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "assets", "glue", "python"))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# moto needs credentials and a region; these are fake and never leave the process.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("job-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path):
    """A local stand-in for the bucket: paths and the base job arguments."""
    from job_helpers import Lake

    return Lake(tmp_path)


@pytest.fixture
def aws():
    """moto SQS + Glue with a ledger queue (and DLQ) and the Glue database."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        glue = boto3.client("glue", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="ledger-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        import json
        queue = sqs.create_queue(QueueName="ledger", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        })["QueueUrl"]
        glue.create_database(DatabaseInput={"Name": "lakedb"})
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        yield {"sqs": sqs, "glue": glue, "cloudwatch": cloudwatch, "queue_url": queue, "dlq_url": dlq}

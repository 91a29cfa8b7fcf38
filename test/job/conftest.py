"""Fixtures of the Glue job tests: the job against S3, SQS and Glue over HTTP.

Every test talks to moto's server on 127.0.0.1 (``local_aws``), the way the job talks to
AWS on Glue: boto3 through ``AWS_ENDPOINT_URL``, Spark through Hadoop's S3A connector with
``s3://`` mapped to it (Glue's EMRFS; only the filesystem implementation differs, never
the URIs). No folder stands in for a bucket. Each test gets its own buckets, queues and
database, so tests never see each other's objects on the shared server.
"""
import json
import os
import sys
import uuid

import pytest

from harness_fixtures import local_aws, s3_spark_conf  # noqa: F401  (local_aws is a fixture)

# The job package, imported from the source tree (the launcher tests and test/s3 run it
# from the synthesized assembly instead, as Glue stages it).
PACKAGE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "assets", "glue", "python"))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
ICEBERG_CATALOG = "glue_catalog"


@pytest.fixture(scope="session", autouse=True)
def job_environment(local_aws):  # noqa: F811
    """The job's own boto3 clients (those a test does not pass in) reach ``local_aws``
    through the environment, as on Glue they reach AWS; restored after the suite."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in local_aws.env().items() if k.startswith("AWS_")})
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def spark(local_aws, job_environment):  # noqa: F811
    """One SparkSession for the suite: ``s3://`` through S3A to ``local_aws``, and the
    Iceberg runtime with a Glue catalog (Iceberg's GlueCatalog) on the same endpoint."""
    from cdk_event_driven_glue_workflow_tools import sparkconf

    prefix = "spark.sql.catalog." + ICEBERG_CATALOG
    conf = s3_spark_conf(local_aws, extra={
        "spark.driver.memory": "1g",
        "spark.sql.adaptive.enabled": "true",
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        prefix + ".catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        prefix + ".io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        prefix + ".warehouse": "s3://unused-warehouse/",
        prefix + ".glue.endpoint": local_aws.endpoint,
        prefix + ".s3.endpoint": local_aws.endpoint,
        prefix + ".s3.path-style-access": "true",
        prefix + ".client.region": local_aws.region,
        # On Glue each run is a fresh process; here runs share one, and tests reuse a table
        # name after dropping its database: no table metadata cached across runs.
        prefix + ".cache-enabled": "false",
    })
    session = sparkconf.session(conf)
    # Iceberg's GlueCatalog and S3FileIO (AWS SDK v2) read keys from the JVM's system
    # properties; the JVM may predate this suite's environment (another suite can have
    # launched it), so they are set there.
    sparkconf.jvm_aws_credentials(session, os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                                  os.environ["AWS_REGION"])
    yield session
    session.stop()


def unique(name):
    return "%s-%s" % (name, uuid.uuid4().hex[:10])


@pytest.fixture
def table_format(request):
    """PARQUET unless a test is parametrized with ``indirect=["table_format"]``."""
    return getattr(request, "param", "PARQUET")


@pytest.fixture
def lake(local_aws, job_environment, tmp_path, table_format, request):  # noqa: F811
    """A raw bucket and a lake bucket of this test's own on the S3 endpoint; with ICEBERG,
    the job's table is an Iceberg table of its own in the Glue catalog."""
    from job_helpers import Lake

    lake = Lake(local_aws.client("s3"), unique("raw"), unique("lake"), tmp_path)
    if table_format == "ICEBERG":
        glue = local_aws.client("glue")
        database = unique("icedb").replace("-", "_")
        glue.create_database(DatabaseInput={"Name": database})
        lake.use_iceberg(request.getfixturevalue("spark"), ICEBERG_CATALOG, database, "events")
        yield lake
        glue.delete_database(Name=database)
    else:
        yield lake


@pytest.fixture
def aws(local_aws, job_environment):  # noqa: F811
    """The ledger queue (with its DLQ, three receives) and the Glue database of this test."""
    sqs, glue = local_aws.client("sqs"), local_aws.client("glue")
    cloudwatch = local_aws.client("cloudwatch")
    name = unique("ledger")
    dlq = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=name, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
    })["QueueUrl"]
    # One database name for every test (the tests name it); dropped after each test, with
    # its tables, so the next test starts from an empty catalog.
    glue.create_database(DatabaseInput={"Name": "lakedb"})
    yield {"sqs": sqs, "glue": glue, "cloudwatch": cloudwatch, "queue_url": queue, "dlq_url": dlq,
           "s3": local_aws.client("s3")}
    glue.delete_database(Name="lakedb")

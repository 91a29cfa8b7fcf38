"""Fixtures for suites that need local AWS over HTTP and a Spark that reads ``s3://`` through S3A.

A plain module, not a conftest: import what you need into a test module (or a conftest) and
pytest registers the fixtures there. ``test/`` is on ``sys.path`` (``test/conftest.py`` puts it
there), so from any suite under ``test/``::

    from harness_fixtures import local_aws, s3_spark  # noqa: F401  (fixtures)

    def test_reads_input(local_aws, s3_spark):
        s3 = local_aws.client("s3")
        s3.create_bucket(Bucket="bkt-job")
        s3.put_object(Bucket="bkt-job", Key="in/a.json", Body=b'{"x": 1}\\n')
        assert s3_spark.read.json("s3://bkt-job/in/a.json").count() == 1

* ``local_aws`` (session scope): one :class:`LocalAws` (moto's server on 127.0.0.1) for the
  whole pytest session; its state is shared, so use bucket/queue names unique to your suite.
  ``local_aws.client(service, credentials)``, ``local_aws.env(credentials)`` for a child
  process, ``local_aws.principal(name, policy)`` + ``local_aws.enforce_iam()`` for IAM
  (always pair it with ``relax_iam()``, e.g. ``with local_aws.relaxed():`` or
  try/finally: enforcement is process-wide in moto).
* ``s3_spark`` (session scope): the in-process SparkSession with hadoop-aws, ``s3://`` mapped
  to S3A, bound to ``local_aws`` with the admin keys. Spark 3.5 allows one running session per
  process and adds jars only when the JVM starts: do not combine it with another session
  fixture in the same run (``test/job``'s ``spark``); ``sparkconf.session`` raises a
  ``RuntimeError`` saying so instead of handing out a session without S3A.
* Context managers for your own scopes (the harness tests use these, one per module):
  :func:`running_local_aws`, :func:`s3_spark_session`, :func:`hadoop_overrides`.

Don't mix with ``moto.mock_aws`` in the same test: moto's backends are process-global and
``mock_aws`` resets them, emptying the server's buckets too.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from cdk_event_driven_glue_workflow_tools import sparkconf
from cdk_event_driven_glue_workflow_tools.localaws import Credentials, LocalAws

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

#: The default job's JVM helper, as the build leaves it (scripts/build-job-jar.sh, run by
#: projen before every compile); on Glue it comes through --extra-jars.
JOB_JAR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "assets", "glue", "lib",
                                       "glue-ingest-jvm.jar"))


def job_jar() -> str:
    """The path of the job's JVM helper; fails, naming the build step, when it is not built."""
    if not os.path.isfile(JOB_JAR):
        pytest.fail(f"{JOB_JAR} is missing: build it with scripts/build-job-jar.sh "
                    "(npx projen compile runs it)")
    return JOB_JAR


@contextlib.contextmanager
def running_local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


def s3_spark_conf(aws: LocalAws, credentials: Credentials | None = None,
                  extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Local Spark with ``s3://`` through S3A to ``aws``, the Iceberg runtime and the job's jar.

    Every suite asks for the same packages (hadoop-aws and Iceberg's) and jars, so whichever
    suite launches this process's JVM first launches it with what all of them need."""
    creds = credentials or Credentials("test", "test")
    return sparkconf.merge(
        sparkconf.base_conf("harness"),
        sparkconf.iceberg_conf(),
        sparkconf.s3_conf(aws.endpoint, creds.access_key_id, creds.secret_access_key, aws.region),
        {"spark.jars": job_jar()},
        extra or {},
    )


@contextlib.contextmanager
def s3_spark_session(aws: LocalAws, credentials: Credentials | None = None,
                     extra: Mapping[str, str] | None = None) -> Iterator[Any]:
    """A SparkSession reading and writing ``s3://`` on ``aws`` with ``credentials``; stopped after."""
    spark = sparkconf.session(s3_spark_conf(aws, credentials, extra))
    try:
        yield spark
    finally:
        spark.stop()


@contextlib.contextmanager
def hadoop_overrides(spark: Any, settings: Mapping[str, str | None]) -> Iterator[None]:
    """Changes Hadoop settings of the running context (``None`` unsets) inside the block.

    Hadoop caches filesystems by scheme and bucket, not by configuration: the cache is
    closed on entry and exit so the block's reads build S3A clients from these settings."""
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    filesystem = spark.sparkContext._jvm.org.apache.hadoop.fs.FileSystem
    saved = {key: hadoop.get(key) for key in settings}

    def apply(values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                hadoop.unset(key)
            else:
                hadoop.set(key, value)

    filesystem.closeAll()
    try:
        apply(settings)
        yield
    finally:
        apply(saved)
        filesystem.closeAll()


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with running_local_aws() as aws:
        yield aws


@pytest.fixture(scope="session")
def s3_spark(local_aws: LocalAws) -> Iterator[Any]:
    with s3_spark_session(local_aws) as spark:
        yield spark

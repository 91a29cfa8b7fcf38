"""The Glue runtimes the default job is proven on: one profile per Glue version it allows.

Each profile says what AWS Glue provides to a PySpark job of that version, as AWS
publishes it, and what the local runtime takes to match it:

* Spark, Python, Scala, Java, Iceberg and the S3 connector: the AWS Glue release notes
  ("AWS Glue versions"), the "Migrating AWS Glue for Spark jobs to AWS Glue version 5.1"
  and "... 6.0" pages, and the "Using the Iceberg framework in AWS Glue" page;
* boto3 / botocore: ``base-requirements.txt`` of awslabs/aws-glue-libs, one commit per
  version ("Add base-requirements.txt for AWS Glue 5.0", "Add base-requirements.txt for AWS
  Glue 5.1", "Glue 6.0 changes"); these are the versions a job's ``import boto3`` gets;
* hadoop-aws: the Hadoop that the Spark release is built with (Spark 3.5.x: 3.3.4; Spark
  4.1.1: 3.4.2, as ``pyspark/jars/hadoop-client-api-*.jar`` shows). Glue 5.0 reads ``s3://``
  through EMRFS, which exists only on Glue; locally every profile reads it through Hadoop's
  S3A of that Hadoop version, the connector Glue 5.1 and 6.0 use themselves.

The local runner and the Glue-shaped launcher run a job under the profile of its template's
``GlueVersion`` (:func:`for_glue_version`), each in a venv of its own (``venvs``) built from
the profile's pinned requirements (``runtimes/glue-<version>.txt``, with hashes). The
construct accepts exactly these versions (``src/job/runtimes.ts``, checked against this
module by ``test/construct/test_glue_versions.py``).

What may not be matched on a given machine is the Python: Glue 6.0 runs Python 3.13. The
6.0 venv is built on a Python 3.13 when the machine has one (on PATH or through pyenv, as this
project's machines do); elsewhere on the tools' own Python, and ``venvs.python_note`` says so.
"""
from __future__ import annotations

import dataclasses
import pathlib

#: Maven Central's coordinates of the AWS SDK bundles hadoop-aws pulls in (for the docs):
#: hadoop-aws 3.3.4 -> com.amazonaws:aws-java-sdk-bundle:1.12.262 (SDK v1),
#: hadoop-aws 3.4.2 -> software.amazon.awssdk:bundle:2.29.52 (SDK v2).
HADOOP_AWS_SDK = {"3.3.4": "com.amazonaws:aws-java-sdk-bundle:1.12.262",
                  "3.4.2": "software.amazon.awssdk:bundle:2.29.52"}


@dataclasses.dataclass(frozen=True)
class GlueRuntime:
    """What one Glue version provides to a PySpark job, and its local stand-in."""

    glue_version: str
    #: Spark, and the pyspark release of the local runtime.
    spark: str
    #: Glue's Python (major.minor).
    python: str
    #: Scala binary version of Spark and the Iceberg runtime.
    scala: str
    java: str
    iceberg: str
    #: boto3 and botocore (released together under one version number).
    boto3: str
    #: The Hadoop of the Spark build: hadoop-aws must match it exactly.
    hadoop: str
    #: How Glue reads ``s3://`` for this version.
    s3_connector: str

    @property
    def spark_minor(self) -> str:
        return ".".join(self.spark.split(".")[:2])

    def requirements(self) -> list[str]:
        """The job runtime's Python packages, as requirement lines."""
        return [f"pyspark=={self.spark}", f"boto3=={self.boto3}", f"botocore=={self.boto3}"]

    @property
    def hadoop_aws(self) -> str:
        return f"org.apache.hadoop:hadoop-aws:{self.hadoop}"

    @property
    def iceberg_packages(self) -> tuple[str, str]:
        """What ``--datalake-formats iceberg`` adds on Glue: the Spark runtime and the AWS bundle."""
        return (f"org.apache.iceberg:iceberg-spark-runtime-{self.spark_minor}_{self.scala}:{self.iceberg}",
                f"org.apache.iceberg:iceberg-aws-bundle:{self.iceberg}")

    @property
    def lock_file(self) -> pathlib.Path:
        """The pinned requirements (with hashes) of this runtime's venv, shipped in this package."""
        return pathlib.Path(__file__).parent / "runtime_locks" / f"glue-{self.glue_version}.txt"


#: Every Glue version the default job is proven on, oldest first.
RUNTIMES: dict[str, GlueRuntime] = {
    "5.0": GlueRuntime(glue_version="5.0", spark="3.5.4", python="3.11", scala="2.12", java="17",
                       iceberg="1.7.1", boto3="1.34.131", hadoop="3.3.4", s3_connector="EMRFS"),
    "5.1": GlueRuntime(glue_version="5.1", spark="3.5.6", python="3.11", scala="2.12", java="17",
                       iceberg="1.10.0", boto3="1.40.61", hadoop="3.3.4", s3_connector="S3A"),
    "6.0": GlueRuntime(glue_version="6.0", spark="4.1.1", python="3.13", scala="2.13", java="17",
                       iceberg="1.11.0", boto3="1.42.84", hadoop="3.4.2", s3_connector="S3A"),
}

#: The construct's default ``glueVersion``: the newest version the whole suite runs on (6.0
#: runs the matrix of test/runtimes; see the README's "Glue versions").
DEFAULT_GLUE_VERSION = "5.1"


def for_glue_version(version: str) -> GlueRuntime:
    """The profile of a template's ``GlueVersion``; a clear error for any other version."""
    try:
        return RUNTIMES[str(version)]
    except KeyError:
        raise ValueError(f"Glue version {version!r} has no runtime profile; the default job is proven on "
                         f"{', '.join(RUNTIMES)}") from None

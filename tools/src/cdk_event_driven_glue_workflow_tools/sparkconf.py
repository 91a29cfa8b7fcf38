"""Spark configuration of the local runtime: local Spark talking S3 over HTTP through S3A.

On Glue, the job's ``s3://bucket/key`` URIs go through EMRFS. Locally the same URIs, unchanged,
go through Hadoop's S3A connector (``fs.s3.impl=S3AFileSystem``) to an HTTP endpoint such as
:class:`~cdk_event_driven_glue_workflow_tools.localaws.LocalAws`; nothing maps S3 to a folder.

A conf is a plain ``dict[str, str]`` of Spark properties; combine them with :func:`merge`::

    conf = merge(base_conf(), s3_conf(aws.endpoint, key, secret), iceberg_conf())
    spark = session(conf)                                # in this process
    conf_dir = write_spark_defaults(conf, tmp_path)      # for a child process:
    subprocess.run([...], env={**os.environ, "SPARK_CONF_DIR": str(conf_dir)})

The jars of each Glue version's runtime (``runtimes``: hadoop-aws with its AWS SDK bundle,
the Iceberg Spark runtime and AWS bundle) are resolved by Spark's Ivy from Maven Central into
:func:`cache_dir`, outside any repository, once per machine.

Spark reads ``spark.jars.packages`` only when it launches the JVM: a Python process gets one
JVM, with the packages of the first session it starts. :func:`session` therefore refuses
(with the reason) to hand out a session whose JVM lacks the packages or whose running
context has a different configuration, instead of returning a session that silently lacks them.
"""
from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import Mapping
from typing import Any

from .runtimes import DEFAULT_GLUE_VERSION, RUNTIMES, GlueRuntime

#: The runtime of the default Glue version: what a session in this process (the tests' own,
#: the runner's read-back) uses, with this process's pyspark. A job of another Glue version
#: runs in a process of its own runtime (``launcher``, ``venvs``), with that runtime's jars.
DEFAULT_RUNTIME: GlueRuntime = RUNTIMES[DEFAULT_GLUE_VERSION]
# hadoop-aws must match the Hadoop of the Spark build exactly (see ``runtimes``).
HADOOP_AWS = DEFAULT_RUNTIME.hadoop_aws
ICEBERG_SPARK_RUNTIME, ICEBERG_AWS_BUNDLE = DEFAULT_RUNTIME.iceberg_packages
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"

MAVEN_CENTRAL = "https://repo1.maven.org/maven2/"

# Properties whose values are lists: merge() concatenates them instead of overriding.
_LIST_PROPERTIES = {"spark.jars": ",", "spark.jars.packages": ",", "spark.sql.extensions": ","}


def cache_dir() -> pathlib.Path:
    """Where the Ivy settings and the jar cache live, outside the repository.

    ``$CDK_EVENT_DRIVEN_GLUE_WORKFLOW_CACHE`` if set, else
    ``${XDG_CACHE_HOME:-~/.cache}/cdk-event-driven-glue-workflow``."""
    explicit = os.environ.get("CDK_EVENT_DRIVEN_GLUE_WORKFLOW_CACHE")
    if explicit:
        return pathlib.Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(xdg) / "cdk-event-driven-glue-workflow"


def ivy_dir() -> pathlib.Path:
    """Spark's Ivy home for these jars (``spark.jars.ivy``): ``cache/`` and ``jars/`` under it."""
    return cache_dir() / "ivy"


_IVY_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by cdk_event_driven_glue_workflow_tools.sparkconf. Maven Central is the only
     resolver: Spark's default chain looks in ~/.m2 first, and a .pom there without its jar
     makes the resolution fail ("download failed: ...hadoop-aws.jar"). -->
<ivysettings>
  <settings defaultResolver="central"/>
  <caches defaultCacheDir="{cache}" lockStrategy="artifact-lock-nio"/>
  <resolvers>
    <ibiblio name="central" m2compatible="true" root="{root}"/>
  </resolvers>
</ivysettings>
"""


def ivy_settings() -> pathlib.Path:
    """Writes (once, atomically) the Ivy settings file for ``spark.jars.ivySettings``."""
    path = cache_dir() / "ivysettings.xml"
    text = _IVY_SETTINGS.format(cache=ivy_dir() / "cache", root=MAVEN_CENTRAL)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ivysettings.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
    return path


def base_conf(app_name: str = "cdk-glue-local") -> dict[str, str]:
    """Local Spark sized for 2 cores, quiet, in UTC."""
    return {
        "spark.master": "local[2]",
        "spark.app.name": app_name,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    }


def packages_conf(*coordinates: str) -> dict[str, str]:
    """``spark.jars.packages`` resolved from Maven Central only, into :func:`ivy_dir`."""
    return {
        "spark.jars.packages": ",".join(coordinates),
        "spark.jars.ivySettings": str(ivy_settings()),
        "spark.jars.ivy": str(ivy_dir()),
    }


def s3_conf(endpoint: str, access_key: str, secret_key: str,
            region: str = "us-east-1", runtime: GlueRuntime = DEFAULT_RUNTIME) -> dict[str, str]:
    """``s3://`` and ``s3a://`` through S3A to ``endpoint`` with these keys.

    Beyond what is needed to reach the endpoint (endpoint, path-style, no TLS, the keys,
    the region), three settings cut retries: against an endpoint on 127.0.0.1 a refused
    connection will not heal by waiting. Measured on 2 cores, a read from a closed port:
    with these three, it fails in 0.5-3 s; with ``fs.s3a.retry.limit``/``interval`` at their
    defaults (7, 500ms) in 275 s; with ``fs.s3a.attempts.maximum`` at its default (20 SDK
    retries, nested in S3A's) not within 300 s. (``fs.s3a.connection.establish.timeout`` and
    the throttle retries made no measurable difference and are left at their defaults.)
    ``fs.s3a.committer.name`` is left at its default (``file``: FileOutputCommitter, whose
    rename is copy + delete on S3, so writes need ``s3:DeleteObject`` on the staging prefix).
    """
    return {
        **packages_conf(runtime.hadoop_aws),
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "spark.hadoop.fs.s3a.access.key": access_key,
        "spark.hadoop.fs.s3a.secret.key": secret_key,
        # fail fast against a local endpoint (measured: see the docstring)
        "spark.hadoop.fs.s3a.attempts.maximum": "1",
        "spark.hadoop.fs.s3a.retry.limit": "1",
        "spark.hadoop.fs.s3a.retry.interval": "50ms",
    }


def iceberg_conf(runtime: GlueRuntime = DEFAULT_RUNTIME) -> dict[str, str]:
    """The runtime's Iceberg (Spark runtime and AWS bundle), and Iceberg's SQL extensions;
    no catalog (the job configures its own)."""
    return {
        **packages_conf(*runtime.iceberg_packages),
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
    }


def merge(*confs: Mapping[str, str]) -> dict[str, str]:
    """Later confs override earlier ones, except list properties (``spark.jars``,
    ``spark.jars.packages``, ``spark.sql.extensions``), which are concatenated without
    duplicates."""
    merged: dict[str, str] = {}
    for conf in confs:
        for key, value in conf.items():
            separator = _LIST_PROPERTIES.get(key)
            if separator and merged.get(key):
                items = merged[key].split(separator)
                items += [v for v in value.split(separator) if v and v not in items]
                merged[key] = separator.join(items)
            else:
                merged[key] = value
    return merged


# --- a child process: spark-defaults.conf -----------------------------------------------

def _escape_properties(text: str, key: bool) -> str:
    """java.util.Properties escaping (Spark reads spark-defaults.conf as UTF-8 properties)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!" and key:
            out.append("\\" + ch)
        elif ch == " " and (key or i == 0):
            out.append("\\ ")
        else:
            out.append(ch)
    return "".join(out)


def write_spark_defaults(conf: Mapping[str, str], directory: str | os.PathLike[str]) -> pathlib.Path:
    """Writes ``<directory>/spark-defaults.conf`` and returns ``directory``.

    A child ``python`` that runs plain ``SparkSession.builder.getOrCreate()`` (as a Glue
    script does) gets ``conf`` when its environment has ``SPARK_CONF_DIR=<directory>``:
    pip's pyspark launches the JVM with ``spark-submit``, which loads
    ``$SPARK_CONF_DIR/spark-defaults.conf`` (packages and driver java options included; a
    value keeps its spaces). Checked by ``test/harness/test_child_conf.py``. A
    ``PYSPARK_SUBMIT_ARGS`` in the child's environment still applies on top.
    """
    path = pathlib.Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by cdk_event_driven_glue_workflow_tools.sparkconf.write_spark_defaults"]
    for key, value in conf.items():
        lines.append(f"{_escape_properties(key, True)} {_escape_properties(str(value), False)}")
    (path / "spark-defaults.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env(conf_dir: str | os.PathLike[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) with ``SPARK_CONF_DIR`` pointing at ``conf_dir``,
    ``SPARK_LOCAL_IP=127.0.0.1`` and no ``PYSPARK_SUBMIT_ARGS`` (which would add to or
    override the defaults file)."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k != "PYSPARK_SUBMIT_ARGS"}
    env["SPARK_CONF_DIR"] = str(conf_dir)
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


# --- in this process ----------------------------------------------------------------------

def session(conf: Mapping[str, str], log_level: str = "ERROR") -> Any:
    """The SparkSession of this process with ``conf`` (getOrCreate), log level ``log_level``.

    * No JVM yet: launches one with ``conf``.
    * A JVM from a stopped session: creates a new context with ``conf`` if the JVM was
      launched with the packages and jars ``conf`` asks for (else ``RuntimeError``), after closing
      Hadoop's cached filesystems (they are keyed by scheme and bucket only, so an S3A
      client bound to an earlier endpoint or earlier keys would otherwise be reused).
    * A running session: returned if its context has every value of ``conf``; otherwise
      ``RuntimeError`` naming the differences (stop it first).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    conf = dict(conf)
    active = SparkContext._active_spark_context
    if active is not None:
        running = dict(active.getConf().getAll())
        different = {k: (running.get(k), v) for k, v in conf.items()
                     if not _same_setting(k, running.get(k), v)}
        if different:
            raise RuntimeError(
                "a SparkSession with another configuration is running in this process; stop it "
                f"before asking for this one. Differences (running, wanted): {different}")
        spark = SparkSession.builder.getOrCreate()
    else:
        if SparkContext._jvm is not None:
            _check_jvm_can_serve(SparkContext._jvm, conf)
            SparkContext._jvm.org.apache.hadoop.fs.FileSystem.closeAll()
        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    return spark


def jvm_aws_credentials(spark: Any, access_key: str, secret_key: str, region: str) -> None:
    """Gives the AWS SDK v2 clients of this process's JVM (Iceberg's GlueCatalog and
    S3FileIO) these keys and region: the first link of their default credential chain is
    the JVM's system properties. Environment variables cannot do it once the JVM runs
    (a JVM reads its environment at launch). S3A takes its keys from the Hadoop conf."""
    system = spark.sparkContext._jvm.java.lang.System
    system.setProperty("aws.accessKeyId", access_key)
    system.setProperty("aws.secretAccessKey", secret_key)
    system.setProperty("aws.region", region)


def _same_setting(key: str, running: str | None, wanted: str) -> bool:
    # Spark appends its own JVM options (--add-opens... for Java 17) to the ones given
    if key.endswith("extraJavaOptions") and running is not None:
        return wanted in running
    return running == wanted


def _as_uri(path: str) -> str:
    return path if ":" in path.split("/", 1)[0] else pathlib.Path(path).absolute().as_uri()


def _check_jvm_can_serve(jvm: Any, conf: Mapping[str, str]) -> None:
    system = jvm.java.lang.System
    for key in ("spark.jars.packages", "spark.jars"):
        launched = (system.getProperty(key) or "").split(",")
        wanted = [p for p in (conf.get(key) or "").split(",") if p]
        # spark-submit records jars as file: URIs ("file:///abs/x.jar" for "/abs/x.jar").
        missing = [p for p in wanted if p not in launched and _as_uri(p) not in launched]
        if missing:
            raise RuntimeError(
                f"this Python process already runs a JVM launched without {missing} "
                f"({key}={','.join(p for p in launched if p) or 'none'}); Spark puts "
                "packages and jars on the driver's classpath only when it launches the JVM. "
                "Start the session that needs them first in this process, or run those tests "
                "in their own process.")

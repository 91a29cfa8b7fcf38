"""The job on the runtime of every Glue version it allows: 5.0, 5.1 and 6.0.

The rest of the suite runs the job in-process on the default version's runtime (5.1: the
lock holds its pyspark and boto3, checked below) and launches the default's job from the
assembly in its venv (the launcher, runner, guide and shared-bucket tests). Here each other
version's job is synthesized, deployed on the local endpoint and launched from the assembly
as Glue stages it, in that version's own venv
(its pyspark, boto3/botocore and Python, ``runtimes`` / ``venvs``) with that version's jars
(hadoop-aws of its Spark's Hadoop, its Iceberg), under the job role's policy with IAM
enforced: one Parquet round, the known-schema round into the table it created with a type
conflict, a CSV round with declared types, and one Iceberg round with the Data Catalog's
optimizers turned on (the call Glue 5.0's botocore refused).

GlueVersion.V6_0 exists from aws-cdk-lib 2.272 on and the suite runs on the floor, 2.270: the
6.0 job is the same job with its GlueVersion property set to "6.0" (the construct's own
acceptance of V6_0 is proven on the newest aws-cdk-lib in test/packaging/test_newest_cdk.py).
"""
from __future__ import annotations

import json
import subprocess
import textwrap
import uuid

import duckdb
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_glue as glue

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, TableFormat
from cdk_event_driven_glue_workflow_tools import moto_patches, runtimes, template, venvs
from cdk_event_driven_glue_workflow_tools.launcher import Assembly
from cdk_event_driven_glue_workflow_tools.local_pipeline import Arrival, LocalPipeline, deploy, object_created_event
from harness_fixtures import local_aws  # noqa: F401  (fixture)

VERSIONS = list(runtimes.RUNTIMES)
#: The rounds from the assembly run on every version but the default: the rest of the suite
#: runs the default's (the launcher, the runner, the guide and shared-bucket pipelines launch
#: its job from the assembly in its venv; the job tests run in-process on its pyspark and boto3,
#: which the test below holds to the profile).
OTHER_VERSIONS = [v for v in VERSIONS if v != runtimes.DEFAULT_GLUE_VERSION]
ENUM = {"5.0": glue.GlueVersion.V5_0, "5.1": glue.GlueVersion.V5_1}


def test_the_rest_of_the_suite_runs_on_the_default_versions_runtime():
    """The in-process job tests take pyspark, boto3 and botocore from the dev lock: they must be
    the default Glue version's, or the default would be proven on another runtime."""
    from importlib.metadata import version as installed

    profile = runtimes.RUNTIMES[runtimes.DEFAULT_GLUE_VERSION]
    assert (installed("pyspark"), installed("boto3"), installed("botocore")) == (
        profile.spark, profile.boto3, profile.boto3)


def pipeline_of(tmp_path, aws, version, **props):
    """One pipeline on ``version``, deployed on the endpoint, its job launched in that runtime."""
    app = App(outdir=str(tmp_path / "cdk.out"), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, "Runtime")
    pipeline = EventDrivenGlueWorkflow(stack, "Orders", input_prefix="in/", alarms=False,
                                       glue_version=ENUM.get(version, glue.GlueVersion.V5_1), **props)
    if version not in ENUM:
        pipeline.conversion_job.job.node.default_child.add_property_override("GlueVersion", version)
    app.synth()
    assembly = Assembly(tmp_path / "cdk.out")
    [found] = template.pipelines(assembly.template())
    names = deploy(aws, assembly.template(), f"rt-{uuid.uuid4().hex[:8]}")
    lp = LocalPipeline(found, assembly, aws, tmp_path / "orders", {}, lambda _n: None, names=names)
    assert lp.launcher.runtime == runtimes.RUNTIMES[version]
    return lp


def upload(lp, key, body):
    size, etag = lp.put(Arrival(0.0, key, body.encode()))
    event = object_created_event(lp.bucket, key, size, etag)
    assert lp.matcher.matches_event(event)
    lp.aws.client("sqs").send_message(QueueUrl=lp.names[lp.ledger_logical_id()], MessageBody=json.dumps(event))


def launch(lp):
    glue_client = lp.aws.client("glue")
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = glue_client.start_workflow_run(Name=workflow)["RunId"]
    with lp.aws.enforcing():
        run = lp.launcher.launch(workflow_name=workflow, workflow_run_id=run_id)
    assert run.argv[0] == str(venvs.python_for(lp.launcher.runtime))
    return run.check().summary


def parquet_rows(lp, tmp_path, columns):
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                target = tmp_path / f"part-{len(files)}.parquet"
                s3.download_file(bucket, item["Key"], str(target))
                files.append(str(target))
    assert files, "no Parquet under the table's location"
    return sorted(duckdb.connect().execute(
        f"SELECT {columns} FROM read_parquet(?, union_by_name=true)", [files]).fetchall())


def rejected_reasons(lp):
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["rejected_path"][len("s3://"):].partition("/")
    reasons = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "records/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            reasons += [json.loads(line)["reason"] for line in body.splitlines() if line.strip()]
    return sorted(reasons)


@pytest.mark.parametrize("version", OTHER_VERSIONS)
def test_parquet_then_the_known_schema_round_with_a_type_conflict(version, tmp_path, local_aws):  # noqa: F811
    lp = pipeline_of(tmp_path, local_aws, version)
    upload(lp, "in/a.json", '{"id": 1, "qty": 5, "item": "kettle"}\n{"id": 2, "qty": 7, "item": "lamp"}\n')
    first = launch(lp)
    assert (first["files_processed"], first["rows_out"]) == (1, 2)
    # The table exists: this round reads JSON Lines against its types (the known-schema path).
    upload(lp, "in/b.json", '{"id": 3, "qty": "many", "item": "mug"}\n{"id": 4, "qty": 9, "item": "rug"}\n')
    second = launch(lp)
    assert (second["rows_in"], second["rows_out"], second["rows_rejected"]) == (2, 1, 1)
    assert rejected_reasons(lp) == ["type conflict on column qty: table has bigint, file has string"]
    assert parquet_rows(lp, tmp_path, "id, qty, item") == [(1, 5, "kettle"), (2, 7, "lamp"), (4, 9, "rug")]


@pytest.mark.parametrize("version", OTHER_VERSIONS)
def test_csv_with_declared_types_and_a_value_that_does_not_cast(version, tmp_path, local_aws):  # noqa: F811
    lp = pipeline_of(tmp_path, local_aws, version, column_types={"amount": "decimal(10,2)", "zip": "string"})
    upload(lp, "in/c.csv", "customer,zip,amount\nann,007,75\nbob,123,75.25\ncy,042,n/a\n")
    summary = launch(lp)
    assert (summary["rows_in"], summary["rows_out"], summary["rows_rejected"]) == (3, 2, 1)
    assert rejected_reasons(lp) == ["column amount: value n/a is not a decimal(10,2)"]
    assert [(c, z, str(a)) for c, z, a in parquet_rows(lp, tmp_path, "customer, zip, amount")] == [
        ("ann", "007", "75.00"), ("bob", "123", "75.25")]


@pytest.mark.parametrize("version", OTHER_VERSIONS)
def test_iceberg_round_with_the_optimizers_on(version, tmp_path, local_aws):  # noqa: F811
    lp = pipeline_of(tmp_path, local_aws, version, table_format=TableFormat.ICEBERG)
    upload(lp, "in/a.json", '{"id": 1, "qty": 5}\n{"id": 2, "qty": 7}\n')
    summary = launch(lp)
    assert (summary["files_processed"], summary["rows_out"]) == (1, 2)
    assert parquet_rows(lp, tmp_path, "id, qty") == [(1, 5), (2, 7)]  # the snapshot's data files
    database, table = lp.args["database_name"], lp.args["table_name"]
    optimizers = {k[-1]: v for k, v in moto_patches.GLUE_TABLE_OPTIMIZERS.items() if k[3:5] == (database, table)}
    assert sorted(optimizers) == ["compaction", "orphan_file_deletion", "retention"]
    assert optimizers["retention"]["retentionConfiguration"] == {"icebergConfiguration": {
        "snapshotRetentionPeriodInDays": 5, "numberOfSnapshotsToRetain": 1, "cleanExpiredFiles": True}}
    assert optimizers["orphan_file_deletion"]["orphanFileDeletionConfiguration"] == {
        "icebergConfiguration": {"orphanFileRetentionPeriodInDays": 3}}


# --- the optimizer call on Glue 5.0's botocore --------------------------------------------

CALL = textwrap.dedent("""\
    import json, sys
    import boto3
    sys.path.insert(0, {package!r})
    from glue_ingest import aws
    args = {{"CatalogId": "123456789012", "DatabaseName": "db", "TableName": "t", "Type": "retention",
            "TableOptimizerConfiguration": {{
        "roleArn": "arn:aws:iam::123456789012:role/r", "enabled": True,
        "retentionConfiguration": {{"icebergConfiguration": {{"snapshotRetentionPeriodInDays": 5}}}}}}}}
    client = aws.client("glue", "us-east-1") if sys.argv[1] == "job" else boto3.client("glue", region_name="us-east-1")
    try:
        client.create_table_optimizer(**args)
    except Exception as error:
        print(json.dumps({{"error": type(error).__name__, "message": str(error)[:300]}}))
    """)


def optimizer_call(version, how, local_aws, tmp_path):  # noqa: F811
    from job_paths import PACKAGE_ROOT

    script = tmp_path / "call.py"
    script.write_text(CALL.format(package=str(PACKAGE_ROOT)))
    python = venvs.python_for(runtimes.RUNTIMES[version])
    done = subprocess.run([str(python), str(script), how], env=local_aws.env(), capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_negative_control_glue_5_0s_botocore_refuses_the_optimizer_settings_of_a_plain_client(local_aws, tmp_path):  # noqa: F811
    """The call as the job made it before: botocore 1.34.131 refuses it before sending it."""
    result = optimizer_call("5.0", "plain", local_aws, tmp_path)
    assert result["error"] == "ParamValidationError"
    assert 'Unknown parameter in TableOptimizerConfiguration: "retentionConfiguration"' in result["message"]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_jobs_client_sends_the_optimizer_settings_on_every_runtime(version, local_aws, tmp_path):  # noqa: F811
    """The job's session knows the members on every botocore: the request reaches Glue, which
    refuses it for its own reason (the table does not exist), not the client."""
    result = optimizer_call(version, "job", local_aws, tmp_path)
    assert result["error"] == "EntityNotFoundException", result


def test_the_job_sources_parse_as_python_3_13_and_import_nothing_it_removed():
    """Glue 6.0 runs Python 3.13: where the machine has it, the 6.0 runtime venv runs the job on
    it (above); this holds on any machine. It checks syntax and imports, not behaviour."""
    import ast

    from job_paths import PACKAGE_ROOT, SCRIPT

    removed = {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis",
               "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3"}
    sources = [SCRIPT, *sorted((PACKAGE_ROOT / "glue_ingest").glob("*.py"))]
    assert len(sources) > 10
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 13))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & removed, (path, imported & removed)


# --- IAM holds on every runtime's S3 connector ---------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_negative_control_spark_is_checked_by_the_endpoint(version, tmp_path, local_aws):  # noqa: F811
    """The run's Spark signs its own requests (S3A of the runtime's Hadoop: the AWS SDK for Java
    v1 on 5.x, v2 on 6.0) and the endpoint checks them: with a wrong secret for Spark alone
    (boto3 keeps the role's keys) S3A is refused, the file is not converted (its read failed, a
    reason the job keeps its message for), and the message stays in the ledger."""
    lp = pipeline_of(tmp_path, local_aws, version)
    upload(lp, "in/a.json", '{"id": 1}\n')
    launcher = lp.launcher_for(lp.credentials, work=tmp_path / "denied")
    launcher.spark_conf["spark.hadoop.fs.s3a.secret.key"] = "not-the-secret"
    glue_client = local_aws.client("glue")
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = glue_client.start_workflow_run(Name=workflow)["RunId"]
    with local_aws.enforcing():
        run = launcher.launch(workflow_name=workflow, workflow_run_id=run_id)
    assert "org.apache.hadoop.fs.s3a" in run.stderr and "403" in run.stderr, run.stderr[-3000:]
    summary = run.summary
    assert summary is None or summary["rows_out"] == 0, summary
    attributes = local_aws.client("sqs").get_queue_attributes(
        QueueUrl=lp.names[lp.ledger_logical_id()],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert sum(int(v) for v in attributes.values()) == 1


def test_negative_control_the_iceberg_job_role_without_its_catalog_statement_commits_nothing(tmp_path, local_aws):  # noqa: F811
    """The Iceberg job role under enforcement (the rounds above pass with it): without
    MaintainOwnTable (glue:GetDatabase, GetTable, CreateTable, UpdateTable on its catalog,
    database and table) Iceberg's GlueCatalog is refused, the run fails, the message stays."""
    version = runtimes.DEFAULT_GLUE_VERSION
    lp = pipeline_of(tmp_path, local_aws, version, table_format=TableFormat.ICEBERG)
    denied = LocalPipeline(lp.pipeline, lp.assembly, local_aws, tmp_path / "denied", {}, lambda _n: None,
                           names=lp.names, without_statements=("MaintainOwnTable",))
    assert denied.left_out == ["MaintainOwnTable"]
    upload(lp, "in/a.json", '{"id": 1}\n')
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = local_aws.client("glue").start_workflow_run(Name=workflow)["RunId"]
    with local_aws.enforcing():
        run = denied.launcher.launch(workflow_name=workflow, workflow_run_id=run_id)
    assert run.returncode != 0
    assert "GlueException: Service returned HTTP status code 403" in run.stderr, run.stderr[-3000:]
    glue_client = local_aws.client("glue")
    assert glue_client.get_tables(DatabaseName=lp.args["database_name"])["TableList"] == []
    attributes = local_aws.client("sqs").get_queue_attributes(
        QueueUrl=lp.names[lp.ledger_logical_id()],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert sum(int(v) for v in attributes.values()) == 1

"""Two pipelines in one bucket, one object both rules match: both tables get its rows.

A user's app: pipeline All reads ``landing/`` and pipeline Orders reads ``landing/orders/``,
so one upload under ``landing/orders/`` matches both rules. Before state was kept per
pipeline both jobs kept their exactly-once markers under ``_pipeline/``: All ingested the
file and Orders found All's marker, marked it ``skipped_duplicate``, deleted its message and
never wrote the rows. Nothing failed.

Here the app is synthesized and deployed once on the local endpoint (one bucket), the
object's event goes to every ledger whose rule matches it, and each job is launched from
the assembly as Glue stages it, under its role's policy with IAM enforced. The negative
control gives Orders All's state location, the old shared layout, and sees the loss.
"""
from __future__ import annotations

import json
import uuid

import duckdb
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, TableFormat
from cdk_event_driven_glue_workflow_tools import template
from cdk_event_driven_glue_workflow_tools.launcher import Assembly
from cdk_event_driven_glue_workflow_tools.local_pipeline import Arrival, LocalPipeline, deploy, object_created_event
from harness_fixtures import local_aws  # noqa: F401  (fixture)

KEY = "landing/orders/2026-12-06.json"
ROWS = [{"order_id": i, "amount": 10.5 * i} for i in range(1, 6)]


def synthesize(work, table_format: TableFormat):
    # path metadata names each pipeline by its construct id, as the cdk CLI's synth does
    app = App(outdir=str(work / "cdk.out"), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, "Shared")
    bucket = s3.Bucket(stack, "Landing")
    for name, input_prefix in (("All", "landing/"), ("Orders", "landing/orders/")):
        EventDrivenGlueWorkflow(stack, name, bucket=bucket, input_prefix=input_prefix, alarms=False,
                                output_prefix=f"tables/{name.lower()}/", table_format=table_format)
    app.synth()
    assembly = Assembly(work / "cdk.out")
    return assembly, template.pipelines(assembly.template())


@pytest.fixture(params=[TableFormat.PARQUET, TableFormat.ICEBERG], ids=["parquet", "iceberg"])
def shared(request, tmp_path, local_aws):  # noqa: F811
    """Both pipelines deployed once (one bucket), the object uploaded once, its event in every
    ledger whose rule matches it."""
    fmt = request.param
    assembly, found = synthesize(tmp_path, fmt)
    names = deploy(local_aws, assembly.template(), f"shared-{uuid.uuid4().hex[:8]}")
    pipelines = {p.name: LocalPipeline(p, assembly, local_aws, tmp_path / p.name, {}, lambda _n: None, names=names)
                 for p in found}
    assert pipelines["All"].bucket == pipelines["Orders"].bucket  # one bucket, as on AWS
    body = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
    size, etag = pipelines["Orders"].put(Arrival(0.0, KEY, body))
    event = object_created_event(pipelines["Orders"].bucket, KEY, size, etag)
    for lp in pipelines.values():
        assert lp.matcher.matches_event(event), lp.pipeline.name
        local_aws.client("sqs").send_message(QueueUrl=lp.names[lp.ledger_logical_id()], MessageBody=json.dumps(event))
    return pipelines


def launch(lp, extra=None, enforce=True):
    glue = lp.aws.client("glue")
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = glue.start_workflow_run(Name=workflow)["RunId"]
    if enforce:
        with lp.aws.enforcing():
            run = lp.launcher.launch(workflow_name=workflow, workflow_run_id=run_id, extra=extra)
    else:
        run = lp.launcher.launch(workflow_name=workflow, workflow_run_id=run_id, extra=extra)
    return run.check().summary


def stats_files(lp, summary):
    """The run's per-file outcomes, from the stats document it wrote."""
    bucket, _, prefix = lp.args["stats_path"][len("s3://"):].partition("/")
    body = lp.aws.client("s3").get_object(Bucket=bucket, Key=f"{prefix}{summary['run_id']}.json")["Body"].read()
    return {f["key"]: f["status"] for f in json.loads(body)["files"]}


def data_rows(lp, tmp_path):
    """Every row of the Parquet data files under the table's location, read with DuckDB
    (an Iceberg table's data files are Parquet too; nothing here deletes any)."""
    s3_client = lp.aws.client("s3")
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    files = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                target = tmp_path / f"{lp.pipeline.name}-{len(files)}.parquet"
                s3_client.download_file(bucket, item["Key"], str(target))
                files.append(str(target))
    if not files:
        return []
    return sorted(duckdb.connect().execute(
        "SELECT order_id, _source_file FROM read_parquet(?, union_by_name=true)", [files]).fetchall())


def test_each_pipeline_keeps_its_state_apart(shared):
    states = {name: lp.args["state_path"] for name, lp in shared.items()}
    assert states["All"] != states["Orders"]
    assert not states["All"].startswith(states["Orders"]) and not states["Orders"].startswith(states["All"])


def test_one_object_both_rules_match_lands_in_both_tables(shared, tmp_path):
    expected = sorted((r["order_id"], f"s3://{shared['All'].bucket}/{KEY}") for r in ROWS)
    for name in ("All", "Orders"):
        summary = launch(shared[name])
        assert stats_files(shared[name], summary) == {KEY: "ok"}, name
        assert data_rows(shared[name], tmp_path) == expected, name


def test_negative_control_the_old_shared_state_loses_the_file(shared, tmp_path):
    """Orders given All's state location, as both had before: it skips the file as a
    duplicate and its table stays empty. (Run without enforcement: Orders' role may not
    touch All's state, which is the point of the new layout.)"""
    launch(shared["All"])
    summary = launch(shared["Orders"], extra={"--state_path": shared["All"].args["state_path"]}, enforce=False)
    assert stats_files(shared["Orders"], summary) == {KEY: "skipped_duplicate"}
    assert data_rows(shared["Orders"], tmp_path) == []

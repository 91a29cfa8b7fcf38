"""Every legal S3 key is read or quarantined with a reason: proven on an S3 protocol
endpoint over HTTP, with the job started from the synthesized assembly as Glue stages it,
under the job role's own policy with IAM enforced.

* The endpoint is moto's server on 127.0.0.1 (``local_aws``): S3, SQS and Glue over HTTP.
* The objects are uploaded with PutObject and their EventBridge "Object Created" events go
  to the ledger queue, matched by the synthesized rule's own pattern first.
* The job runs through the Glue-shaped launcher in its own process. Its boto3 reaches the
  endpoint through ``AWS_ENDPOINT_URL``; its Spark reads and writes through Hadoop's S3A
  (``hadoop-aws`` 3.3.4, the Hadoop of pyspark 3.5), with ``s3://`` mapped to S3A as Glue
  maps it to EMRFS: the URIs are the job's own, only the filesystem implementation differs.
* The process acts as an IAM user whose only policy is the job role's policy from the
  template, with tokens resolved to this test's bucket, queues, database and workflow.
  The negative control runs the same policy without the output prefix and must fail with
  AccessDenied, losing nothing: the file's message stays in the ledger (its cleanup is
  denied too, so the run's lease covers it, as for a process that dies).
"""
import gzip
import io
import json
import os
import unicodedata

import duckdb
import pytest
from aws_cdk import App, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_event_driven_glue_workflow_tools import template
from cdk_event_driven_glue_workflow_tools.launcher import Assembly
from cdk_event_driven_glue_workflow_tools.policy import resolve_policy, without_conditions
from cdk_event_driven_glue_workflow_tools.local_pipeline import Arrival, LocalPipeline, object_created_event
from harness_fixtures import local_aws  # noqa: F401  (fixture)

PREFIX = "in/"
LONG = PREFIX + "long-" + "é" * 300  # two bytes each
LONG = LONG + "k" * (1024 - len(".json") - len(LONG.encode("utf-8"))) + ".json"
assert len(LONG.encode("utf-8")) == 1024

# key -> how its bytes are written; every value row carries the key it came from.
JSON_LINES_KEYS = [
    "in/_part.json",                 # Spark's listing drops names starting with _ ...
    "in/.hidden.json",               # ... or with .
    "in/a:b.json",                   # Hadoop's Path rejects ':' in a file name
    "in/double//slash.json",
    "in/per%25cent%.json",
    "in/hash#tag.json",
    "in/what?.json",
    "in/[brackets].json",
    "in/{braces}.json",
    "in/star*.json",
    "in/with space.json",
    "in/plus+sign.json",
    "in/k=v/eq=1.json",
    unicodedata.normalize("NFC", "in/café-ü.json"),
    unicodedata.normalize("NFD", "in/café-ü.json"),  # another key with the same look
    LONG,
    "in/Mixed.Json",
]
GZIP_KEYS = ["in/DATA.JSON.GZ", "in/no-suffix-but-gzip.json"]   # upper-case suffix; gzip by its magic bytes
CSV_KEYS = ["in/rows.CSV"]
NOT_GZIP = "in/claims-gzip.json.gz"                             # named .gz, holds plain text


def rows_for(index, key):
    return [{"id": index * 10 + i, "key": key, "n": i} for i in range(3)]


def body(index, key):
    rows = rows_for(index, key)
    if key in CSV_KEYS:
        out = io.StringIO()
        out.write("id,key,n\n")
        for r in rows:
            out.write('%d,"%s",%d\n' % (r["id"], r["key"], r["n"]))
        return out.getvalue().encode("utf-8")
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    return gzip.compress(text) if key in GZIP_KEYS else text


ALL_KEYS = JSON_LINES_KEYS + GZIP_KEYS + CSV_KEYS


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, local_aws):  # noqa: F811
    """The app's pipeline deployed on the endpoint: its bucket, ledger, database and
    workflow, and an IAM user holding the job role's policy."""
    work = tmp_path_factory.mktemp("s3-protocol")
    app = App(outdir=str(work / "cdk.out"))
    EventDrivenGlueWorkflow(Stack(app, "S3Protocol"), "Keys", input_prefix=PREFIX, alarms=False)
    app.synth()
    assembly = Assembly(work / "cdk.out")
    [found] = template.pipelines(assembly.template())
    return LocalPipeline(found, assembly, local_aws, work / "keys", {}, lambda _n: None)


def upload_and_notify(lp, arrivals):
    """PutObject, then the rule's event to the ledger (only if the rule's pattern matches)."""
    sqs = lp.aws.client("sqs")
    ledger = lp.names[lp.ledger_logical_id()]
    for arrival in arrivals:
        size, etag = lp.put(arrival)
        event = object_created_event(lp.bucket, arrival.key, size, etag, 0.0, lp.aws.region, lp.aws.account_id)
        assert lp.matcher.matches_event(event), arrival.key
        sqs.send_message(QueueUrl=ledger, MessageBody=json.dumps(event))


def launch(lp, launcher):
    glue = lp.aws.client("glue")
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = glue.start_workflow_run(Name=workflow)["RunId"]
    with lp.aws.enforcing():
        return launcher.launch(workflow_name=workflow, workflow_run_id=run_id)


def table_rows(lp, tmp_path):
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                target = tmp_path / ("%05d.parquet" % len(files))
                s3.download_file(bucket, item["Key"], str(target))
                files.append(str(target))
    assert files, "no Parquet in the table's location"
    rel = duckdb.connect().execute("SELECT id, key, n, _source_file FROM read_parquet(?, union_by_name=true)", [files])
    return sorted(rel.fetchall())


@pytest.fixture(scope="module")
def first_run(pipeline):
    upload_and_notify(pipeline, [Arrival(0.0, key, body(i, key)) for i, key in enumerate(ALL_KEYS)]
                      + [Arrival(0.0, NOT_GZIP, b'{"id": 1}\n')])
    run = launch(pipeline, pipeline.launcher)
    assert run.returncode == 0, run.stderr[-4000:]
    return run, pipeline.read_stats(run.summary)


def test_every_legal_key_is_read_value_for_value(pipeline, first_run, tmp_path):
    expected = sorted((r["id"], r["key"], r["n"], "s3://%s/%s" % (pipeline.bucket, key))
                      for i, key in enumerate(ALL_KEYS) for r in rows_for(i, key))
    assert table_rows(pipeline, tmp_path) == expected


def test_every_key_is_ok_with_the_rows_counted_from_its_own_file(pipeline, first_run):
    _, stats = first_run
    by_key = {f["key"]: f for f in stats["files"]}
    assert {k: (by_key[k]["status"], by_key[k]["rows_in"], by_key[k]["rows_out"]) for k in ALL_KEYS} == {
        k: ("ok", 3, 3) for k in ALL_KEYS}
    assert stats["rows_rejected"] == 0


def test_a_gz_name_without_gzip_bytes_is_quarantined_with_its_reason(pipeline, first_run):
    _, stats = first_run
    [record] = [f for f in stats["files"] if f["key"] == NOT_GZIP]
    assert record["status"] == "quarantined"
    assert "gzip" in record["reason"]


def test_the_ledger_is_empty_after_the_run(pipeline, first_run):
    sqs = pipeline.aws.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=pipeline.names[pipeline.ledger_logical_id()],
                                     AttributeNames=["ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def without_output_prefix(lp):
    """The job role's policy with the table's prefix taken out of its output statement."""
    tpl = lp.assembly.template()
    policy, _ = without_conditions(resolve_policy(tpl, lp.pipeline.role_logical_id, lp.names,
                                                  region=lp.aws.region, account_id=lp.aws.account_id))
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    table = "arn:aws:s3:::%s/%s*" % (bucket, prefix)
    [statement] = [s for s in policy["Statement"] if s.get("Sid") == "ReadWriteOutputLocations"]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert table in resources, resources
    statement["Resource"] = [r for r in resources if r != table]
    return policy


def test_negative_control_without_the_output_prefix_the_run_is_denied(pipeline, first_run, tmp_path):
    key = "in/after-the-control.json"
    upload_and_notify(pipeline, [Arrival(0.0, key, body(99, key))])
    principal = pipeline.aws.principal("keys-job-without-output", without_output_prefix(pipeline))
    run = launch(pipeline, pipeline.launcher_for(principal, work=tmp_path / "denied"))
    assert run.returncode != 0
    # publishing into the table's prefix is what the policy lacks
    assert "(AccessDenied) when calling the CopyObject operation" in run.stderr, run.stderr[-3000:]
    # Nothing is lost: no row of the file is visible, and its message is still in the ledger.
    assert key not in {r[1] for r in table_rows(pipeline, tmp_path)}
    sqs = pipeline.aws.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=pipeline.names[pipeline.ledger_logical_id()],
                                     AttributeNames=["ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1

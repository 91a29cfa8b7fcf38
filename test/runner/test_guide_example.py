"""The guide's cleaning job, reproduced inside the exactly-once job: value for value.

The S3 -> Lambda -> Glue guide this library grew from (shared/seeds, "Automate AWS Glue Job
Execution Using S3 Event-Based Triggers") cleans a customer CSV: trimmed, title-cased names,
an `email_valid` flag and "Invalid email" in `data_quality_issues`, parsed dates, numeric
amounts with a low/medium/high category, lower-case status, the processing time and the source
file. examples/app.py expresses it as a Transform.sql and two row rules (pipeline
GuideCustomers). Here that app is synthesized with the cdk CLI, deployed on the local endpoint,
and its job launched from the assembly as Glue stages it, under its role's policy, on the
guide's own sample and on a messier file.

Where the guide's code differs from its own description, the example follows the
description: its sample writes dates as dd-MM-yyyy (the guide's code parses yyyy-MM-dd and
would get nulls), and a missing amount has no category (the guide's code calls it "high").
Its running total by status is left out: it is not row-wise.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import sys
import uuid

import duckdb
import pytest

from cdk_event_driven_glue_workflow_tools import template
from cdk_event_driven_glue_workflow_tools.local_pipeline import Arrival, LocalPipeline, deploy, object_created_event
from cdk_event_driven_glue_workflow_tools.runner import synth
from harness_fixtures import local_aws  # noqa: F401  (fixture)

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The guide's sample data, as its table shows it (the file `make demo` runs through the pipeline).
GUIDE_SAMPLE = (ROOT / "examples" / "data" / "guide-customers.csv").read_text(encoding="utf-8")

# Spaces, letter case, a bad email, an impossible date, currency signs, an empty amount, no id
# (the demo runs it too).
MESSY = (ROOT / "examples" / "data" / "guide-customers-messy.csv").read_text(encoding="utf-8")

D = datetime.date
# (id, name, email, email_valid, date, amount, amount_category, status, data_quality_issues, source_file)
EXPECTED = [
    (1, "John Doe", "john.doe@example.com", True, D(2025, 4, 1), 125.5, "medium", "active", None, "guide.csv"),
    (2, "Jane Smith", "jane.smith@example.com", True, D(2025, 4, 2), 75.25, "low", "pending", None, "guide.csv"),
    (3, "Robert Johnson", "robert.j@example.com", True, D(2025, 4, 2), 220.0, "high", "active", None, "guide.csv"),
    (4, "Emily Davis", "emily.davis@example.com", True, D(2025, 4, 3), 50.75, "low", "inactive", None, "guide.csv"),
    (5, "Michael Brown", "michael.b@example.com", True, D(2025, 4, 3), 175.25, "medium", "active", None, "guide.csv"),
    (6, "Sarah Wilson", "sarah.w@example.com", True, D(2025, 4, 4), 95.5, "low", "pending", None, "guide.csv"),
    (7, "David Miller", "david.m@example.com", True, D(2025, 4, 4), 150.0, "medium", "active", None, "guide.csv"),
    (8, "Lisa Taylor", "lisa.t@example.com", True, D(2025, 4, 5), 85.75, "low", "inactive", None, "guide.csv"),
    (9, "James Anderson", "james.a@example.com", True, D(2025, 4, 5), 210.25, "high", "active", None, "guide.csv"),
    (10, "Jennifer White", "jennifer.w@example.com", True, D(2025, 4, 6), 110.5, "medium", "pending", None, "guide.csv"),
    (11, "Mary   Ann", "MARY@EXAMPLE.COM", True, D(2025, 4, 7), 1200.5, "high", "active", None, "messy.csv"),
    (12, "Tom", "tom@@example", False, None, 80.0, "low", "active", "Invalid email", "messy.csv"),
    (13, "Ann Lee", "ann.lee@example.com", True, D(2025, 4, 8), None, None, "pending", None, "messy.csv"),
]


@pytest.fixture(scope="module")
def guide(tmp_path_factory, local_aws):  # noqa: F811
    work = tmp_path_factory.mktemp("guide")
    assembly = synth(f"{sys.executable} examples/app.py", work / "cdk.out", cwd=ROOT)
    [found] = [p for p in template.pipelines(assembly.template()) if p.name == "GuideCustomers"]
    names = deploy(local_aws, assembly.template(), f"guide-{uuid.uuid4().hex[:6]}")
    lp = LocalPipeline(found, assembly, local_aws, work / "guide", {}, lambda _n: None, names=names)
    ledger = lp.names[lp.ledger_logical_id()]
    for key, body in (("landing/guide/guide.csv", GUIDE_SAMPLE), ("landing/guide/messy.csv", MESSY)):
        size, etag = lp.put(Arrival(0.0, key, body.encode()))
        event = object_created_event(lp.bucket, key, size, etag)
        assert lp.matcher.matches_event(event)
        local_aws.client("sqs").send_message(QueueUrl=ledger, MessageBody=json.dumps(event))
    workflow = lp.names[lp.pipeline.workflow_logical_id]
    run_id = local_aws.client("glue").start_workflow_run(Name=workflow)["RunId"]
    with local_aws.enforcing():
        run = lp.launcher.launch(workflow_name=workflow, workflow_run_id=run_id).check()
    return lp, run.summary, work


def table(lp, work):
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    files = []
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        if item["Key"].endswith(".parquet"):
            target = work / f"part-{len(files)}.parquet"
            s3.download_file(bucket, item["Key"], str(target))
            files.append(str(target))
    return duckdb.connect().execute(
        "SELECT id, name, email, email_valid, date, amount, amount_category, status, data_quality_issues, source_file, "
        "processing_date FROM read_parquet(?, union_by_name=true) ORDER BY id", [files]).fetchall()


def test_the_table_holds_the_guides_output_value_for_value(guide):
    lp, _, work = guide
    rows = table(lp, work)
    assert [r[:10] for r in rows] == EXPECTED
    assert all(isinstance(r[10], datetime.datetime) for r in rows)  # processing_date


def test_a_row_without_an_id_is_rejected_with_its_reason_and_counted(guide):
    lp, summary, _ = guide
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["rejected_path"][len("s3://"):].partition("/")
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "records/")["Contents"]]
    [record] = [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    assert record["reason"] == "rule missing id failed (id = null)"
    assert record["source_file"].endswith("/landing/guide/messy.csv")
    assert (summary["rows_in"], summary["rows_out"], summary["rows_rejected"]) == (14, 13, 1)


def test_the_rules_are_counted_per_rule_in_the_stats(guide):
    lp, summary, _ = guide
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["stats_path"][len("s3://"):].partition("/")
    stats = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}{summary['run_id']}.json")["Body"].read())
    assert stats["rule_failures"] == {"Invalid email": {"action": "FLAG", "failed": 1},
                                      "missing id": {"action": "REJECT", "failed": 1}}
    assert {f["key"]: f["rule_failures"] for f in stats["files"]} == {
        "landing/guide/guide.csv": {"Invalid email": 0, "missing id": 0},
        "landing/guide/messy.csv": {"Invalid email": 1, "missing id": 1}}

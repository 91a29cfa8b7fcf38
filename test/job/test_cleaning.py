"""Your cleaning inside the exactly-once job: the transform and the row rules.

The transform runs on the batch's accepted rows between the read and the staging: it is
row-wise, keeps ``_source_file``, and the rows it filters out are counted per file; a
transform that breaks that contract, or raises, fails the round with nothing committed and
the messages released. Row rules reject a row (with the rule and the value) or flag it in
``data_quality_issues``; each rule's failures are counted per file and per round.
"""
import json
import sys
import textwrap
import time

import pytest

from glue_ingest.cleaning import TransformError
from glue_ingest.faults import SimulatedCrash
from job_helpers import eb_event, jsonl, queue_depth, run_job, send

BOTH_FORMATS = pytest.mark.parametrize("table_format", ["PARQUET", "ICEBERG"], indirect=True)

CSV = ("id,name,email,amount,status\n"
       "1,  john DOE ,john@example.com,125.5,ACTIVE\n"
       "2,jane smith,not-an-email,75.25,Pending\n"
       "3,bob,bob@example.com,,inactive\n")


def _args(lake, aws, **extra):
    catalog = {} if lake.iceberg else {"catalog_update": "true", "database_name": "lakedb", "table_name": "events"}
    return lake.args(**dict({"ledger_queue_url": aws["queue_url"], "visibility_timeout_seconds": "30"}, **catalog,
                            **extra))


def _run(spark, lake, aws, **extra):
    return run_job(spark, _args(lake, aws, **extra), clients={"glue": aws["glue"]})


def _files(stats):
    return {f["key"]: (f["rows_in"], f["rows_out"], f["rows_rejected"], f["rows_filtered"]) for f in stats["files"]}


@BOTH_FORMATS
def test_a_sql_transform_cleans_values_and_counts_the_rows_it_filters_per_file(spark, lake, aws, table_format):
    a = lake.put("in/a.csv", CSV)
    b = lake.put("in/b.csv", "id,name,email,amount,status\n4,x,x@example.com,1,ACTIVE\n5,y,y@example.com,2,gone\n")
    send(aws, eb_event(a, "e-1"), eb_event(b, "e-2"))
    stats = _run(spark, lake, aws, transform_sql=(
        "SELECT id, initcap(trim(name)) AS name, email, amount, lower(status) AS status, _source_file "
        "FROM input WHERE lower(status) <> 'gone'"))
    assert _files(stats) == {"in/a.csv": (3, 3, 0, 0), "in/b.csv": (2, 1, 0, 1)}
    assert (stats["rows_in"], stats["rows_out"], stats["rows_filtered"], stats["rows_written"]) == (5, 4, 1, 4)
    rows = {r["id"]: (r["name"], r["status"]) for r in lake.output_rows()}
    assert rows == {1: ("John Doe", "active"), 2: ("Jane Smith", "pending"), 3: ("Bob", "inactive"),
                    4: ("X", "active")}
    assert queue_depth(aws) == (0, 0)


@BOTH_FORMATS
def test_a_python_transform_from_a_module(spark, lake, aws, table_format, tmp_path, monkeypatch):
    (tmp_path / "cleaning_rules_mod.py").write_text(textwrap.dedent("""\
        from pyspark.sql import functions as F

        def clean(df):
            return (df.withColumn("email_domain", F.substring_index("email", "@", -1))
                      .filter(F.col("amount").isNotNull()))
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    stats = _run(spark, lake, aws, transform_python="cleaning_rules_mod:clean")
    assert _files(stats) == {"in/a.csv": (3, 2, 0, 1)}
    assert sorted((r["id"], r["email_domain"]) for r in lake.output_rows()) == [
        (1, "example.com"), (2, "not-an-email")]
    sys.modules.pop("cleaning_rules_mod", None)


@pytest.mark.parametrize("statement,message", [
    ("SELECT id, name FROM input", "the transform dropped or renamed _source_file"),
    ("SELECT id, 's3://elsewhere/x.csv' AS _source_file FROM input",
     'the transform returned 3 row(s) with _source_file "s3://elsewhere/x.csv", which is none of the batch\'s files'),
    ("SELECT i.* FROM input i CROSS JOIN input j", "a row-wise transform returns at most the rows it is given"),
    ("SELECT no_such_column FROM input", "the SQL transform failed"),
])
def test_a_transform_that_breaks_the_contract_fails_the_round_and_commits_nothing(spark, lake, aws, statement, message):
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    with pytest.raises(TransformError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(spark, lake, aws, transform_sql=statement)
    assert lake.output_files() == [] and lake.keys(lake.state + "committed/") == []
    assert queue_depth(aws) == (1, 0)  # released at once


def test_a_python_transform_that_raises_keeps_its_traceback_and_commits_nothing(spark, lake, aws, tmp_path,
                                                                               monkeypatch):
    (tmp_path / "broken_cleaning_mod.py").write_text("def clean(df):\n    raise KeyError('no email column here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    with pytest.raises(TransformError, match="the transform broken_cleaning_mod:clean raised KeyError") as failed:
        _run(spark, lake, aws, transform_python="broken_cleaning_mod:clean")
    assert isinstance(failed.value.__cause__, KeyError)  # the user's own traceback is chained
    assert lake.output_files() == [] and queue_depth(aws) == (1, 0)
    sys.modules.pop("broken_cleaning_mod", None)


@BOTH_FORMATS
def test_a_crash_after_the_transform_is_exactly_once_on_rerun(spark, lake, aws, table_format):
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    transform = "SELECT *, upper(status) AS status_uc FROM input WHERE id <> 3"
    with pytest.raises(SimulatedCrash):
        _run(spark, lake, aws, transform_sql=transform, crash_at="after_write", visibility_timeout_seconds="1")
    time.sleep(1.5)  # the crashed run's lease (and its messages' visibility) runs out
    stats = _run(spark, lake, aws, transform_sql=transform, visibility_timeout_seconds="1")
    ids = sorted(r["id"] for r in lake.output_rows())
    assert ids == [1, 2]
    if lake.iceberg:  # the snapshot was committed before the crash: the rerun finalizes it
        assert stats["recovered_runs"]["finalized"]
    else:
        assert stats["recovered_runs"]["rolled_back"] and _files(stats) == {"in/a.csv": (3, 2, 0, 1)}


RULES = [
    ({"kind": "not_null", "column": "amount"}, [3], "rule {name} failed (amount = null)"),
    ({"kind": "matches", "column": "email", "pattern": "^[^@]+@[^@]+\\.[a-z]{2,}$"}, [2],
     "rule {name} failed (email = not-an-email)"),
    ({"kind": "one_of", "column": "status", "values": ["ACTIVE", "inactive"]}, [2],
     "rule {name} failed (status = Pending)"),
    ({"kind": "between", "column": "amount", "min": 0, "max": 100}, [1], "rule {name} failed (amount = 125.5)"),
    ({"kind": "sql", "predicate": "length(trim(name)) > 3"}, [3], "rule {name} failed"),
]


@pytest.mark.parametrize("rule,failing,reason", RULES, ids=[r[0]["kind"] for r in RULES])
def test_each_rule_kind_rejects_with_its_reason(spark, lake, aws, rule, failing, reason):
    rule = dict(rule, name="r_" + rule["kind"], action="REJECT")
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    stats = _run(spark, lake, aws, row_rules=json.dumps([rule]))
    assert sorted(r["id"] for r in lake.output_rows()) == sorted({1, 2, 3} - set(failing))
    assert [r["reason"] for r in lake.rejected_records()] == [reason.format(name=rule["name"])] * len(failing)
    assert stats["rule_failures"] == {rule["name"]: {"action": "REJECT", "failed": len(failing)}}
    assert stats["files"][0]["rule_failures"] == {rule["name"]: len(failing)}
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (3, 3 - len(failing), len(failing))


@pytest.mark.parametrize("rule,failing,reason", RULES, ids=[r[0]["kind"] for r in RULES])
def test_each_rule_kind_flags_and_keeps_the_row(spark, lake, aws, rule, failing, reason):
    rule = dict(rule, name="flag_" + rule["kind"], action="FLAG")
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    stats = _run(spark, lake, aws, row_rules=json.dumps([rule]))
    flags = {r["id"]: r["data_quality_issues"] for r in lake.output_rows()}
    assert flags == {i: (rule["name"] if i in failing else None) for i in (1, 2, 3)}
    assert lake.rejected_records() == []
    assert stats["rule_failures"] == {rule["name"]: {"action": "FLAG", "failed": len(failing)}}


def test_flags_of_several_rules_are_listed_and_rejections_win(spark, lake, aws):
    rules = [{"name": "Invalid email", "kind": "matches", "column": "email", "pattern": "@", "action": "FLAG"},
             {"name": "Unknown status", "kind": "one_of", "column": "status", "values": ["ACTIVE"], "action": "FLAG"},
             {"name": "no amount", "kind": "not_null", "column": "amount", "action": "REJECT"}]
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    stats = _run(spark, lake, aws, row_rules=json.dumps(rules))
    assert {r["id"]: r["data_quality_issues"] for r in lake.output_rows()} == {
        1: None, 2: "Invalid email; Unknown status"}
    assert [r["reason"] for r in lake.rejected_records()] == ["rule no amount failed (amount = null)"]
    assert {k: v["failed"] for k, v in stats["rule_failures"].items()} == {
        "Invalid email": 1, "Unknown status": 2, "no amount": 1}


def test_rule_failures_are_published_as_metrics(spark, lake, aws):
    job = "rules-job-" + lake.bucket
    obj = lake.put("in/a.csv", CSV)
    send(aws, eb_event(obj))
    _run(spark, lake, aws, JOB_NAME=job, metrics_namespace="EventDrivenGlueWorkflow", row_rules=json.dumps(
        [{"name": "has_amount", "kind": "not_null", "column": "amount", "action": "FLAG"}]))
    metrics = aws["cloudwatch"].list_metrics(Namespace="EventDrivenGlueWorkflow", MetricName="RuleFailures")["Metrics"]
    mine = [m for m in metrics if {"Name": "JobName", "Value": job} in m["Dimensions"]]
    assert [m["Dimensions"] for m in mine] == [[{"Name": "JobName", "Value": job},
                                                {"Name": "RuleName", "Value": "has_amount"}]]

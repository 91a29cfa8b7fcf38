"""The transform and the row rules, construct side: what reaches the job, and bad input at synth."""
import json
import re

import pytest
from aws_cdk import App, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, RowRule, RuleAction, Transform
from cdk_helpers import new_stack, only_resource, template_of


def job(stack_or_none=None, **props):
    stack = stack_or_none or new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Customers", **props)
    return pipeline, only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]


def test_no_transform_and_no_rules_pass_no_arguments():
    _, props = job()
    assert not {"--transform_sql", "--transform_python", "--row_rules"} & set(props["DefaultArguments"])


def test_a_sql_transform_is_one_argument():
    statement = "SELECT *, lower(status) AS status FROM input WHERE id IS NOT NULL"
    _, props = job(transform=Transform.sql(statement))
    assert props["DefaultArguments"]["--transform_sql"] == statement


@pytest.mark.parametrize("statement,message", [
    ("DELETE FROM input", "'Transform.sql' must be a SELECT over the view 'input', got: \"DELETE FROM input\""),
    ("SELECT 1 AS x", "'Transform.sql' must read the view 'input' (the batch's rows), got: \"SELECT 1 AS x\""),
])
def test_a_sql_statement_that_is_not_a_select_over_input_is_refused(statement, message):
    with pytest.raises(RuntimeError, match=re.escape(message)):
        Transform.sql(statement)


def test_a_python_transform_ships_its_module_as_a_zip_next_to_the_jobs_package(tmp_path):
    module = tmp_path / "cleaning.py"
    module.write_text("def clean(df):\n    return df\n")
    (tmp_path / "secret.txt").write_text("not shipped")
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Shop")
    EventDrivenGlueWorkflow(stack, "Customers", transform=Transform.from_python(str(module), "cleaning:clean"))
    assembly = app.synth()
    props = only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]
    assert props["DefaultArguments"]["--transform_python"] == "cleaning:clean"
    extra = props["DefaultArguments"]["--extra-py-files"]
    assert len(json.dumps(extra).split(".zip")) == 3  # the job's package and the transform's code
    manifest = json.loads(open(f"{assembly.directory}/Shop.assets.json").read())
    folders = [a["source"]["path"] for a in manifest["files"].values() if a["source"].get("packaging") == "zip"]
    shipped = [sorted(p.name for p in (tmp_path / "cdk.out" / f).iterdir()) for f in folders]
    assert ["cleaning.py"] in shipped


@pytest.mark.parametrize("entry_point", ["cleaning", "cleaning:", ":clean", "cleaning:clean:x", "my-module:clean"])
def test_a_python_entry_point_must_be_module_and_function(tmp_path, entry_point):
    module = tmp_path / "cleaning.py"
    module.write_text("def clean(df):\n    return df\n")
    with pytest.raises(RuntimeError, match=re.escape(
            f"'Transform.fromPython' entryPoint must be 'module:function', got: {json.dumps(entry_point)}")):
        Transform.from_python(str(module), entry_point)


def test_a_python_file_must_be_the_entry_points_module(tmp_path):
    module = tmp_path / "cleaning.py"
    module.write_text("def clean(df):\n    return df\n")
    with pytest.raises(RuntimeError, match=re.escape("'Transform.fromPython' entryPoint \"other:clean\" names module "
                                                     "\"other\", but the file is \"cleaning.py\"")):
        Transform.from_python(str(module), "other:clean")


def test_a_missing_code_path_is_refused():
    with pytest.raises(RuntimeError, match=re.escape("'Transform.fromPython' codePath must be a .py file or a folder, "
                                                     "got: \"/no/such/cleaning.py\" (not found)")):
        Transform.from_python("/no/such/cleaning.py", "cleaning:clean")


def test_rules_reach_the_job_as_one_json_argument():
    _, props = job(row_rules=[
        RowRule.not_null("id"),
        RowRule.matches("email", "^[^@]+@[^@]+$", name="Invalid email", action=RuleAction.FLAG),
        RowRule.one_of("status", ["active", "pending"]),
        RowRule.between("amount", 0, 10000, name="amount_range"),
        RowRule.sql("amount >= 0 OR status = 'refund'", name="no_negative_amounts"),
    ])
    assert json.loads(props["DefaultArguments"]["--row_rules"]) == [
        {"name": "notNull(id)", "kind": "not_null", "column": "id", "action": "REJECT"},
        {"name": "Invalid email", "kind": "matches", "column": "email", "action": "FLAG", "pattern": "^[^@]+@[^@]+$"},
        {"name": "oneOf(status)", "kind": "one_of", "column": "status", "action": "REJECT",
         "values": ["active", "pending"]},
        {"name": "amount_range", "kind": "between", "column": "amount", "action": "REJECT", "min": 0, "max": 10000},
        {"name": "no_negative_amounts", "kind": "sql", "action": "REJECT",
         "predicate": "amount >= 0 OR status = 'refund'"},
    ]


def test_rule_names_must_be_distinct():
    with pytest.raises(RuntimeError, match=re.escape(
            "'rowRules' names must be distinct, got \"notNull(id)\" twice: give one a 'name'")):
        job(row_rules=[RowRule.not_null("id"), RowRule.not_null("id", action=RuleAction.FLAG)])


@pytest.mark.parametrize("make,message", [
    (lambda: RowRule.one_of("status", []), "'RowRule.oneOf' needs at least one value for column \"status\", got: []"),
    (lambda: RowRule.between("amount", 10, 1), "'RowRule.between' needs min <= max for column \"amount\", got: 10 > 1"),
    (lambda: RowRule.not_null(" "), "'RowRule.notNull' needs a column name, got: \" \""),
])
def test_a_malformed_rule_is_refused(make, message):
    with pytest.raises(RuntimeError, match=re.escape(message)):
        make()


def test_rule_failures_have_a_metric_per_rule():
    pipeline, _ = job(row_rules=[RowRule.not_null("id")])
    metric = pipeline.metric_rule_failures("notNull(id)")
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("EventDrivenGlueWorkflow", "RuleFailures", "Sum")
    assert set(metric.dimensions) == {"JobName", "RuleName"} and metric.dimensions["RuleName"] == "notNull(id)"

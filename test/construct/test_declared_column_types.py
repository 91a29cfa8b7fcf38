"""`columnTypes`: declared column types reach the job as one JSON argument; bad ones fail at synth."""
import json
import re

import pytest
from aws_cdk import Token

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_helpers import new_stack, only_resource, template_of


def job_arguments(**props):
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Orders", **props)
    return only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]


def test_no_declaration_passes_no_argument():
    assert "--column_types" not in job_arguments()


def test_declared_types_are_one_json_argument():
    declared = {"order_id": "bigint", "Amount": "decimal(12,2)", "day": "date", "zip": "string"}
    assert json.loads(job_arguments(column_types=declared)["--column_types"]) == declared


@pytest.mark.parametrize("bad", ["money", "decimal(39,2)", "decimal(5,6)", "varchar(10)", "array<int>", ""])
def test_an_undeclarable_type_is_a_synth_error(bad):
    with pytest.raises(RuntimeError, match=re.escape(
            "'columnTypes' type of \"amount\" must be boolean, tinyint, smallint, int, bigint, float, double, "
            f"decimal(p,s) (1 <= p <= 38, s <= p), string, date or timestamp, got: {json.dumps(bad)}")):
        job_arguments(column_types={"amount": bad})


def test_an_empty_column_name_is_a_synth_error():
    with pytest.raises(RuntimeError, match=re.escape("'columnTypes' keys must be column names, got: \" \"")):
        job_arguments(column_types={" ": "bigint"})


def test_a_token_type_skips_validation():
    stack = new_stack()
    token = Token.as_string({"Ref": "AWS::Region"})
    EventDrivenGlueWorkflow(stack, "Orders", column_types={"amount": token})
    args = only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]
    assert "--column_types" in args

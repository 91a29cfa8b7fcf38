"""CSV options of the default job: rendered as --csv_* arguments only when set, validated at synth."""
import json
import re

import pytest
from aws_cdk import CfnParameter
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from cdk_event_driven_glue_workflow import CsvOptions, EventDrivenGlueWorkflow, InputFormat, ParquetConversionJob
from cdk_helpers import new_stack, only_resource, template_of

CSV_ARGUMENTS = {"--csv_delimiter", "--csv_quote", "--csv_escape", "--csv_header", "--csv_encoding"}


def arguments(stack):
    return only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]


def pipeline_arguments(**props):
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", **props)
    return arguments(stack)


def test_no_csv_argument_by_default():
    assert not CSV_ARGUMENTS & set(pipeline_arguments())


@pytest.mark.parametrize("options, rendered", [
    (CsvOptions(delimiter=";"), {"--csv_delimiter": ";"}),
    (CsvOptions(delimiter="\t"), {"--csv_delimiter": "\t"}),
    (CsvOptions(quote="'"), {"--csv_quote": "'"}),
    (CsvOptions(escape="\\"), {"--csv_escape": "\\"}),
    (CsvOptions(header=False), {"--csv_header": "false"}),
    (CsvOptions(header=True), {"--csv_header": "true"}),
    (CsvOptions(encoding="ISO-8859-1"), {"--csv_encoding": "ISO-8859-1"}),
], ids=["delimiter", "tab", "quote", "escape", "no-header", "header", "encoding"])
def test_only_the_options_set_are_rendered(options, rendered):
    args = pipeline_arguments(input_format=InputFormat.CSV, csv_options=options)
    assert {k: v for k, v in args.items() if k in CSV_ARGUMENTS} == rendered


def test_all_options_together():
    args = pipeline_arguments(csv_options=CsvOptions(
        delimiter="|", quote="'", escape="\\", header=False, encoding="windows-1252"))
    assert {k: v for k, v in args.items() if k in CSV_ARGUMENTS} == {
        "--csv_delimiter": "|", "--csv_quote": "'", "--csv_escape": "\\", "--csv_header": "false",
        "--csv_encoding": "windows-1252"}


def test_standalone_job_renders_csv_options():
    stack = new_stack()
    ParquetConversionJob(stack, "Orders", bucket=s3.Bucket(stack, "Data"), input_format=InputFormat.CSV,
                         csv_options=CsvOptions(delimiter=";"))
    assert arguments(stack)["--csv_delimiter"] == ";"


@pytest.mark.parametrize("name, value", [
    ("delimiter", ""), ("delimiter", "||"), ("quote", '""'), ("escape", "\\\\"),
])
def test_csv_characters_must_be_exactly_one(name, value):
    message = f"'csvOptions.{name}' must be exactly one character, got: {json.dumps(value)}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        pipeline_arguments(csv_options=CsvOptions(**{name: value}))


@pytest.mark.parametrize("value, shown", [("", '""'), ("UTF 8", '"UTF 8"'), ("utf8;", '"utf8;"')])
def test_csv_encoding_must_be_a_charset_name(value, shown):
    message = ("'csvOptions.encoding' must be a character set name of letters, digits and . _ : - "
               f"(e.g. \"UTF-8\"), got: {shown}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        pipeline_arguments(csv_options=CsvOptions(encoding=value))


def test_token_csv_options_skip_validation():
    stack = new_stack()
    delimiter = CfnParameter(stack, "Delimiter").value_as_string
    encoding = CfnParameter(stack, "Encoding").value_as_string
    EventDrivenGlueWorkflow(stack, "Products", csv_options=CsvOptions(delimiter=delimiter, encoding=encoding))
    args = arguments(stack)
    assert args["--csv_delimiter"] == {"Ref": "Delimiter"}
    assert args["--csv_encoding"] == {"Ref": "Encoding"}


def own_warnings(stack):
    return [w.entry.data for w in Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(r"\[ack: cdk-event-driven-glue-workflow:"))]


def test_csv_options_with_json_format_warn():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", input_format=InputFormat.JSON, csv_options=CsvOptions(delimiter=";"))
    assert own_warnings(stack) == [
        "'csvOptions' has no effect with 'inputFormat' JSON: the job reads no CSV. Use InputFormat.CSV or AUTO "
        "[ack: cdk-event-driven-glue-workflow:csvOptionsWithJson]"]


@pytest.mark.parametrize("fmt", [None, InputFormat.CSV, InputFormat.AUTO], ids=["default", "csv", "auto"])
def test_csv_options_with_csv_or_auto_do_not_warn(fmt):
    stack = new_stack()
    props = {"csv_options": CsvOptions(delimiter=";")}
    if fmt is not None:
        props["input_format"] = fmt
    EventDrivenGlueWorkflow(stack, "Products", **props)
    assert own_warnings(stack) == []

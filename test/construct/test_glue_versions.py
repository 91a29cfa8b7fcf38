"""`glueVersion` accepts exactly the Glue versions the default job is proven on.

Each proven version has a runtime profile in the tools package (``runtimes.RUNTIMES``), and
the job's tests run under each. GlueVersion.V6_0 exists from aws-cdk-lib 2.272 on; the suite
runs on the floor, 2.270, so 6.0 is synthesized in ``test/packaging/test_newest_cdk.py``.
"""
import pathlib
import re

import pytest
from aws_cdk import aws_glue as glue

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_event_driven_glue_workflow_tools.runtimes import DEFAULT_GLUE_VERSION, RUNTIMES
from cdk_helpers import new_stack, only_resource, template_of

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROVEN = list(RUNTIMES)


def dotted(version):
    """"5.1" for GlueVersion.V5_1 (jsii's Python enums carry the member name)."""
    return version.value[1:].replace("_", ".")


ACCEPTED = [v for v in glue.GlueVersion if dotted(v) in PROVEN]
REFUSED = [v for v in glue.GlueVersion if dotted(v) not in PROVEN]


@pytest.mark.parametrize("version", ACCEPTED, ids=dotted)
def test_a_proven_version_is_accepted(version):
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", glue_version=version)
    assert only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]["GlueVersion"] == dotted(version)


@pytest.mark.parametrize("version", REFUSED, ids=dotted)
def test_any_other_version_is_a_synth_error_naming_the_proven_ones(version):
    with pytest.raises(RuntimeError, match=re.escape(
            f"'glueVersion' must be one the default job is proven on, 5.0, 5.1, 6.0, got: {dotted(version)}")):
        EventDrivenGlueWorkflow(new_stack(), "Products", glue_version=version)


def test_the_floor_knows_both_5x_versions_and_refuses_the_older_ones():
    assert [dotted(v) for v in ACCEPTED] == ["5.0", "5.1"]
    assert {"0.9", "1.0", "2.0", "3.0", "4.0"} <= {dotted(v) for v in REFUSED}


def test_the_default_is_the_tools_default_profile():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products")
    assert only_resource(template_of(stack), "AWS::Glue::Job")[1]["Properties"]["GlueVersion"] == DEFAULT_GLUE_VERSION


def test_the_construct_and_the_tools_list_the_same_versions():
    source = (ROOT / "src" / "private" / "runtimes.ts").read_text(encoding="utf-8")
    listed = re.search(r"PROVEN_GLUE_VERSIONS = \[([^\]]*)\]", source).group(1)
    assert re.findall(r"'([0-9.]+)'", listed) == PROVEN
    default = re.search(r"DEFAULT_GLUE_VERSION = glue\.GlueVersion\.V(\d)_(\d);", source)
    assert f"{default.group(1)}.{default.group(2)}" == DEFAULT_GLUE_VERSION

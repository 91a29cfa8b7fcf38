"""Construct ids are a contract: a changed logical ID replaces a user's resource on the next deploy.

The fixture records every logical ID, with its resource type, that three typical pipelines
synthesized before any refactor. Each must still be there with the same type; new resources
may be added. Regenerate the fixture only for a deliberate, documented break:
`.venv/bin/python test/construct/test_logical_ids.py --write`.
"""
import json
import pathlib
import sys

import pytest
from aws_cdk import aws_glue as glue

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, EventSource

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from cdk_helpers import new_stack, template_of  # noqa: E402

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "default_logical_ids.json"

VARIANTS = {
    "default": lambda stack: {},
    "cloudtrail": lambda stack: {"event_source": EventSource.cloud_trail()},
    "byo_job": lambda stack: {"job": glue.Job.from_job_attributes(stack, "ExistingJob", job_name="existing-job")},
}


def logical_ids(variant):
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", **VARIANTS[variant](stack))
    resources = template_of(stack).to_json()["Resources"]
    return {logical: resource["Type"] for logical, resource in sorted(resources.items())}


RECORDED = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}


def test_fixture_covers_every_variant():
    assert sorted(RECORDED) == sorted(VARIANTS)
    assert all(len(ids) >= 15 for ids in RECORDED.values())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_recorded_logical_id_is_still_there_with_its_type(variant):
    current = logical_ids(variant)
    changed = {logical: (cfn_type, current.get(logical))
               for logical, cfn_type in RECORDED[variant].items() if current.get(logical) != cfn_type}
    assert changed == {}, "logical IDs removed or retyped (recorded type, current type)"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    FIXTURE.write_text(json.dumps({v: logical_ids(v) for v in sorted(VARIANTS)}, indent=2) + "\n")
    print(f"wrote {FIXTURE}")

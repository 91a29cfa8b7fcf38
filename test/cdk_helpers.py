"""Helpers shared by the construct tests: synth, lint, and EventBridge matching.

Everything here goes through the installed wheel (`cdk_event_driven_glue_workflow`)
and real tools: aws-cdk-lib assertions, cfn-lint and moto's EventBridge matcher.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import cfnlint.api
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def new_stack(app: App | None = None, stack_id: str = "Test") -> Stack:
    """A stack with a concrete environment, so ARNs render like in a real deployment."""
    return Stack(app or App(), stack_id, env=Environment(account=ACCOUNT, region=REGION))


def template_of(stack: Stack) -> Template:
    return Template.from_stack(stack)


def resources_of_type(template: Template, cfn_type: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(cfn_type)


def only_resource(template: Template, cfn_type: str) -> tuple[str, dict[str, Any]]:
    found = resources_of_type(template, cfn_type)
    assert len(found) == 1, f"expected exactly one {cfn_type}, found {sorted(found)}"
    return next(iter(found.items()))


def cfn_lint_findings(template: Template, levels: tuple[str, ...] = ("E", "W"),
                      regions: tuple[str, ...] = (REGION,)) -> list[str]:
    """Runs cfn-lint on a synthesized template; returns the findings of the given levels
    (E error, W warning, I informational) as text."""
    body = json.dumps(template.to_json())
    matches = cfnlint.api.lint(body, regions=list(regions))
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})"
            for m in matches if m.rule.id.startswith(levels)]


def cfn_lint_errors(template: Template, regions: tuple[str, ...] = (REGION,)) -> list[str]:
    """Runs cfn-lint on a synthesized template; returns the error-level findings as text."""
    return cfn_lint_findings(template, ("E",), regions)


def resolve_refs(value: Any, names: dict[str, str]) -> Any:
    """Replaces `{"Ref": logicalId}` with a concrete name, as CloudFormation would at deploy time."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in names:
            return names[value["Ref"]]
        return {k: resolve_refs(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, names) for v in value]
    return value


def rule_patterns(template: Template, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The EventPattern of every AWS::Events::Rule in the template, with refs resolved."""
    patterns = []
    for resource in resources_of_type(template, "AWS::Events::Rule").values():
        pattern = resource["Properties"].get("EventPattern")
        if pattern is not None:
            patterns.append(resolve_refs(copy.deepcopy(pattern), names or {}))
    return patterns


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge pattern matching with moto's matcher (prefix, suffix, wildcard, $or)."""
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def s3_object_created_event(bucket: str, key: str, etag: str = "d41d8cd98f00b204e9800998ecf8427e") -> dict[str, Any]:
    """An S3 "Object Created" event as S3 sends it to EventBridge (the runner's builder)."""
    from cdk_event_driven_glue_workflow_tools.local_pipeline import object_created_event

    return object_created_event(bucket, key, 5, etag, region=REGION, account=ACCOUNT)


def cloudtrail_put_object_event(bucket: str, key: str, event_name: str = "PutObject",
                                error_code: str | None = None) -> dict[str, Any]:
    """A CloudTrail S3 data event as EventBridge delivers it; with `error_code`, a call S3 refused."""
    event = {
        "version": "0",
        "id": "36eb8523-97d0-4518-b33d-ee3579ff19f0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-22T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventSource": "s3.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "requestParameters": {"bucketName": bucket, "key": key, "Host": f"{bucket}.s3.{REGION}.amazonaws.com"},
            "responseElements": None,
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": False,
            "eventCategory": "Data",
        },
    }
    if error_code is not None:
        event["detail"]["errorCode"] = error_code
        event["detail"]["errorMessage"] = "Access Denied"
    return event


def alarm_state_change_event(alarm_name: str, state: str, previous_state: str = "OK") -> dict[str, Any]:
    """A CloudWatch "Alarm State Change" event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-11-22T00:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name}"],
        "detail": {
            "alarmName": alarm_name,
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-22T00:00:00.000+0000"},
            "previousState": {"value": previous_state, "reason": "Threshold Crossed",
                              "timestamp": "2026-11-21T23:00:00.000+0000"},
            "configuration": {"metrics": []},
        },
    }


def pipeline_rule(template: Template) -> tuple[str, dict[str, Any]]:
    """The one rule matching new S3 objects (other rules watch job state changes)."""
    found = {k: v for k, v in resources_of_type(template, "AWS::Events::Rule").items()
             if v["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]}
    assert len(found) == 1, f"expected exactly one S3 rule, found {sorted(found)}"
    return next(iter(found.items()))

"""Finds each EventDrivenGlueWorkflow in a synthesized template: what the runner needs."""
from __future__ import annotations

import dataclasses
import json
import pathlib
import re
from typing import Any


@dataclasses.dataclass
class Pipeline:
    name: str                       # the construct id, from aws:cdk:path
    bucket_logical_id: str | None   # the data bucket, when the stack creates it
    pattern: dict[str, Any]         # the rule's EventPattern, refs unresolved
    batch_size: int
    batch_window: int
    max_concurrent_runs: int
    job_arguments: dict[str, Any]   # job DefaultArguments merged with the trigger action's Arguments
    job_logical_id: str
    workflow_logical_id: str
    role_logical_id: str | None     # the job's role, when the stack creates it

def load(path: pathlib.Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _construct_name(resource: dict[str, Any], logical_id: str) -> str:
    """The construct's id from ``aws:cdk:path`` (the cdk CLI adds it); the resource's
    logical ID for an assembly synthesized without path metadata."""
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    parts = path.split("/")
    return parts[1] if len(parts) > 1 else (path or logical_id)


def pipelines(template: dict[str, Any]) -> list[Pipeline]:
    """Every EVENT trigger with its workflow, rule and job."""
    resources = template["Resources"]
    found = []
    for trigger_id, trigger in resources.items():
        if trigger["Type"] != "AWS::Glue::Trigger" or trigger["Properties"].get("Type") != "EVENT":
            continue
        props = trigger["Properties"]
        workflow_id = _ref(props["WorkflowName"])
        workflow = resources[workflow_id]["Properties"] if workflow_id in resources else {}
        action = props["Actions"][0]
        job_id = _ref(action.get("JobName"))
        if job_id not in resources:
            raise ValueError(f"trigger of {_construct_name(trigger, trigger_id)} starts job {action.get('JobName')!r}, "
                             "which is not in this template; the local runner needs the default job")
        job = resources[job_id]["Properties"]
        rule = _rule_targeting(resources, workflow_id)
        pattern = rule["Properties"]["EventPattern"]
        bucket_names = pattern.get("detail", {}).get("bucket", {}).get("name") or \
            pattern.get("detail", {}).get("requestParameters", {}).get("bucketName") or [None]
        condition = props["EventBatchingCondition"]
        arguments = dict(job.get("DefaultArguments", {}))
        arguments.update(action.get("Arguments", {}))
        found.append(Pipeline(
            name=_construct_name(trigger, trigger_id),
            bucket_logical_id=_ref(bucket_names[0]),
            pattern=pattern,
            batch_size=int(condition["BatchSize"]),
            batch_window=int(condition.get("BatchWindow", 900)),
            max_concurrent_runs=int(workflow.get("MaxConcurrentRuns", 1)),
            job_arguments=arguments,
            job_logical_id=job_id,
            workflow_logical_id=workflow_id,
            role_logical_id=_role_of(job),
        ))
    return sorted(found, key=lambda p: p.name)


def _role_of(job: dict[str, Any]) -> str | None:
    role = job.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return role["Fn::GetAtt"][0]
    return _ref(role)


def refs_in(value: Any) -> set[str]:
    """Logical IDs a template value refers to (Ref and Fn::GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".", 1)[0])
        for v in value.values():
            found |= refs_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs_in(v)
    return found


def _rule_targeting(resources: dict[str, Any], workflow_id: str) -> dict[str, Any]:
    for resource in resources.values():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        for target in resource["Properties"].get("Targets", []):
            if workflow_id in json.dumps(target.get("Arn")):
                return resource
    raise ValueError(f"no EventBridge rule targets workflow {workflow_id}")


#: CloudFormation pseudo parameters, as a local deployment would see them.
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "local",
    "AWS::NoValue": None,
}


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Renders CloudFormation intrinsics with local names, e.g. s3://products-bucket/parquet/.

    ``refs`` maps a logical ID to what ``Ref`` returns, ``"LogicalId.Attribute"``
    to what ``Fn::GetAtt`` returns, and may override the pseudo parameters
    (``AWS::Region``...). Handles ``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
    ``Fn::Sub`` and ``Fn::Select``; an unknown name raises KeyError naming it.
    """
    def lookup(name: str) -> Any:
        if name in refs:
            return refs[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        raise KeyError(f"no local value for {name}")

    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return lookup(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
            return lookup(f"{logical_id}.{attribute}")
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            return sep.join(str(resolve(p, refs)) for p in resolve(parts, refs))
        if set(value) == {"Fn::Select"}:
            index, items = value["Fn::Select"]
            return resolve(items, refs)[int(resolve(index, refs))]
        if set(value) == {"Fn::Sub"}:
            body = value["Fn::Sub"]
            text, local = (body, {}) if isinstance(body, str) else (body[0], resolve(body[1], refs))
            return re.sub(r"\$\{([^}!][^}]*)\}",
                          lambda m: str(local[m.group(1)] if m.group(1) in local else lookup(m.group(1))),
                          text)
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value

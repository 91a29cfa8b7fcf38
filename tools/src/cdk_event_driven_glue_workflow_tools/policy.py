"""The identity policy of a role in a synthesized CloudFormation template, for moto's IAM.

:func:`resolve_policy` merges a role's statements from the template and resolves their
intrinsics the way CloudFormation would; :func:`without_conditions` removes the
``Condition`` blocks moto cannot evaluate, and says which statements it rewrote. The
local runner and the harness tests give the result to a principal of
:class:`~cdk_event_driven_glue_workflow_tools.localaws.LocalAws`.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .localaws import DEFAULT_ACCOUNT_ID, DEFAULT_REGION

# Attributes that follow from a resource's physical name, the way AWS forms them. Each
# function gets (ref_value, pseudo) where ref_value is names[logical_id] (what Ref returns).
_DERIVED_ATTRIBUTES: dict[str, dict[str, Callable[[str, dict[str, str]], str]]] = {
    "AWS::S3::Bucket": {
        "Arn": lambda name, p: f"arn:{p['AWS::Partition']}:s3:::{name}",
    },
    "AWS::SQS::Queue": {  # Ref is the queue URL
        "QueueUrl": lambda url, p: url,
        "QueueName": lambda url, p: url.rstrip("/").rsplit("/", 1)[-1],
        "Arn": lambda url, p: (f"arn:{p['AWS::Partition']}:sqs:{p['AWS::Region']}:"
                               f"{p['AWS::AccountId']}:{url.rstrip('/').rsplit('/', 1)[-1]}"),
    },
    "AWS::IAM::Role": {
        "Arn": lambda name, p: f"arn:{p['AWS::Partition']}:iam::{p['AWS::AccountId']}:role/{name}",
    },
    "AWS::Logs::LogGroup": {
        "Arn": lambda name, p: (f"arn:{p['AWS::Partition']}:logs:{p['AWS::Region']}:"
                                f"{p['AWS::AccountId']}:log-group:{name}:*"),
    },
    "AWS::SNS::Topic": {  # Ref is the topic ARN
        "TopicArn": lambda arn, p: arn,
        "TopicName": lambda arn, p: arn.rsplit(":", 1)[-1],
    },
}


def resolve_policy(template: dict[str, Any], role_logical_id: str, names: Mapping[str, str], *,
                   region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID,
                   partition: str = "aws", url_suffix: str = "amazonaws.com") -> dict[str, Any]:
    """The identity policy of a role in a synthesized CloudFormation template, as one document.

    Merges, in template order, the statements of every ``AWS::IAM::Policy`` and
    ``AWS::IAM::ManagedPolicy`` whose ``Roles`` contain ``{"Ref": role_logical_id}`` and of the
    role's own inline ``Policies``. AWS managed policies (``ManagedPolicyArns``) are not
    included: their text is not in the template.

    Intrinsics are resolved the way CloudFormation would, from ``names``:

    * ``{"Ref": id}`` -> ``names[id]`` (the physical name; for a queue its URL);
    * ``{"Fn::GetAtt": [id, attr]}`` -> ``names["id.attr"]``, else derived from ``names[id]``
      for a few types where AWS forms the attribute from the name (``AWS::S3::Bucket.Arn``,
      ``AWS::SQS::Queue.Arn/QueueName/QueueUrl``, ``AWS::IAM::Role.Arn``,
      ``AWS::Logs::LogGroup.Arn``, ``AWS::SNS::Topic.TopicName``);
    * pseudo parameters ``AWS::Partition``, ``AWS::Region``, ``AWS::AccountId``
      (moto's default account), ``AWS::URLSuffix``; ``AWS::NoValue`` drops the element;
    * ``Fn::Join``, ``Fn::Sub`` (both forms, ``${!Literal}``), ``Fn::Select``, ``Fn::Split``.

    A ``Ref``/``GetAtt`` without a value raises ``KeyError`` naming it; any other intrinsic
    (``Fn::If``, ``Fn::ImportValue``, ...) raises ``ValueError``.
    """
    resources = template.get("Resources", {})
    if role_logical_id not in resources:
        raise KeyError(f"no resource {role_logical_id!r} in the template")
    context = _Context(resources, dict(names), {
        "AWS::Partition": partition, "AWS::Region": region,
        "AWS::AccountId": account_id, "AWS::URLSuffix": url_suffix,
    })
    statements: list[Any] = []
    role = resources[role_logical_id]
    for inline in role.get("Properties", {}).get("Policies", []) or []:
        statements.extend(_statements(inline["PolicyDocument"]))
    for resource in resources.values():
        if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        roles = resource.get("Properties", {}).get("Roles", []) or []
        if {"Ref": role_logical_id} in roles:
            statements.extend(_statements(resource["Properties"]["PolicyDocument"]))
    return {"Version": "2012-10-17", "Statement": context.resolve(statements)}


def without_conditions(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The policy with every ``Condition`` removed, and the Sids (or indexes) rewritten.

    moto evaluates no ``Condition`` on ordinary calls: a statement with one never
    matches there, so an action the real policy allows under a condition would be
    refused locally. Removing the condition makes moto allow it without checking it:
    the rewrite is visible (callers print the returned Sids) and only ever widens a
    statement, so what an enforced run proves is that nothing outside the policy's
    actions and resources was needed, not that the conditions hold.
    """
    rewritten, statements = [], []
    for index, statement in enumerate(_statements(document)):
        if "Condition" in statement:
            statement = {k: v for k, v in statement.items() if k != "Condition"}
            rewritten.append(str(statement.get("Sid", index)))
        statements.append(statement)
    return dict(document, Statement=statements), rewritten


def _statements(document: dict[str, Any]) -> list[Any]:
    statement = document.get("Statement", [])
    return list(statement) if isinstance(statement, list) else [statement]


_NO_VALUE = object()


@dataclasses.dataclass
class _Context:
    resources: dict[str, Any]
    names: dict[str, str]
    pseudo: dict[str, str]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.names:
            return self.names[name]
        raise KeyError(f"no value for Ref {name!r}: pass names[{name!r}]")

    def get_att(self, logical_id: str, attribute: str) -> str:
        key = f"{logical_id}.{attribute}"
        if key in self.names:
            return self.names[key]
        resource_type = self.resources.get(logical_id, {}).get("Type", "")
        derive = _DERIVED_ATTRIBUTES.get(resource_type, {}).get(attribute)
        if derive is not None and logical_id in self.names:
            return derive(self.names[logical_id], self.pseudo)
        raise KeyError(f"no value for Fn::GetAtt {key!r} ({resource_type or 'not in template'}): "
                       f"pass names[{key!r}]" + (f" or names[{logical_id!r}]" if derive else ""))

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))
        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Join":
                separator, parts = arg
                return self.resolve(separator).join(str(p) for p in self.resolve(parts))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, variables)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = arg
                return self.resolve(text).split(self.resolve(separator))
            if key.startswith("Fn::"):
                raise ValueError(f"resolve_policy does not evaluate {key}: {json.dumps(value)}")
        items = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}

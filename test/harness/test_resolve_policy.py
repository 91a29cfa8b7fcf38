"""resolve_policy: a role's policy in a template synthesized by aws-cdk-lib, made concrete.

The resolved document is asserted exactly, then enforced by moto for a principal that holds
it: what the template grants works, what it does not grant is refused.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cdk_event_driven_glue_workflow_tools.policy import resolve_policy
from harness_fixtures import running_local_aws


@pytest.fixture(scope="module")
def template():
    from aws_cdk import App, Aws, Fn, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sqs as sqs

    app = App()
    stack = Stack(app, "PolicyStack")  # no env: region, account and partition stay refs
    bucket = s3.Bucket(stack, "Data")
    queue = sqs.Queue(stack, "Ledger")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    bucket.grant_read(role)
    queue.grant_consume_messages(role)
    role.add_to_policy(iam.PolicyStatement(
        actions=["glue:GetTable"],
        resources=[f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:catalog"]))
    role.add_to_policy(iam.PolicyStatement(
        actions=["logs:PutLogEvents"],
        resources=[Fn.sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/*")]))
    return app.synth().get_stack_by_name("PolicyStack").template


def _logical_id(template, cfn_type):
    found = [lid for lid, r in template["Resources"].items() if r["Type"] == cfn_type]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def ids(template):
    return {t: _logical_id(template, f"AWS::{t}") for t in ("S3::Bucket", "SQS::Queue", "IAM::Role")}


QUEUE_URL = "http://127.0.0.1:4566/123456789012/ledger"


def test_resolves_the_role_policy_of_a_synthesized_template(template, ids):
    doc = resolve_policy(template, ids["IAM::Role"],
                         {ids["S3::Bucket"]: "bkt-data", ids["SQS::Queue"]: QUEUE_URL})
    assert doc == {"Version": "2012-10-17", "Statement": [
        {"Action": ["s3:GetObject*", "s3:GetBucket*", "s3:List*"], "Effect": "Allow",
         "Resource": ["arn:aws:s3:::bkt-data", "arn:aws:s3:::bkt-data/*"]},
        {"Action": ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl",
                    "sqs:DeleteMessage", "sqs:GetQueueAttributes"], "Effect": "Allow",
         "Resource": "arn:aws:sqs:us-east-1:123456789012:ledger"},
        {"Action": "glue:GetTable", "Effect": "Allow",
         "Resource": "arn:aws:glue:us-east-1:123456789012:catalog"},
        {"Action": "logs:PutLogEvents", "Effect": "Allow",
         "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/*"},
    ]}


def test_pseudo_parameters_and_explicit_attributes_can_be_set(template, ids):
    doc = resolve_policy(template, ids["IAM::Role"], {
        ids["S3::Bucket"]: "bkt-data", ids["SQS::Queue"]: QUEUE_URL,
        f"{ids['SQS::Queue']}.Arn": "arn:aws-cn:sqs:cn-north-1:111122223333:other",
    }, region="cn-north-1", account_id="111122223333", partition="aws-cn")
    resources = [s["Resource"] for s in doc["Statement"]]
    assert resources == [
        ["arn:aws-cn:s3:::bkt-data", "arn:aws-cn:s3:::bkt-data/*"],
        "arn:aws-cn:sqs:cn-north-1:111122223333:other",
        "arn:aws-cn:glue:cn-north-1:111122223333:catalog",
        "arn:aws-cn:logs:cn-north-1:111122223333:log-group:/aws-glue/*",
    ]


def test_an_unknown_ref_raises_key_error_naming_it(template, ids):
    with pytest.raises(KeyError, match=ids["SQS::Queue"]):
        resolve_policy(template, ids["IAM::Role"], {ids["S3::Bucket"]: "bkt-data"})
    with pytest.raises(KeyError, match="NoSuchRole"):
        resolve_policy(template, "NoSuchRole", {})


SMALL = {"Resources": {
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "inline", "PolicyDocument": {
        "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                      "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/${!literal}/*",
                                               {"B": {"Ref": "Bucket"}}]}}}}]}},
    "Bucket": {"Type": "AWS::S3::Bucket"},
    "Other": {"Type": "AWS::IAM::Role"},
    "P1": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}, {"Ref": "Other"}], "PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                       "Resource": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
                       "Sid": {"Ref": "AWS::NoValue"}}]}}},
    "P2": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Other"}], "PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
    "P3": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "s3:*",
                       "Resource": {"Fn::If": ["Cond", "a", "b"]}}]}}},
}}


def test_inline_policies_sub_select_split_novalue_and_only_this_role():
    template = {"Resources": {k: v for k, v in SMALL["Resources"].items() if k != "P3"}}
    assert resolve_policy(template, "Role", {"Bucket": "bkt"}) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/${literal}/*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "b"},
    ]}


def test_an_intrinsic_it_cannot_evaluate_raises_value_error():
    with pytest.raises(ValueError, match="Fn::If"):
        resolve_policy(SMALL, "Role", {"Bucket": "bkt"})


def test_the_resolved_policy_is_what_moto_enforces(template, ids):
    with running_local_aws() as aws:
        s3, sqs = aws.client("s3"), aws.client("sqs")
        for bucket in ("bkt-data", "bkt-elsewhere"):
            s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key="in/x", Body=b"x")
        queue_url = sqs.create_queue(QueueName="ledger")["QueueUrl"]
        doc = resolve_policy(template, ids["IAM::Role"],
                             {ids["S3::Bucket"]: "bkt-data", ids["SQS::Queue"]: queue_url})
        role = aws.principal("job-role", doc)
        aws.enforce_iam()

        s3_as_role, sqs_as_role = aws.client("s3", role), aws.client("sqs", role)
        assert s3_as_role.get_object(Bucket="bkt-data", Key="in/x")["Body"].read() == b"x"
        assert [o["Key"] for o in s3_as_role.list_objects_v2(Bucket="bkt-data")["Contents"]] == ["in/x"]
        assert sqs_as_role.receive_message(QueueUrl=queue_url).get("Messages", []) == []
        refused = [
            lambda: s3_as_role.get_object(Bucket="bkt-elsewhere", Key="in/x"),
            lambda: s3_as_role.put_object(Bucket="bkt-data", Key="in/y", Body=b"y"),
            lambda: sqs_as_role.send_message(QueueUrl=queue_url, MessageBody="m"),
        ]
        for call in refused:
            with pytest.raises(ClientError) as denied:
                call()
            assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

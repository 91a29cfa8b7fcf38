"""The S3 -> EventBridge rule -> Glue workflow -> EVENT trigger chain of EventDrivenGlueWorkflow."""
import pytest
from aws_cdk import CfnParameter, Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_helpers import (
    cfn_lint_errors,
    matches,
    new_stack,
    only_resource,
    pipeline_rule,
    rule_patterns,
    s3_object_created_event,
    template_of,
)

BUCKET = "landing-bucket"


def byo_job(stack):
    return glue.Job.from_job_attributes(stack, "ExistingJob", job_name="existing-job")


def pipeline(stack=None, **props):
    stack = stack or new_stack()
    props.setdefault("job", byo_job(stack))
    construct = EventDrivenGlueWorkflow(stack, "Pipeline", **props)
    return stack, construct


def workflow_pattern(stack, bucket_name=BUCKET):
    template = template_of(stack)
    bucket_ids = list(template.find_resources("AWS::S3::Bucket"))
    patterns = [p for p in rule_patterns(template, {b: bucket_name for b in bucket_ids})
                if p.get("source") == ["aws.s3"]]
    assert len(patterns) == 1
    return patterns[0]


# ---- defaults -------------------------------------------------------------

def test_default_bucket_blocks_public_access_encrypts_and_enables_eventbridge():
    stack, _ = pipeline()
    template_of(stack).has_resource_properties("AWS::S3::Bucket", {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
    })


def test_default_bucket_enables_eventbridge_without_a_custom_resource():
    stack, _ = pipeline()
    template = template_of(stack)
    assert template.find_resources("Custom::S3BucketNotifications") == {}
    assert template.find_resources("AWS::Lambda::Function") == {}


def test_default_bucket_policy_denies_insecure_transport():
    stack, _ = pipeline()
    template_of(stack).has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])},
    })


def test_default_bucket_is_retained_on_stack_deletion():
    stack, _ = pipeline()
    template_of(stack).has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


def test_default_rule_matches_object_created_in_bucket_under_incoming():
    stack, _ = pipeline()
    pattern = workflow_pattern(stack)
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail"]["bucket"]["name"] == [BUCKET]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "incoming/"}]


def test_default_prefix_filter_means_incoming_objects_match_and_others_do_not():
    stack, _ = pipeline()
    pattern = workflow_pattern(stack)
    assert matches(pattern, s3_object_created_event(BUCKET, "incoming/a.json"))
    assert matches(pattern, s3_object_created_event(BUCKET, "incoming/deep/b.csv"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "parquet/x.parquet"))
    assert not matches(pattern, s3_object_created_event("other-bucket", "incoming/a.json"))


def test_default_batching_is_100_events_or_900_seconds():
    stack, _ = pipeline()
    template_of(stack).has_resource_properties("AWS::Glue::Trigger", {
        "Type": "EVENT",
        "EventBatchingCondition": {"BatchSize": 100, "BatchWindow": 900},
    })


def test_default_workflow_allows_one_concurrent_run():
    stack, _ = pipeline()
    template_of(stack).has_resource_properties("AWS::Glue::Workflow", {"MaxConcurrentRuns": 1})


def test_default_workflow_has_a_generated_name_and_a_description():
    stack, _ = pipeline()
    _, workflow = only_resource(template_of(stack), "AWS::Glue::Workflow")
    assert "Name" not in workflow["Properties"]
    assert "incoming/" in workflow["Properties"]["Description"]


def test_trigger_belongs_to_the_workflow_and_starts_the_job():
    stack, _ = pipeline()
    template = template_of(stack)
    workflow_id, _ = only_resource(template, "AWS::Glue::Workflow")
    template.has_resource_properties("AWS::Glue::Trigger", {
        "Type": "EVENT",
        "WorkflowName": {"Ref": workflow_id},
        "Actions": [{"JobName": "existing-job"}],
    })


def test_rule_target_is_the_workflow_arn_with_the_event_role():
    stack, _ = pipeline()
    template = template_of(stack)
    workflow_id, _ = only_resource(template, "AWS::Glue::Workflow")
    role_id, _ = only_resource(template, "AWS::IAM::Role")
    _, rule = pipeline_rule(template)
    targets = rule["Properties"]["Targets"]
    glue_targets = [t for t in targets if "RoleArn" in t]
    assert len(glue_targets) == 1
    assert glue_targets[0]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert glue_targets[0]["Arn"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":glue:eu-west-1:123456789012:workflow/", {"Ref": workflow_id}]]}


def test_event_role_is_assumed_by_eventbridge():
    stack, _ = pipeline()
    template_of(stack).has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Action": "sts:AssumeRole", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
        })]},
    })


def test_event_role_policy_is_exactly_notify_event_on_the_workflow():
    stack, _ = pipeline()
    template = template_of(stack)
    workflow_id, _ = only_resource(template, "AWS::Glue::Workflow")
    _, policy = only_resource(template, "AWS::IAM::Policy")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [{
        "Action": "glue:notifyEvent",
        "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":glue:eu-west-1:123456789012:workflow/", {"Ref": workflow_id}]]},
    }]


def test_public_attributes_expose_what_was_created():
    stack, construct = pipeline()
    assert construct.bucket.node.path == "Test/Pipeline/Bucket"
    assert construct.workflow.node.path == "Test/Pipeline/Workflow"
    assert construct.rule.node.path == "Test/Pipeline/Rule"
    assert construct.event_role.node.path == "Test/Pipeline/EventRole"
    assert construct.job.job_name == "existing-job"
    assert construct.trigger.trigger_ref is not None
    assert construct.input_prefix == "incoming/"


# ---- overrides ------------------------------------------------------------

def test_batch_size_and_window_override():
    stack, _ = pipeline(batch_size=5, batch_window=Duration.minutes(15))
    template_of(stack).has_resource_properties("AWS::Glue::Trigger", {
        "EventBatchingCondition": {"BatchSize": 5, "BatchWindow": 900},
    })


def test_batch_limits_are_accepted_at_both_ends():
    stack, _ = pipeline(batch_size=1, batch_window=Duration.seconds(1))
    template_of(stack).has_resource_properties("AWS::Glue::Trigger", {
        "EventBatchingCondition": {"BatchSize": 1, "BatchWindow": 1},
    })


def test_workflow_name_description_and_concurrency_override():
    stack, _ = pipeline(workflow_name="products", description="Products feed", max_concurrent_runs=3)
    template = template_of(stack)
    template.has_resource_properties("AWS::Glue::Workflow", {
        "Name": "products", "Description": "Products feed", "MaxConcurrentRuns": 3,
    })
    template.has_resource_properties("AWS::Events::Rule", {"Description": "Products feed"})


def test_prefix_only_pattern_matches_by_meaning():
    stack, _ = pipeline(input_prefix="data/products_raw/")
    pattern = workflow_pattern(stack)
    assert pattern["detail"]["object"]["key"] == [{"prefix": "data/products_raw/"}]
    assert matches(pattern, s3_object_created_event(BUCKET, "data/products_raw/p1.json"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "data/products/p1.parquet"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "incoming/p1.json"))


def test_suffix_only_pattern_matches_by_meaning():
    stack, _ = pipeline(input_prefix="", input_suffixes=[".json", ".json.gz"])
    pattern = workflow_pattern(stack)
    assert pattern["detail"]["object"]["key"] == [{"suffix": ".json"}, {"suffix": ".json.gz"}]
    assert matches(pattern, s3_object_created_event(BUCKET, "anywhere/a.json"))
    assert matches(pattern, s3_object_created_event(BUCKET, "a.json.gz"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "a.csv"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "a.json.bak"))


def test_prefix_and_suffixes_pattern_requires_both():
    stack, _ = pipeline(input_prefix="data/raw/", input_suffixes=[".json", ".csv.gz"])
    pattern = workflow_pattern(stack)
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "data/raw/*.json"}, {"wildcard": "data/raw/*.csv.gz"}]
    assert matches(pattern, s3_object_created_event(BUCKET, "data/raw/a.json"))
    assert matches(pattern, s3_object_created_event(BUCKET, "data/raw/2026/11/b.csv.gz"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "data/raw/a.csv"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "data/other/a.json"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "x/data/raw/a.json"))


def test_prefix_and_suffix_with_wildcard_characters_are_escaped():
    stack, _ = pipeline(input_prefix="in*box/", input_suffixes=[".json"])
    pattern = workflow_pattern(stack)
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "in\\*box/*.json"}]
    assert matches(pattern, s3_object_created_event(BUCKET, "in*box/a.json"))
    assert not matches(pattern, s3_object_created_event(BUCKET, "inXXbox/a.json"))


def test_empty_prefix_and_no_suffixes_match_every_key_of_the_bucket():
    stack, _ = pipeline(input_prefix="")
    pattern = workflow_pattern(stack)
    assert "object" not in pattern["detail"]
    assert matches(pattern, s3_object_created_event(BUCKET, "any/key.bin"))


def test_bring_your_own_bucket_is_used_and_no_bucket_is_created():
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Landing", "my-existing-landing")
    _, construct = pipeline(stack, bucket=bucket)
    template = template_of(stack)
    assert template.find_resources("AWS::S3::Bucket") == {}
    pattern = pipeline_rule(template)[1]["Properties"]["EventPattern"]
    assert pattern["detail"]["bucket"]["name"] == ["my-existing-landing"]
    assert construct.bucket.bucket_name == "my-existing-landing"


def test_bring_your_own_event_role_is_the_target_role():
    stack = new_stack()
    role = iam.Role(stack, "MyRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    _, construct = pipeline(stack, event_role=role)
    template = template_of(stack)
    role_id, _ = only_resource(template, "AWS::IAM::Role")
    assert construct.event_role is role
    _, rule = pipeline_rule(template)
    assert [t["RoleArn"] for t in rule["Properties"]["Targets"] if "RoleArn" in t] == [{"Fn::GetAtt": [role_id, "Arn"]}]
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": role_id}],
        "PolicyDocument": {"Statement": [Match.object_like({"Action": "glue:notifyEvent"})]},
    })


# ---- tokens ---------------------------------------------------------------

def test_cfn_parameters_for_batch_size_and_window_pass_synth():
    stack = new_stack()
    size = CfnParameter(stack, "BatchSize", type="Number", default=10)
    window = CfnParameter(stack, "BatchWindow", type="Number", default=60)
    pipeline(stack, batch_size=size.value_as_number, batch_window=Duration.seconds(window.value_as_number))
    template_of(stack).has_resource_properties("AWS::Glue::Trigger", {
        "EventBatchingCondition": {"BatchSize": {"Ref": "BatchSize"}, "BatchWindow": {"Ref": "BatchWindow"}},
    })


def test_cfn_parameters_for_batch_size_and_window_are_passed_to_the_job_as_references():
    stack = new_stack()
    size = CfnParameter(stack, "BatchSize", type="Number", default=10)
    window = CfnParameter(stack, "BatchWindow", type="Number", default=60)
    pipeline(stack, batch_size=size.value_as_number, batch_window=Duration.seconds(window.value_as_number))
    template_of(stack).has_resource_properties("AWS::Glue::Trigger", {"Actions": [Match.object_like({
        "Arguments": {"--batch_size": {"Ref": "BatchSize"}, "--batch_window_seconds": {"Ref": "BatchWindow"}},
    })]})


# ---- cfn-lint ---------------------------------------------------------------

@pytest.mark.parametrize("props", [
    {},
    {"input_prefix": "data/raw/", "input_suffixes": [".json", ".csv"], "batch_size": 5,
     "batch_window": Duration.minutes(5), "workflow_name": "wf", "max_concurrent_runs": 2},
    {"input_prefix": "", "input_suffixes": [".json"]},
], ids=["defaults", "all-overrides", "suffix-only"])
def test_synthesized_template_is_cfn_lint_clean(props):
    stack, _ = pipeline(**props)
    assert cfn_lint_errors(template_of(stack)) == []

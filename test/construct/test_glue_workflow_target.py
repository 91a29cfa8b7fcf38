"""GlueWorkflowTarget on a rule of the user's own: role scoping, retry policy, dead-letter queue."""
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match

from cdk_event_driven_glue_workflow import GlueWorkflowTarget
from cdk_helpers import cfn_lint_errors, new_stack, only_resource, template_of


def own_rule(stack):
    return events.Rule(stack, "MyRule", event_pattern=events.EventPattern(source=["aws.s3"]))


def workflow_arn(workflow_id):
    return {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":glue:eu-west-1:123456789012:workflow/", {"Ref": workflow_id}]]}


def test_target_arn_is_the_workflow_with_a_created_role():
    stack = new_stack()
    workflow = glue.Workflow(stack, "Wf")
    own_rule(stack).add_target(GlueWorkflowTarget(workflow))
    template = template_of(stack)
    role_id, _ = only_resource(template, "AWS::IAM::Role")
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({
        "Arn": workflow_arn(only_resource(template, "AWS::Glue::Workflow")[0]),
        "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
    })]})


def test_created_role_is_assumed_by_eventbridge_and_allowed_notify_event_on_that_workflow_only():
    stack = new_stack()
    workflow = glue.Workflow(stack, "Wf")
    glue.Workflow(stack, "OtherWf")
    own_rule(stack).add_target(GlueWorkflowTarget(workflow))
    template = template_of(stack)
    template.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        Match.object_like({"Principal": {"Service": "events.amazonaws.com"}})]}})
    wf_id = [k for k in template.find_resources("AWS::Glue::Workflow") if k.startswith("Wf")][0]
    _, policy = only_resource(template, "AWS::IAM::Policy")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "glue:notifyEvent", "Effect": "Allow", "Resource": workflow_arn(wf_id)}]


def test_bring_your_own_role_gets_the_grant_and_is_used():
    stack = new_stack()
    workflow = glue.Workflow(stack, "Wf")
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    own_rule(stack).add_target(GlueWorkflowTarget(workflow, role=role))
    template = template_of(stack)
    assert len(template.find_resources("AWS::IAM::Role")) == 1
    role_id, _ = only_resource(template, "AWS::IAM::Role")
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({
        "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]}})]})
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": role_id}],
        "PolicyDocument": {"Statement": [Match.object_like({"Action": "glue:notifyEvent"})]},
    })


def test_imported_workflow_can_be_a_target():
    stack = new_stack()
    workflow = glue.Workflow.from_workflow_name(stack, "Wf", "nightly")
    own_rule(stack).add_target(GlueWorkflowTarget(workflow))
    template_of(stack).has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({
        "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":glue:eu-west-1:123456789012:workflow/nightly"]]},
    })]})


def test_retry_policy_and_dead_letter_queue():
    stack = new_stack()
    workflow = glue.Workflow(stack, "Wf")
    dlq = sqs.Queue(stack, "Dlq", enforce_ssl=True)
    own_rule(stack).add_target(GlueWorkflowTarget(
        workflow, retry_attempts=7, max_event_age=Duration.hours(2), dead_letter_queue=dlq))
    template = template_of(stack)
    dlq_id, _ = only_resource(template, "AWS::SQS::Queue")
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({
        "RetryPolicy": {"MaximumRetryAttempts": 7, "MaximumEventAgeInSeconds": 7200},
        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}},
    })]})
    template.has_resource_properties("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": "sqs:SendMessage", "Principal": {"Service": "events.amazonaws.com"}})])}})


def test_target_template_is_cfn_lint_clean():
    stack = new_stack()
    workflow = glue.Workflow(stack, "Wf")
    own_rule(stack).add_target(GlueWorkflowTarget(workflow, retry_attempts=3))
    assert cfn_lint_errors(template_of(stack)) == []

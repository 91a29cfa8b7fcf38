"""The ledger sweep: an alarm on the ledger's oldest message and a rule that notifies the workflow,
so waiting objects are converted without a new upload; and job run queuing."""
import re

import pytest
from aws_cdk import CfnParameter, Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_sns as sns

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_helpers import (
    ACCOUNT,
    REGION,
    alarm_state_change_event,
    matches,
    new_stack,
    only_resource,
    pipeline_rule,
    resources_of_type,
    template_of,
)

ALARM_NAME = "products-ledger-sweep"


def build(**props):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", **props)
    return stack, pipeline, template_of(stack)


@pytest.fixture(scope="module")
def default():
    return build()


def logical_id(template, cfn_type, prefix):
    found = [k for k in resources_of_type(template, cfn_type) if k.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def find(template, cfn_type, prefix):
    return [k for k in resources_of_type(template, cfn_type) if k.startswith(prefix)]


def sweep_alarm(template):
    return resources_of_type(template, "AWS::CloudWatch::Alarm")[
        logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")]["Properties"]


def sweep_rule(template):
    return resources_of_type(template, "AWS::Events::Rule")[
        logical_id(template, "AWS::Events::Rule", "ProductsLedgerSweepRule")]["Properties"]


def job_statements(template):
    policy = resources_of_type(template, "AWS::IAM::Policy")[
        logical_id(template, "AWS::IAM::Policy", "ProductsConversionJobRoleDefaultPolicy")]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def resolved_sweep_pattern(template):
    """The rule pattern with the alarm's ARN as CloudFormation would resolve it."""
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    pattern = sweep_rule(template)["EventPattern"]
    assert pattern["resources"] == [{"Fn::GetAtt": [alarm, "Arn"]}]
    return {**pattern, "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM_NAME}"]}


# ---- the alarm --------------------------------------------------------------------

def test_sweep_alarm_watches_the_ledger_oldest_message_every_minute(default):
    _, _, template = default
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    props = sweep_alarm(template)
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (
        "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [ledger, "QueueName"]}}]
    assert props["Period"] == 60
    assert props["EvaluationPeriods"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"


def test_sweep_threshold_defaults_to_batch_window_plus_15_minutes(default):
    assert sweep_alarm(default[2])["Threshold"] == 900 + 900


def test_sweep_threshold_follows_the_batch_window():
    _, _, template = build(batch_window=Duration.seconds(60))
    assert sweep_alarm(template)["Threshold"] == 60 + 900


def test_sweep_after_override():
    _, _, template = build(ledger_sweep_after=Duration.minutes(45))
    assert sweep_alarm(template)["Threshold"] == 2700


def test_sweep_alarm_is_a_mechanism_not_a_page():
    stack = new_stack()
    topic = sns.Topic(stack, "Alerts")
    pipeline = EventDrivenGlueWorkflow(stack, "Products", alarm_topic=topic)
    template = template_of(stack)
    assert "AlarmActions" not in sweep_alarm(template)
    assert pipeline.ledger_sweep_alarm is not None
    assert "Test/Products/LedgerSweepAlarm" not in [a.node.path for a in pipeline.alarms]
    assert len(pipeline.alarms) == 6


def test_sweep_alarm_is_exposed(default):
    _, pipeline, template = default
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    assert pipeline.ledger_sweep_alarm.node.path == "Test/Products/LedgerSweepAlarm"
    assert alarm.startswith("ProductsLedgerSweepAlarm")


# ---- the rule -----------------------------------------------------------------------

def test_sweep_rule_matches_the_alarm_going_to_alarm(default):
    pattern = resolved_sweep_pattern(default[2])
    assert matches(pattern, alarm_state_change_event(ALARM_NAME, "ALARM"))


@pytest.mark.parametrize("state, previous", [("OK", "ALARM"), ("INSUFFICIENT_DATA", "OK")])
def test_sweep_rule_ignores_other_states(default, state, previous):
    pattern = resolved_sweep_pattern(default[2])
    assert not matches(pattern, alarm_state_change_event(ALARM_NAME, state, previous))


def test_sweep_rule_ignores_other_alarms(default):
    pattern = resolved_sweep_pattern(default[2])
    assert not matches(pattern, alarm_state_change_event("someone-elses-alarm", "ALARM"))


def test_sweep_rule_pattern_is_the_alarm_state_change(default):
    pattern = sweep_rule(default[2])["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}


def test_sweep_rule_notifies_the_workflow_with_the_event_role_and_main_delivery(default):
    _, _, template = default
    workflow = only_resource(template, "AWS::Glue::Workflow")[0]
    role = logical_id(template, "AWS::IAM::Role", "ProductsEventRole")
    dlq = logical_id(template, "AWS::SQS::Queue", "ProductsDeadLetterQueue")
    targets = sweep_rule(template)["Targets"]
    assert len(targets) == 1
    assert targets[0]["Arn"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":glue:eu-west-1:123456789012:workflow/", {"Ref": workflow}]]}
    assert targets[0]["RoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
    assert targets[0]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    assert targets[0]["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def test_sweep_rule_follows_delivery_overrides():
    _, _, template = build(event_retry_attempts=3, event_max_age=Duration.hours(2))
    assert sweep_rule(template)["Targets"][0]["RetryPolicy"] == {
        "MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}


def test_dead_letter_queue_accepts_the_sweep_rule(default):
    _, _, template = default
    rule = logical_id(template, "AWS::Events::Rule", "ProductsLedgerSweepRule")
    dlq = logical_id(template, "AWS::SQS::Queue", "ProductsDeadLetterQueue")
    policies = [p["Properties"] for p in resources_of_type(template, "AWS::SQS::QueuePolicy").values()
                if p["Properties"]["Queues"] == [{"Ref": dlq}]]
    assert len(policies) == 1
    assert any(s.get("Condition") == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule, "Arn"]}}}
               and s["Action"] == "sqs:SendMessage" for s in policies[0]["PolicyDocument"]["Statement"])


# ---- the job re-arms it -------------------------------------------------------------

def test_job_may_rearm_only_the_sweep_alarm(default):
    _, _, template = default
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    found = [s for s in job_statements(template) if s.get("Sid") == "ReArmLedgerSweep"]
    assert found == [{"Sid": "ReArmLedgerSweep", "Action": "cloudwatch:SetAlarmState", "Effect": "Allow",
                      "Resource": {"Fn::GetAtt": [alarm, "Arn"]}}]


def test_job_gets_the_sweep_alarm_name(default):
    _, _, template = default
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    args = only_resource(template, "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]
    assert args["--sweep_alarm_name"] == {"Ref": alarm}


def job_arguments(template):
    return only_resource(template, "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]


def test_job_gets_the_default_sweep_threshold_in_seconds(default):
    assert job_arguments(default[2])["--sweep_after_seconds"] == "1800"


def test_job_sweep_threshold_follows_the_batch_window():
    assert job_arguments(build(batch_window=Duration.seconds(60))[2])["--sweep_after_seconds"] == "960"


def test_job_sweep_threshold_follows_ledger_sweep_after():
    assert job_arguments(build(ledger_sweep_after=Duration.minutes(45))[2])["--sweep_after_seconds"] == "2700"


def test_job_sweep_threshold_equals_the_alarm_threshold():
    _, _, template = build(ledger_sweep_after=Duration.hours(2))
    assert job_arguments(template)["--sweep_after_seconds"] == str(sweep_alarm(template)["Threshold"])


# ---- off, own job -------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep_off():
    return build(ledger_sweep=False)


def test_sweep_off_creates_no_alarm_and_no_rule(sweep_off):
    _, pipeline, template = sweep_off
    assert find(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweep") == []
    assert find(template, "AWS::Events::Rule", "ProductsLedgerSweep") == []
    assert pipeline.ledger_sweep_alarm is None


def test_sweep_off_gives_the_job_no_alarm_and_no_permission(sweep_off):
    _, _, template = sweep_off
    args = only_resource(template, "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]
    assert "--sweep_alarm_name" not in args
    assert "--sweep_after_seconds" not in args
    assert [s for s in job_statements(template) if "cloudwatch:SetAlarmState" in str(s["Action"])] == []


def test_own_job_without_ledger_has_no_sweep():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    template = template_of(stack)
    assert find(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweep") == []
    assert find(template, "AWS::Events::Rule", "ProductsLedgerSweep") == []
    assert pipeline.ledger_sweep_alarm is None


def test_own_job_with_ledger_gets_the_sweep_rule():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", event_ledger=True,
                                       job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    template = template_of(stack)
    assert len(sweep_rule(template)["Targets"]) == 1
    assert pipeline.ledger_sweep_alarm is not None


# ---- validation -------------------------------------------------------------------

@pytest.mark.parametrize("after, shown", [
    (Duration.seconds(59), "59 seconds"),
    (Duration.millis(90500), "90.5 seconds"),
    (Duration.seconds(604801), "604801 seconds"),
])
def test_sweep_after_outside_60_seconds_to_max_message_age_raises(after, shown):
    message = f"'ledgerSweepAfter' must be a whole number of seconds between 60 and 'ledgerMaxMessageAge' (604800 seconds), got: {shown}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(ledger_sweep_after=after)


def test_sweep_after_must_not_exceed_an_overridden_max_message_age():
    message = ("'ledgerSweepAfter' must be a whole number of seconds between 60 and 'ledgerMaxMessageAge' "
               "(7200 seconds), got: 10800 seconds")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(ledger_max_message_age=Duration.hours(2), ledger_sweep_after=Duration.hours(3))


def test_sweep_after_limits_are_accepted():
    assert sweep_alarm(build(ledger_sweep_after=Duration.seconds(60))[2])["Threshold"] == 60
    assert sweep_alarm(build(ledger_sweep_after=Duration.days(7))[2])["Threshold"] == 604800


def test_token_sweep_after_skips_validation():
    stack = new_stack()
    seconds = CfnParameter(stack, "SweepAfter", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", ledger_sweep_after=Duration.seconds(seconds))
    template = template_of(stack)
    assert sweep_alarm(template)["Threshold"] == {"Ref": "SweepAfter"}
    assert job_arguments(template)["--sweep_after_seconds"] == {"Ref": "SweepAfter"}


# ---- job run queuing ----------------------------------------------------------------

def job_properties(template):
    return only_resource(template, "AWS::Glue::Job")[1]["Properties"]


def test_job_run_queuing_is_off_by_default(default):
    props = job_properties(default[2])
    assert props["JobRunQueuingEnabled"] is False
    assert props["MaxRetries"] == 1


def test_job_run_queuing_on_sets_no_retries():
    props = job_properties(build(job_run_queuing=True)[2])
    assert props["JobRunQueuingEnabled"] is True
    assert props["MaxRetries"] == 0


def test_job_run_queuing_with_explicit_zero_retries():
    assert job_properties(build(job_run_queuing=True, job_max_retries=0)[2])["MaxRetries"] == 0


def test_job_run_queuing_with_retries_raises():
    message = "'jobMaxRetries' must be 0 with 'jobRunQueuing' (Glue allows no retries for a job with run queuing), got: 2"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(job_run_queuing=True, job_max_retries=2)


def test_job_run_queuing_with_flex_raises():
    message = "'jobRunQueuing' cannot be used with 'executionClass' FLEX: Glue queues only standard job runs"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(job_run_queuing=True, execution_class=glue.ExecutionClass.FLEX)


# ---- periodic re-arm (EventBridge Scheduler) ----------------------------------------

def schedule(template):
    return resources_of_type(template, "AWS::Scheduler::Schedule")[
        logical_id(template, "AWS::Scheduler::Schedule", "ProductsLedgerSweepReArm")]["Properties"]


def rearm_role_id(template):
    return logical_id(template, "AWS::IAM::Role", "ProductsLedgerSweepReArmRole")


def policies_of_role(template, role_id):
    return [p["Properties"] for p in resources_of_type(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"]]


def resolved_input(template):
    """The target input as Scheduler receives it, with the alarm's name resolved."""
    import json
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    delimiter, parts = schedule(template)["Target"]["Input"]["Fn::Join"]
    return json.loads(delimiter.join(ALARM_NAME if p == {"Ref": alarm} else p for p in parts))


def test_rearm_schedule_is_exposed(default):
    _, pipeline, _ = default
    assert pipeline.ledger_sweep_schedule.node.path == "Test/Products/LedgerSweepReArm"


def test_rearm_schedule_runs_every_hour_by_default(default):
    props = schedule(default[2])
    assert props["ScheduleExpression"] == "rate(1 hour)"
    assert props["State"] == "ENABLED"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}


def test_rearm_schedule_calls_cloudwatch_set_alarm_state(default):
    target = schedule(default[2])["Target"]
    assert target["Arn"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":scheduler:::aws-sdk:cloudwatch:setAlarmState"]]}


def test_rearm_schedule_sets_the_sweep_alarm_to_ok(default):
    assert resolved_input(default[2]) == {
        "AlarmName": ALARM_NAME, "StateValue": "OK", "StateReason": "Periodic re-arm of the ledger sweep"}


def test_rearm_schedule_uses_its_own_role(default):
    _, _, template = default
    assert schedule(template)["Target"]["RoleArn"] == {"Fn::GetAtt": [rearm_role_id(template), "Arn"]}
    assert [k for k in resources_of_type(template, "AWS::IAM::Role") if k.startswith("SchedulerRoleForTarget")] == []


def test_rearm_role_is_assumed_by_scheduler_of_this_account_only(default):
    _, _, template = default
    trust = resources_of_type(template, "AWS::IAM::Role")[rearm_role_id(template)]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [{
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Condition": {"StringEquals": {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": {"Fn::Join": ["", [
                "arn:", {"Ref": "AWS::Partition"}, f":scheduler:{REGION}:{ACCOUNT}:schedule-group/default"]]},
        }},
    }]


def test_rearm_role_may_only_set_the_sweep_alarm_state(default):
    _, _, template = default
    alarm = logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")
    role = rearm_role_id(template)
    [policy] = policies_of_role(template, role)
    assert policy["PolicyDocument"]["Statement"] == [{
        "Sid": "ReArmLedgerSweep", "Action": "cloudwatch:SetAlarmState", "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [alarm, "Arn"]}}]
    assert "ManagedPolicyArns" not in resources_of_type(template, "AWS::IAM::Role")[role]["Properties"]


@pytest.mark.parametrize("interval, expression", [
    (Duration.minutes(5), "rate(5 minutes)"),
    (Duration.minutes(90), "rate(90 minutes)"),
    (Duration.hours(6), "rate(6 hours)"),
    (Duration.days(1), "rate(1 day)"),
])
def test_rearm_interval_override(interval, expression):
    assert schedule(build(ledger_sweep_re_arm_interval=interval)[2])["ScheduleExpression"] == expression


@pytest.mark.parametrize("interval, shown", [
    (Duration.minutes(4), "4 minutes"),
    (Duration.seconds(330), "5.5 minutes"),
    (Duration.minutes(1441), "1441 minutes"),
    (Duration.days(2), "2880 minutes"),
])
def test_rearm_interval_outside_5_minutes_to_1_day_raises(interval, shown):
    message = ("'ledgerSweepReArmInterval' must be a whole number of minutes between 5 and 1440 (1 day), "
               f"got: {shown}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(ledger_sweep_re_arm_interval=interval)


def test_token_rearm_interval_skips_validation():
    stack = new_stack()
    minutes = CfnParameter(stack, "ReArmMinutes", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", ledger_sweep_re_arm_interval=Duration.minutes(minutes))
    assert schedule(template_of(stack))["ScheduleExpression"] == {
        "Fn::Join": ["", ["rate(", {"Ref": "ReArmMinutes"}, " minutes)"]]}


def test_sweep_off_creates_no_rearm_schedule_and_no_role(sweep_off):
    _, pipeline, template = sweep_off
    assert resources_of_type(template, "AWS::Scheduler::Schedule") == {}
    assert find(template, "AWS::IAM::Role", "ProductsLedgerSweepReArm") == []
    assert pipeline.ledger_sweep_schedule is None


def test_own_job_without_ledger_has_no_rearm_schedule():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    assert resources_of_type(template_of(stack), "AWS::Scheduler::Schedule") == {}
    assert pipeline.ledger_sweep_schedule is None


def test_own_job_with_ledger_gets_the_rearm_schedule():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", event_ledger=True,
                                       job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    assert schedule(template_of(stack))["ScheduleExpression"] == "rate(1 hour)"
    assert pipeline.ledger_sweep_schedule is not None

"""Security (cdk-nag, cfn-lint, encryption, acknowledgements) and observability (DLQs, alarms, metrics)."""
import json
import re

import pytest
from aws_cdk import Acknowledgment, App, CfnResource, Duration, Validations
from aws_cdk import Annotations as CoreAnnotations
from aws_cdk.assertions import Annotations, Match
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from cdk_event_driven_glue_workflow import BucketEncryptionMode, EventDrivenGlueWorkflow, EventSource, TableFormat
from cdk_helpers import (
    cfn_lint_errors,
    cfn_lint_findings,
    cloudtrail_put_object_event,
    matches,
    new_stack,
    only_resource,
    pipeline_rule,
    resources_of_type,
    rule_patterns,
    s3_object_created_event,
    template_of,
)

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
BUCKET = "landing-bucket"


def byo_bucket_and_job(stack):
    logs = s3.Bucket(stack, "Logs", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                     encryption=s3.BucketEncryption.S3_MANAGED)
    Validations.of(logs.node.default_child).acknowledge(
        Acknowledgment(id="AwsSolutions-S1", reason="Log destination bucket of the test."))
    bucket = s3.Bucket(stack, "Landing", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                       encryption=s3.BucketEncryption.S3_MANAGED, server_access_logs_bucket=logs)
    bucket.node.default_child.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
        event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True))
    job = glue.Job.from_job_attributes(stack, "ExistingJob", job_name="existing-job")
    return {"bucket": bucket, "job": job}


VARIANTS = {
    "default": lambda stack: {},
    "kms": lambda stack: {"bucket_encryption": BucketEncryptionMode.KMS},
    "cloudtrail": lambda stack: {"event_source": EventSource.cloud_trail()},
    "byo_bucket_and_job": byo_bucket_and_job,
    "iceberg": lambda stack: {"table_format": TableFormat.ICEBERG},
    "kms_iceberg": lambda stack: {"table_format": TableFormat.ICEBERG, "bucket_encryption": BucketEncryptionMode.KMS},
}
#: The construct id of a variant, when not "Products".
CONSTRUCT_IDS = {"iceberg": "Lake", "kms_iceberg": "Lake"}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def nagged(request):
    """Each variant built in an app with cdk-nag's AwsSolutions checks as a validation plugin."""
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = new_stack(app)
    construct_id = CONSTRUCT_IDS.get(request.param, "Products")
    pipeline = EventDrivenGlueWorkflow(stack, construct_id, **VARIANTS[request.param](stack))
    template = template_of(stack)
    return {"name": request.param, "id": construct_id, "app": app, "stack": stack, "pipeline": pipeline,
            "template": template}


@pytest.fixture(scope="module")
def default():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products")
    return stack, pipeline, template_of(stack)


@pytest.fixture(scope="module")
def kms_variant():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", bucket_encryption=BucketEncryptionMode.KMS)
    return stack, pipeline, template_of(stack)


@pytest.fixture(scope="module")
def cloudtrail_variant():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", event_source=EventSource.cloud_trail())
    return stack, pipeline, template_of(stack)


def build(**props):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", **props)
    return stack, pipeline, template_of(stack)


def logical_id(template, cfn_type, prefix):
    found = [k for k in resources_of_type(template, cfn_type) if k.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def arn_of(logical):
    return {"Fn::GetAtt": [logical, "Arn"]}


# ---- cdk-nag, acknowledgements, cfn-lint ------------------------------------------

def test_cdk_nag_reports_no_error(nagged):
    assert nagged["app"].synth().directory


def test_cdk_nag_plugin_fails_synth_on_a_finding():
    """Control: the plugin set-up above really fails synth when a finding is left."""
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    s3.Bucket(new_stack(app), "Bare")
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()


@pytest.mark.parametrize("resource", ["*", "prefix"])
def test_an_acknowledgement_silences_only_the_statement_it_was_written_for(resource):
    """Negative control: a wildcard statement added to the job's role is reported, even where the
    job's own statements have the same wildcard (Resource::* of PutMetricData, the output prefix)."""
    from aws_cdk import aws_iam as iam

    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = new_stack(app)
    pipeline = EventDrivenGlueWorkflow(stack, "Products")
    arn = "*" if resource == "*" else pipeline.bucket.arn_for_objects("parquet/*")
    pipeline.conversion_job.role.add_to_principal_policy(iam.PolicyStatement(
        actions=["glue:DeleteDatabase", "s3:DeleteObject"], resources=[arn]))
    expected = r"Resource::\*" if resource == "*" else r"Resource::<ProductsBucket[0-9A-F]+\.Arn>/parquet/\*"
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[" + expected + r"\]"):
        app.synth()


def library_acknowledgements(stack):
    found = []
    for node in stack.node.find_all():
        for entry in node.node.metadata:
            if entry.type == ACKNOWLEDGED:
                for rule_id, reason in entry.data.items():
                    if "AwsSolutions-" in rule_id:
                        found.append((node, rule_id, reason))
    return found


def test_acknowledgements_sit_on_cfn_resources(nagged):
    found = library_acknowledgements(nagged["stack"])
    assert found
    for node, rule_id, _ in found:
        assert CfnResource.is_cfn_resource(node), (node.node.path, rule_id)


def test_acknowledgements_have_reasons(nagged):
    for node, rule_id, reason in library_acknowledgements(nagged["stack"]):
        assert isinstance(reason, str) and reason.strip(), (node.node.path, rule_id)


def test_cfn_lint_reports_no_error(nagged):
    assert cfn_lint_errors(nagged["template"]) == []


def test_cfn_lint_reports_no_warning_on_the_constructs_resources(nagged):
    """Only the construct's resources (logical IDs `Products...`, `Lake...`): the bring-your-own variant's buckets
    are the test's own, built with the legacy log-delivery ACL of an app without feature flags."""
    findings = cfn_lint_findings(nagged["template"], ("E", "W"))
    assert [f for f in findings if f"(Resources/{nagged['id']}" in f] == []


def test_nag_and_lint_iceberg_variants_include_the_optimizer_role(nagged):
    """cdk-nag and cfn-lint above see the optimizer role and its policy in the Iceberg variants, and the
    optimizer role's KMS statement in the KMS one."""
    template = nagged["template"]
    is_iceberg = "iceberg" in nagged["name"]
    roles = [k for k in resources_of_type(template, "AWS::IAM::Role") if "IcebergOptimizerRole" in k]
    policies = [p for k, p in resources_of_type(template, "AWS::IAM::Policy").items() if "IcebergOptimizerRole" in k]
    assert len(roles) == is_iceberg
    assert len(policies) == is_iceberg
    if is_iceberg:
        sids = [s["Sid"] for s in policies[0]["Properties"]["PolicyDocument"]["Statement"]]
        assert ("UseTableDataKey" in sids) == (nagged["name"] == "kms_iceberg")


def test_nag_and_lint_variants_with_a_ledger_include_the_sweep(nagged):
    """cdk-nag and cfn-lint above see the sweep alarm, rule, re-arm schedule and its role wherever the ledger exists."""
    template = nagged["template"]
    has_ledger = nagged["name"] != "byo_bucket_and_job"
    assert len([k for k in resources_of_type(template, "AWS::CloudWatch::Alarm") if "LedgerSweepAlarm" in k]) == has_ledger
    assert len([k for k in resources_of_type(template, "AWS::Events::Rule") if "LedgerSweepRule" in k]) == has_ledger
    assert len([k for k in resources_of_type(template, "AWS::Scheduler::Schedule") if "LedgerSweepReArm" in k]) == has_ledger
    assert len([k for k in resources_of_type(template, "AWS::IAM::Role") if "LedgerSweepReArmRole" in k]) == has_ledger


# ---- bucket ---------------------------------------------------------------------------

def test_access_logs_go_to_the_access_logs_bucket(default):
    _, _, template = default
    logs = logical_id(template, "AWS::S3::Bucket", "ProductsAccessLogsBucket")
    template.has_resource_properties("AWS::S3::Bucket", {
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": logs}, "LogFilePrefix": "data-bucket/"},
    })


def test_no_server_access_logs_gives_no_log_bucket():
    _, pipeline, template = build(server_access_logs=False)
    template.resource_count_is("AWS::S3::Bucket", 1)
    assert pipeline.access_logs_bucket is None
    assert "LoggingConfiguration" not in only_resource(template, "AWS::S3::Bucket")[1]["Properties"]


def test_versioning_off_by_default(default):
    _, _, template = default
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    assert "VersioningConfiguration" not in resources_of_type(template, "AWS::S3::Bucket")[bucket]["Properties"]


def test_versioned_true_turns_versioning_on():
    _, _, template = build(versioned=True)
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    assert resources_of_type(template, "AWS::S3::Bucket")[bucket]["Properties"]["VersioningConfiguration"] == {
        "Status": "Enabled"}


def test_kms_bucket_uses_the_construct_key(kms_variant):
    _, _, template = kms_variant
    key = only_resource(template, "AWS::KMS::Key")[0]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    encryption = resources_of_type(template, "AWS::S3::Bucket")[bucket]["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of(key)}


def test_construct_key_has_rotation(kms_variant):
    _, _, template = kms_variant
    assert only_resource(template, "AWS::KMS::Key")[1]["Properties"]["EnableKeyRotation"] is True


def test_security_configuration_defaults(default):
    _, _, template = default
    key = only_resource(template, "AWS::KMS::Key")[0]
    config = only_resource(template, "AWS::Glue::SecurityConfiguration")[1]["Properties"]["EncryptionConfiguration"]
    assert config["CloudWatchEncryption"] == {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": arn_of(key)}
    assert config["JobBookmarksEncryption"] == {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": arn_of(key)}
    assert config["S3Encryptions"] == [{"S3EncryptionMode": "SSE-S3"}]


def test_security_configuration_s3_kms_with_kms_bucket(kms_variant):
    _, _, template = kms_variant
    key = only_resource(template, "AWS::KMS::Key")[0]
    config = only_resource(template, "AWS::Glue::SecurityConfiguration")[1]["Properties"]["EncryptionConfiguration"]
    assert config["S3Encryptions"] == [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": arn_of(key)}]


def test_user_encryption_key_is_used_and_none_created():
    stack = new_stack()
    key = kms.Key(stack, "MyKey", enable_key_rotation=True)
    pipeline = EventDrivenGlueWorkflow(stack, "Products", encryption_key=key)
    template = template_of(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    my_key = logical_id(template, "AWS::KMS::Key", "MyKey")
    config = only_resource(template, "AWS::Glue::SecurityConfiguration")[1]["Properties"]["EncryptionConfiguration"]
    assert config["CloudWatchEncryption"]["KmsKeyArn"] == arn_of(my_key)
    assert pipeline.encryption_key is key


def test_a_key_of_the_app_gets_the_logs_statement_and_no_warning():
    stack = new_stack()
    key = kms.Key(stack, "MyKey", enable_key_rotation=True)
    EventDrivenGlueWorkflow(stack, "Products", encryption_key=key)
    statements = resources_of_type(template_of(stack), "AWS::KMS::Key")[logical_id(
        template_of(stack), "AWS::KMS::Key", "MyKey")]["Properties"]["KeyPolicy"]["Statement"]
    assert [s["Principal"] for s in statements if "kms:EncryptionContext:aws:logs:arn" in json.dumps(s)] == [
        {"Service": "logs.eu-west-1.amazonaws.com"}]
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("importedKeyNeedsLogsStatement"))


def test_an_imported_key_gets_a_warning_with_the_statement_to_add():
    stack = new_stack()
    key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    pipeline = EventDrivenGlueWorkflow(stack, "Products", encryption_key=key)
    statement = ('{"Effect":"Allow","Principal":{"Service":"logs.eu-west-1.amazonaws.com"},"Action":["kms:Encrypt",'
                 '"kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":'
                 '{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:eu-west-1:123456789012:log-group:'
                 '/aws-glue/*"}}}')
    Annotations.from_stack(stack).has_warning("/Test/Products", Match.string_like_regexp(
        r"The 'encryptionKey' is imported.*Add this statement to the key policy: " + re.escape(statement)))
    CoreAnnotations.of(pipeline).acknowledge_warning("cdk-event-driven-glue-workflow:importedKeyNeedsLogsStatement")
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("importedKeyNeedsLogsStatement"))


# ---- rule targets' DLQ ----------------------------------------------------------------

def test_both_targets_dead_letter_to_the_dlq_with_default_retry(default):
    _, _, template = default
    dlq = logical_id(template, "AWS::SQS::Queue", "ProductsDeadLetterQueue")
    rule_targets = pipeline_rule(template)[1]["Properties"]["Targets"]
    assert len(rule_targets) == 2
    for target in rule_targets:
        assert target["DeadLetterConfig"] == {"Arn": arn_of(dlq)}
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def test_retry_overrides():
    _, _, template = build(event_retry_attempts=3, event_max_age=Duration.hours(2))
    for target in pipeline_rule(template)[1]["Properties"]["Targets"]:
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}


# ---- alarms ---------------------------------------------------------------------------

def alarm(template, prefix):
    return resources_of_type(template, "AWS::CloudWatch::Alarm")[logical_id(template, "AWS::CloudWatch::Alarm", prefix)][
        "Properties"]


def test_six_alarms_by_default(default):
    _, pipeline, template = default
    paging = [k for k in resources_of_type(template, "AWS::CloudWatch::Alarm") if not k.startswith("ProductsLedgerSweep")]
    assert len(paging) == 6
    assert len(pipeline.alarms) == 6


def test_failed_invocations_alarm(default):
    _, _, template = default
    rule = pipeline_rule(template)[0]
    props = alarm(template, "ProductsFailedInvocationsAlarm")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Events", "FailedInvocations", "Sum")
    assert props["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule}}]
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("alarm_prefix, queue_prefix", [
    ("ProductsDeadLetterAlarm", "ProductsDeadLetterQueue"),
    ("ProductsLedgerDeadLetterAlarm", "ProductsLedgerDeadLetterQueue"),
])
def test_dead_letter_alarms(default, alarm_prefix, queue_prefix):
    _, _, template = default
    queue = logical_id(template, "AWS::SQS::Queue", queue_prefix)
    props = alarm(template, alarm_prefix)
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_ledger_stuck_alarm_default_threshold(default):
    _, _, template = default
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    props = alarm(template, "ProductsLedgerStuckAlarm")
    assert props["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [ledger, "QueueName"]}}]
    assert props["Threshold"] == 900 + 3600


def test_ledger_stuck_alarm_threshold_follows_overrides():
    _, _, template = build(batch_window=Duration.seconds(60), job_timeout=Duration.minutes(30))
    assert alarm(template, "ProductsLedgerStuckAlarm")["Threshold"] == 60 + 1800


def test_job_failure_alarm_counts_the_job_failure_rule(default):
    _, _, template = default
    rule = logical_id(template, "AWS::Events::Rule", "ProductsJobFailureRule")
    props = alarm(template, "ProductsJobFailureAlarm")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Events", "TriggeredRules", "Sum")
    assert props["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule}}]


def test_job_failure_rule_pattern(default):
    _, _, template = default
    job = only_resource(template, "AWS::Glue::Job")[0]
    rule = resources_of_type(template, "AWS::Events::Rule")[logical_id(template, "AWS::Events::Rule", "ProductsJobFailureRule")]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [{"Ref": job}], "state": ["FAILED", "TIMEOUT", "ERROR"]},
    }


def test_alarm_topic_is_every_alarm_action():
    stack = new_stack()
    topic = sns.Topic(stack, "Alerts")
    EventDrivenGlueWorkflow(stack, "Products", alarm_topic=topic)
    template = template_of(stack)
    topic_id = only_resource(template, "AWS::SNS::Topic")[0]
    alarms = {k: v for k, v in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
              if not k.startswith("ProductsLedgerSweep")}
    assert len(alarms) == 6
    for props in alarms.values():
        assert props["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_no_alarm_actions_by_default(default):
    _, _, template = default
    for props in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in props["Properties"]


def test_alarms_false_creates_no_alarms_but_keeps_the_sweep():
    _, pipeline, template = build(alarms=False)
    assert list(resources_of_type(template, "AWS::CloudWatch::Alarm")) == [
        logical_id(template, "AWS::CloudWatch::Alarm", "ProductsLedgerSweepAlarm")]
    assert pipeline.alarms == []
    assert pipeline.ledger_sweep_alarm is not None


@pytest.mark.parametrize("method, namespace, name, statistic", [
    ("metric_failed_invocations", "AWS/Events", "FailedInvocations", "Sum"),
    ("metric_dead_letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
    ("metric_ledger_dead_letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
    ("metric_ledger_oldest_message_age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum"),
    ("metric_job_failures", "AWS/Events", "TriggeredRules", "Sum"),
])
def test_metric_helpers(default, method, namespace, name, statistic):
    _, pipeline, _ = default
    metric = getattr(pipeline, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (namespace, name, statistic)
    assert metric.period.to_seconds() == 300


def test_ledger_metric_without_ledger_raises():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    message = "metricLedgerDeadLetters() needs the event ledger; it is off for this pipeline (eventLedger: false)"
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pipeline.metric_ledger_dead_letters()


def test_on_job_failure_adds_a_rule_with_the_target():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", alarms=False)
    queue = sqs.Queue(stack, "Hooks")
    pipeline.on_job_failure("Hook", target=targets.SqsQueue(queue))
    template = template_of(stack)
    job = only_resource(template, "AWS::Glue::Job")[0]
    hook = resources_of_type(template, "AWS::Events::Rule")[logical_id(template, "AWS::Events::Rule", "ProductsHook")]
    assert hook["Properties"]["EventPattern"]["detail"] == {"jobName": [{"Ref": job}], "state": ["FAILED", "TIMEOUT", "ERROR"]}
    assert len(hook["Properties"]["Targets"]) == 1
    assert hook["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [logical_id(template, "AWS::SQS::Queue", "Hooks"), "Arn"]}


# ---- CloudTrail source ------------------------------------------------------------------

def test_cloudtrail_trail_logs_write_data_events_under_input_prefix(cloudtrail_variant):
    _, pipeline, template = cloudtrail_variant
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    trail = only_resource(template, "AWS::CloudTrail::Trail")[1]["Properties"]
    assert trail["EventSelectors"] == [{
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": [{"Fn::Join": ["", [arn_of(bucket), "/incoming/"]]}]}],
        "IncludeManagementEvents": False,
        "ReadWriteType": "WriteOnly",
    }]
    assert pipeline.trail is not None


def test_cloudtrail_rule_pattern(cloudtrail_variant):
    _, _, template = cloudtrail_variant
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    pattern = pipeline_rule(template)[1]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventName"] == ["PutObject", "CompleteMultipartUpload", "CopyObject"]
    assert pattern["detail"]["errorCode"] == [{"exists": False}]
    assert pattern["detail"]["requestParameters"] == {"bucketName": [{"Ref": bucket}], "key": [{"prefix": "incoming/"}]}


def s3_rule_pattern(template):
    bucket_ids = list(resources_of_type(template, "AWS::S3::Bucket"))
    patterns = [p for p in rule_patterns(template, {b: BUCKET for b in bucket_ids}) if p.get("source") == ["aws.s3"]]
    assert len(patterns) == 1
    return patterns[0]


@pytest.mark.parametrize("event_name", ["PutObject", "CompleteMultipartUpload", "CopyObject"])
def test_cloudtrail_pattern_matches_object_creating_calls(cloudtrail_variant, event_name):
    pattern = s3_rule_pattern(cloudtrail_variant[2])
    assert matches(pattern, cloudtrail_put_object_event(BUCKET, "incoming/a.json", event_name))


@pytest.mark.parametrize("bucket, key, event_name", [
    (BUCKET, "incoming/a.json", "GetObject"),
    (BUCKET, "incoming/a.json", "DeleteObject"),
    (BUCKET, "other/a.json", "PutObject"),
    ("other-bucket", "incoming/a.json", "PutObject"),
])
def test_cloudtrail_pattern_rejects_other_calls(cloudtrail_variant, bucket, key, event_name):
    pattern = s3_rule_pattern(cloudtrail_variant[2])
    assert not matches(pattern, cloudtrail_put_object_event(bucket, key, event_name))


def test_cloudtrail_pattern_ignores_a_refused_call(cloudtrail_variant):
    pattern = s3_rule_pattern(cloudtrail_variant[2])
    assert not matches(pattern, cloudtrail_put_object_event(BUCKET, "incoming/a.json", error_code="AccessDenied"))
    assert matches(pattern, cloudtrail_put_object_event(BUCKET, "incoming/a.json"))


def test_cloudtrail_pattern_rejects_s3_eventbridge_event(cloudtrail_variant):
    pattern = s3_rule_pattern(cloudtrail_variant[2])
    assert not matches(pattern, s3_object_created_event(BUCKET, "incoming/a.json"))


def test_eventbridge_pattern_rejects_cloudtrail_event(default):
    pattern = s3_rule_pattern(default[2])
    assert matches(pattern, s3_object_created_event(BUCKET, "incoming/a.json"))
    assert not matches(pattern, cloudtrail_put_object_event(BUCKET, "incoming/a.json"))


def test_cloudtrail_bucket_has_no_eventbridge_notification(cloudtrail_variant):
    _, _, template = cloudtrail_variant
    for props in resources_of_type(template, "AWS::S3::Bucket").values():
        assert "NotificationConfiguration" not in props["Properties"]


def test_user_trail_is_used_and_no_second_created():
    stack = new_stack()
    trail_bucket = s3.Bucket(stack, "TrailBucket")
    trail = cloudtrail.Trail(stack, "MyTrail", bucket=trail_bucket)
    pipeline = EventDrivenGlueWorkflow(stack, "Products", event_source=EventSource.cloud_trail(trail=trail))
    template = template_of(stack)
    template.resource_count_is("AWS::CloudTrail::Trail", 1)
    trail_id = only_resource(template, "AWS::CloudTrail::Trail")[0]
    assert trail_id.startswith("MyTrail")
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    selectors = only_resource(template, "AWS::CloudTrail::Trail")[1]["Properties"]["EventSelectors"]
    assert {"Type": "AWS::S3::Object", "Values": [{"Fn::Join": ["", [arn_of(bucket), "/incoming/"]]}]} in [
        r for s in selectors for r in s["DataResources"]]
    assert pipeline.trail is trail

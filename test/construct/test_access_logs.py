"""Server access log delivery uses a bucket policy, not the legacy LogDeliveryWrite ACL, whether or not the
app sets @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy (a user's cdk.json may have no feature flags)."""
import pytest
from aws_cdk import App
from aws_cdk import aws_s3 as s3

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, EventSource
from cdk_helpers import cfn_lint_findings, new_stack, resources_of_type, template_of

FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
FLAGS = {"flag-off": {FLAG: False}, "flag-on": {FLAG: True}, "no-flags": {}}
VARIANTS = {"default": {}, "cloudtrail": {"event_source": EventSource.cloud_trail()}}


def build(context, props):
    stack = new_stack(App(context=context))
    EventDrivenGlueWorkflow(stack, "Products", **props)
    return template_of(stack)


@pytest.fixture(scope="module", params=[(f, v) for f in sorted(FLAGS) for v in sorted(VARIANTS)],
                ids=lambda p: f"{p[1]}-{p[0]}")
def synthesized(request):
    flags, variant = request.param
    return variant, build(FLAGS[flags], VARIANTS[variant])


def bucket_id(template, prefix):
    found = [k for k in resources_of_type(template, "AWS::S3::Bucket") if k.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def test_cfn_lint_reports_no_error_and_no_warning(synthesized):
    _, template = synthesized
    assert cfn_lint_findings(template, ("E", "W")) == []


def test_cfn_lint_helper_reports_the_legacy_acl_warning():
    """Control: the helper does return W3045 for a bucket with the legacy log-delivery ACL."""
    stack = new_stack(App(context={FLAG: False}))
    logs = s3.Bucket(stack, "Logs")
    s3.Bucket(stack, "Data", server_access_logs_bucket=logs)
    assert [f for f in cfn_lint_findings(template_of(stack)) if f.startswith("W3045")]


def test_no_bucket_uses_an_acl_or_object_writer_ownership(synthesized):
    _, template = synthesized
    for props in resources_of_type(template, "AWS::S3::Bucket").values():
        assert "AccessControl" not in props["Properties"]
        assert "OwnershipControls" not in props["Properties"]


def log_delivery_statements(template):
    logs = bucket_id(template, "ProductsAccessLogsBucket")
    policies = [p["Properties"] for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": logs}]
    assert len(policies) == 1
    return logs, [s for s in policies[0]["PolicyDocument"]["Statement"]
                  if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]


def expected_statement(logs, source, prefix):
    return {
        "Action": "s3:PutObject",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [logs, "Arn"]}, f"/{prefix}*"]]},
        "Condition": {
            "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [source, "Arn"]}},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        },
    }


def test_log_bucket_policy_lets_s3_logging_write_for_each_source_bucket(synthesized):
    variant, template = synthesized
    logs, statements = log_delivery_statements(template)
    expected = [expected_statement(logs, bucket_id(template, "ProductsBucket"), "data-bucket/")]
    if variant == "cloudtrail":
        expected.append(expected_statement(logs, bucket_id(template, "ProductsTrailBucket"), "trail-bucket/"))
    assert statements == expected


def test_the_flag_stays_off_outside_the_construct():
    stack = new_stack(App(context={FLAG: False}))
    EventDrivenGlueWorkflow(stack, "Products")
    logs = s3.Bucket(stack, "MyLogs")
    s3.Bucket(stack, "MyData", server_access_logs_bucket=logs)
    template = template_of(stack)
    assert resources_of_type(template, "AWS::S3::Bucket")[bucket_id(template, "MyLogs")]["Properties"][
        "AccessControl"] == "LogDeliveryWrite"

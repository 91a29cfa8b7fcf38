"""Pipelines that share a bucket never share state, and a bucket you bring can notify.

* Each default job keeps its exactly-once state, rejected records and statistics in a folder
  of its own (its table name); two pipelines whose locations overlap in one bucket are a
  synth error naming both. Overlapping input prefixes are allowed.
* A pipeline alone on its bucket with the default layout also reads the state root of
  earlier releases (``--legacy_state_path``); two such pipelines shared it, so neither does.
* A ``Bucket`` of the app gets its EventBridge notifications turned on; an imported bucket
  gets a synth warning that names the setting, which the user can acknowledge.
"""
import re

import pytest
from aws_cdk import Annotations as CoreAnnotations
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, EventSource, ParquetConversionJob
from cdk_helpers import cfn_lint_errors, new_stack, resources_of_type, template_of

WARNING = "cdk-event-driven-glue-workflow:importedBucketNeedsEventBridge"


def job_arguments(template):
    return {k: r["Properties"]["DefaultArguments"] for k, r in resources_of_type(template, "AWS::Glue::Job").items()}


def suffix(value):
    """The key part of an ``s3://<bucket>/<key>`` argument as the template renders it."""
    return value["Fn::Join"][1][-1]


def test_two_pipelines_keep_state_rejected_and_stats_apart():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Customers", bucket=bucket, input_prefix="landing/customers/",
                            output_prefix="tables/customers/")
    EventDrivenGlueWorkflow(stack, "Orders", bucket=bucket, input_prefix="landing/orders/",
                            output_prefix="tables/orders/")
    template = template_of(stack)
    args = {k.split("ConversionJob")[0]: v for k, v in job_arguments(template).items()}
    assert {name: [suffix(a[f"--{p}_path"]) for p in ("state", "rejected", "stats", "output")]
            for name, a in args.items()} == {
        "Customers": ["/_pipeline/customers/", "/rejected/customers/", "/stats/customers/", "/tables/customers/"],
        "Orders": ["/_pipeline/orders/", "/rejected/orders/", "/stats/orders/", "/tables/orders/"],
    }
    assert cfn_lint_errors(template) == []


def test_two_pipelines_on_one_bucket_read_no_legacy_state():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Customers", bucket=bucket, input_prefix="in/customers/", output_prefix="t/c/")
    EventDrivenGlueWorkflow(stack, "Orders", bucket=bucket, input_prefix="in/orders/", output_prefix="t/o/")
    template = template_of(stack)
    assert [a for a in job_arguments(template).values() if "--legacy_state_path" in a] == []
    statements = [s for p in resources_of_type(template, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert [s for s in statements if s.get("Sid") == "RepairLegacyState"] == []


def test_a_lone_pipeline_with_its_own_state_prefix_reads_no_legacy_state():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", state_prefix="state/")
    (args,) = job_arguments(template_of(stack)).values()
    assert suffix(args["--state_path"]) == "/state/" and "--legacy_state_path" not in args


def test_the_default_output_of_two_pipelines_in_one_bucket_is_a_synth_error_naming_both():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Customers", bucket=bucket, input_prefix="landing/customers/")
    with pytest.raises(RuntimeError, match=re.escape(
            "'outputPrefix' (\"parquet/\") of Test/Orders/ConversionJob and 'outputPrefix' (\"parquet/\") of "
            "Test/Customers/ConversionJob overlap in the same bucket: each pipeline's output, rejected records, "
            "statistics and exactly-once state must be its own")):
        EventDrivenGlueWorkflow(stack, "Orders", bucket=bucket, input_prefix="landing/orders/")


@pytest.mark.parametrize("prop,first,second", [
    ("state_prefix", "state/", "state/orders/"),
    ("rejected_prefix", "bad/", "bad/"),
    ("stats_prefix", "stats/", "stats/"),
])
def test_overlapping_locations_in_one_bucket_are_a_synth_error(prop, first, second):
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), prop)
    EventDrivenGlueWorkflow(stack, "Customers", bucket=bucket, input_prefix="in/c/", output_prefix="t/c/",
                            **{prop: first})
    with pytest.raises(RuntimeError, match=re.escape(f"'{camel}' (\"{second}\") of Test/Orders/ConversionJob and "
                                                     f"'{camel}' (\"{first}\") of Test/Customers/ConversionJob overlap")):
        EventDrivenGlueWorkflow(stack, "Orders", bucket=bucket, input_prefix="in/o/", output_prefix="t/o/",
                                **{prop: second})


def test_a_location_inside_another_pipelines_input_is_a_synth_error():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Raw", bucket=bucket, input_prefix="landing/", output_prefix="tables/raw/")
    with pytest.raises(RuntimeError, match=re.escape(
            "'outputPrefix' (\"landing/curated/\") of Test/Curated/ConversionJob overlaps the 'inputPrefix' "
            "(\"landing/\") of Test/Raw/ConversionJob in the same bucket: that pipeline would ingest this one's "
            "own writes")):
        EventDrivenGlueWorkflow(stack, "Curated", bucket=bucket, input_prefix="other/",
                                output_prefix="landing/curated/")


def test_overlapping_input_prefixes_are_allowed():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Everything", bucket=bucket, input_prefix="landing/", output_prefix="t/all/")
    EventDrivenGlueWorkflow(stack, "Orders", bucket=bucket, input_prefix="landing/orders/", output_prefix="t/orders/")
    assert len(job_arguments(template_of(stack))) == 2


def test_an_imported_bucket_named_twice_is_one_bucket():
    stack = new_stack()
    first = s3.Bucket.from_bucket_name(stack, "First", "shared-landing")
    second = s3.Bucket.from_bucket_name(stack, "Second", "shared-landing")
    EventDrivenGlueWorkflow(stack, "Customers", bucket=first, input_prefix="in/c/")
    with pytest.raises(RuntimeError, match="overlap in the same bucket"):
        EventDrivenGlueWorkflow(stack, "Orders", bucket=second, input_prefix="in/o/")


def test_pipelines_in_different_buckets_may_use_the_same_prefixes():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Customers")
    EventDrivenGlueWorkflow(stack, "Orders")
    assert len(job_arguments(template_of(stack))) == 2


def test_a_standalone_job_is_checked_too():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    ParquetConversionJob(stack, "First", bucket=bucket, input_prefix="in/a/", table_name="events")
    with pytest.raises(RuntimeError, match=re.escape("'rejectedPrefix' (\"rejected/events/\") of Test/Second and "
                                                     "'rejectedPrefix' (\"rejected/events/\") of Test/First overlap")):
        ParquetConversionJob(stack, "Second", bucket=bucket, input_prefix="in/b/", table_name="events",
                             output_prefix="out/b/")


# --- a bucket you bring ------------------------------------------------------------------

def test_a_bucket_of_the_app_gets_eventbridge_notifications_on_the_resource():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Products", bucket=bucket)
    template = template_of(stack)
    template.has_resource_properties("AWS::S3::Bucket", {
        "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}})
    assert resources_of_type(template, "Custom::S3BucketNotifications") == {}  # no custom-resource Lambda
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("importedBucketNeedsEventBridge"))


def test_a_bucket_whose_notifications_cdk_manages_gets_eventbridge_through_them_too():
    """CDK's notifications custom resource replaces the whole configuration on deploy: the
    EventBridge setting must be in it, also when the notification is added after the pipeline."""
    stack = new_stack()
    bucket = s3.Bucket(stack, "Landing")
    EventDrivenGlueWorkflow(stack, "Products", bucket=bucket)
    from aws_cdk import aws_s3_notifications as notifications
    from aws_cdk import aws_sns as sns
    bucket.add_object_removed_notification(notifications.SnsDestination(sns.Topic(stack, "Removed")))
    template = template_of(stack)
    template.has_resource_properties("Custom::S3BucketNotifications", {
        "NotificationConfiguration": Match.object_like({"EventBridgeConfiguration": {}})})


def test_an_imported_bucket_gets_a_warning_naming_the_setting():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", bucket=s3.Bucket.from_bucket_name(stack, "Raw", "raw-landing"))
    Annotations.from_stack(stack).has_warning("/Test/Products", Match.string_like_regexp(
        r"The bucket \"raw-landing\" is imported, so the construct cannot turn on its EventBridge notifications.*"
        r"Turn on \"Amazon EventBridge\" in the bucket's Properties > Event notifications.*"
        r"EventSource\.cloudTrail\(\).*acknowledgeWarning\('cdk-event-driven-glue-workflow:importedBucketNeedsEventBridge'\)"))


def test_the_imported_bucket_warning_can_be_acknowledged():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products",
                                       bucket=s3.Bucket.from_bucket_name(stack, "Raw", "raw-landing"))
    CoreAnnotations.of(pipeline).acknowledge_warning(WARNING)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("is imported"))


def test_an_imported_bucket_with_cloudtrail_events_needs_no_notifications():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", bucket=s3.Bucket.from_bucket_name(stack, "Raw", "raw-landing"),
                            event_source=EventSource.cloud_trail())
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("is imported"))

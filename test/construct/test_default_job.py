"""The default Parquet conversion job, construct side: job, arguments, role, ledger, catalog."""
import json
import os
import re
import tarfile

import pytest
from aws_cdk import App, CfnParameter, Duration, Size
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from cdk_event_driven_glue_workflow import (
    EventDrivenGlueWorkflow,
    InputFormat,
    ParquetConversionJob,
)
from cdk_helpers import new_stack, only_resource, pipeline_rule, resources_of_type, template_of


def bucket_join(bucket_id, suffix):
    return {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, suffix]]}


def arn_join(bucket_id, suffix):
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, suffix]]}


@pytest.fixture(scope="module")
def default():
    """One synthesized default pipeline, shared by the tests that only read it."""
    app = App()
    stack = new_stack(app)
    pipeline = EventDrivenGlueWorkflow(stack, "Products")
    template = template_of(stack)
    assembly = app.synth()
    return {"app": app, "stack": stack, "pipeline": pipeline, "template": template, "assembly": assembly}


def logical_id(template, cfn_type, contains):
    found = [k for k in resources_of_type(template, cfn_type) if contains in k]
    assert len(found) == 1, found
    return found[0]


def job_props(template):
    return only_resource(template, "AWS::Glue::Job")[1]["Properties"]


def job_role_statements(template, role="ConversionJobRole"):
    policies = [p for k, p in resources_of_type(template, "AWS::IAM::Policy").items() if role in k]
    assert len(policies) == 1
    return policies[0]["Properties"]["PolicyDocument"]["Statement"]


def statement(template, sid):
    found = [s for s in job_role_statements(template) if s.get("Sid") == sid]
    assert len(found) == 1, sid
    return found[0]


def synth_props(**props):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", **props)
    return stack, pipeline, template_of(stack)


# ---- the job resource ---------------------------------------------------------

def test_default_job_is_glue_5_glueetl(default):
    props = job_props(default["template"])
    assert props["GlueVersion"] == "5.1"
    assert props["Command"]["Name"] == "glueetl"


def test_script_location_is_an_s3_asset_url(default):
    location = job_props(default["template"])["Command"]["ScriptLocation"]
    assert re.fullmatch(r"s3://cdk-[a-z0-9]+-assets-123456789012-eu-west-1/[0-9a-f]{64}\.py", location)


def test_script_asset_is_in_the_cloud_assembly(default):
    location = job_props(default["template"])["Command"]["ScriptLocation"]
    object_key = location.rsplit("/", 1)[1]
    directory = default["assembly"].directory
    manifest = json.load(open(os.path.join(directory, "Test.assets.json")))
    sources = [f["source"]["path"] for f in manifest["files"].values()
               if any(d["objectKey"] == object_key for d in f["destinations"].values())]
    assert len(sources) == 1
    path = os.path.join(directory, sources[0])
    assert os.path.isfile(path)
    assert "glue_ingest" in open(path).read()


def shipped_asset(name):
    """A file of assets/glue/ as shipped inside the wheel's jsii tarball."""
    import cdk_event_driven_glue_workflow._jsii as jsii_dir
    directory = os.path.dirname(jsii_dir.__file__)
    tarballs = [f for f in os.listdir(directory) if f.endswith(".tgz")]
    assert len(tarballs) == 1
    with tarfile.open(os.path.join(directory, tarballs[0])) as tar:
        return tar.extractfile(f"package/assets/glue/{name}").read().decode()


def staged_asset(default, url):
    return open(os.path.join(default["assembly"].directory, "asset." + url.rsplit("/", 1)[1])).read()


def test_script_asset_is_the_shipped_parquet_conversion_job_file(default):
    location = job_props(default["template"])["Command"]["ScriptLocation"]
    assert staged_asset(default, location) == shipped_asset("parquet_conversion_job.py")


def shipped_package():
    """The job package's files as shipped inside the wheel's jsii tarball: {relative path: text}."""
    import cdk_event_driven_glue_workflow._jsii as jsii_dir
    directory = os.path.dirname(jsii_dir.__file__)
    [tarball] = [f for f in os.listdir(directory) if f.endswith(".tgz")]
    prefix = "package/assets/glue/python/"
    with tarfile.open(os.path.join(directory, tarball)) as tar:
        return {m.name[len(prefix):]: tar.extractfile(m).read().decode()
                for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()}


def test_extra_py_files_is_one_zip_asset(default):
    extra = job_props(default["template"])["DefaultArguments"]["--extra-py-files"].split(",")
    assert len(extra) == 1
    assert re.fullmatch(r"s3://cdk-[a-z0-9]+-assets-123456789012-eu-west-1/[0-9a-f]{64}\.zip", extra[0])


def test_zip_asset_root_holds_the_shipped_job_package(default):
    [url] = job_props(default["template"])["DefaultArguments"]["--extra-py-files"].split(",")
    directory = default["assembly"].directory
    manifest = json.load(open(os.path.join(directory, "Test.assets.json")))
    [asset] = [f for f in manifest["files"].values()
               if any(d["objectKey"] == url.rsplit("/", 1)[1] for d in f["destinations"].values())]
    assert asset["source"]["packaging"] == "zip"
    folder = os.path.join(directory, asset["source"]["path"])
    staged = {os.path.relpath(os.path.join(d, f), folder): open(os.path.join(d, f)).read()
              for d, _, files in os.walk(folder) for f in files}
    assert "glue_ingest/run.py" in staged
    assert staged == shipped_package()


def test_script_imports_the_package_and_is_thin(default):
    location = job_props(default["template"])["Command"]["ScriptLocation"]
    script = staged_asset(default, location)
    assert "from glue_ingest.run import main" in script
    assert len(script.splitlines()) <= 80


def test_default_arguments(default):
    template = default["template"]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    database = only_resource(template, "AWS::Glue::Database")[0]
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    ledger_dlq = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerDeadLetterQueue")
    template.has_resource_properties("AWS::Glue::Job", {"DefaultArguments": Match.object_like({
        "--input_format": "AUTO",
        "--output_path": bucket_join(bucket, "/parquet/"),
        "--rejected_path": bucket_join(bucket, "/rejected/products/"),
        "--stats_path": bucket_join(bucket, "/stats/products/"),
        "--state_path": bucket_join(bucket, "/_pipeline/products/"),
        "--legacy_state_path": bucket_join(bucket, "/_pipeline/"),
        "--database_name": {"Ref": database},
        "--table_name": "products",
        "--partition_columns": "ingest_date",
        "--max_files_per_run": "1000",
        "--target_file_size_mb": "128",
        "--ledger_queue_url": {"Ref": ledger},
        "--visibility_timeout_seconds": "600",
        "--metrics_namespace": "EventDrivenGlueWorkflow",
        "--ledger_dlq_url": {"Ref": ledger_dlq},
        "--ledger_max_age_seconds": "604800",
        "--drain_time_budget_seconds": "1800",
        "--enable-auto-scaling": "true",
    })})


def test_job_does_not_use_the_glue_catalog_as_spark_metastore(default):
    # the job maintains its table through boto3; a Spark metastore client would need wider catalog access
    assert "--enable-glue-datacatalog" not in job_props(default["template"])["DefaultArguments"]


def test_default_capacity_and_limits(default):
    props = job_props(default["template"])
    assert props["WorkerType"] == "G.1X"
    assert props["NumberOfWorkers"] == 2
    assert props["Timeout"] == 60
    assert props["MaxRetries"] == 1
    assert props["ExecutionProperty"] == {"MaxConcurrentRuns": 1}


def test_default_job_uses_the_security_configuration(default):
    template = default["template"]
    config = only_resource(template, "AWS::Glue::SecurityConfiguration")[0]
    assert job_props(template)["SecurityConfiguration"] == {"Ref": config}


def test_trigger_action_passes_batch_arguments(default):
    template = default["template"]
    job = only_resource(template, "AWS::Glue::Job")[0]
    template.has_resource_properties("AWS::Glue::Trigger", {"Actions": [{
        "JobName": {"Ref": job},
        "Arguments": {"--batch_size": "100", "--batch_window_seconds": "900"},
    }]})


def test_trigger_arguments_are_strings(default):
    _, trigger = only_resource(default["template"], "AWS::Glue::Trigger")
    arguments = trigger["Properties"]["Actions"][0]["Arguments"]
    assert arguments == {"--batch_size": "100", "--batch_window_seconds": "900"}
    assert all(isinstance(value, str) for value in arguments.values())


def test_trigger_arguments_follow_batching_overrides():
    _, _, template = synth_props(batch_size=5, batch_window=Duration.minutes(2))
    template.has_resource_properties("AWS::Glue::Trigger", {"Actions": [Match.object_like({
        "Arguments": {"--batch_size": "5", "--batch_window_seconds": "120"},
    })]})


# ---- overrides ----------------------------------------------------------------

@pytest.mark.parametrize("fmt, rendered", [(InputFormat.CSV, "CSV"), (InputFormat.JSON, "JSON")])
def test_input_format_override(fmt, rendered):
    _, _, template = synth_props(input_format=fmt)
    assert job_props(template)["DefaultArguments"]["--input_format"] == rendered


def test_prefix_table_and_partition_overrides():
    _, _, template = synth_props(output_prefix="curated/", table_name="items", partition_columns=["ingest_date", "region"])
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    args = job_props(template)["DefaultArguments"]
    assert args["--output_path"] == bucket_join(bucket, "/curated/")
    assert args["--table_name"] == "items"
    assert args["--partition_columns"] == "ingest_date,region"


def test_no_partition_columns_is_never_an_empty_argument():
    """Glue drops an empty argument value, and the job would read the bare flag as "true"."""
    _, _, template = synth_props(partition_columns=[])
    assert job_props(template)["DefaultArguments"]["--partition_columns"] == "[]"


def test_capacity_overrides():
    _, _, template = synth_props(
        worker_type=glue.WorkerType.G_2X, number_of_workers=10, job_timeout=Duration.minutes(30),
        job_max_retries=0, max_files_per_run=50, target_file_size=Size.mebibytes(64),
    )
    props = job_props(template)
    assert props["WorkerType"] == "G.2X"
    assert props["NumberOfWorkers"] == 10
    assert props["Timeout"] == 30
    assert props["MaxRetries"] == 0
    assert props["DefaultArguments"]["--max_files_per_run"] == "50"
    assert props["DefaultArguments"]["--target_file_size_mb"] == "64"


def test_flex_execution_class():
    _, _, template = synth_props(execution_class=glue.ExecutionClass.FLEX)
    assert job_props(template)["ExecutionClass"] == "FLEX"


def test_job_timeout_sets_ledger_visibility_timeout():
    _, _, template = synth_props(job_timeout=Duration.minutes(30))
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    assert resources_of_type(template, "AWS::SQS::Queue")[ledger]["Properties"]["VisibilityTimeout"] == 1800 + 300


# ---- bring your own database --------------------------------------------------

def test_database_from_arn_is_used_and_none_created():
    stack = new_stack()
    db = glue.Database.from_database_arn(stack, "Db", "arn:aws:glue:eu-west-1:123456789012:database/analytics")
    EventDrivenGlueWorkflow(stack, "Products", database=db)
    template = template_of(stack)
    template.resource_count_is("AWS::Glue::Database", 0)
    assert job_props(template)["DefaultArguments"]["--database_name"] == "analytics"
    resources = statement(template, "MaintainOwnTable")["Resource"]
    assert json.dumps(resources).count("database/analytics") == 1
    assert "table/analytics/products" in json.dumps(resources)


def test_database_in_stack_is_used_and_no_second_created():
    stack = new_stack()
    db = glue.Database(stack, "Db", database_name="analytics")
    pipeline = EventDrivenGlueWorkflow(stack, "Products", database=db)
    template = template_of(stack)
    template.resource_count_is("AWS::Glue::Database", 1)
    db_id = only_resource(template, "AWS::Glue::Database")[0]
    assert db_id.startswith("Db")
    assert job_props(template)["DefaultArguments"]["--database_name"] == {"Ref": db_id}
    assert pipeline.database is db


# ---- role -----------------------------------------------------------------------

def test_role_reads_only_the_input_prefix(default):
    template = default["template"]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    s = statement(template, "ReadInputPrefix")
    assert s["Action"] == "s3:GetObject"
    assert s["Resource"] == arn_join(bucket, "/incoming/*")


def test_role_reads_and_writes_exactly_the_output_locations(default):
    template = default["template"]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    s = statement(template, "ReadWriteOutputLocations")
    assert s["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    assert s["Resource"] == [arn_join(bucket, f"/{p}/*")
                             for p in ("parquet", "rejected/products", "stats/products", "_pipeline/products")]


def test_role_may_repair_the_legacy_state_root_of_a_lone_pipeline(default):
    template = default["template"]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    s = statement(template, "RepairLegacyState")
    assert s["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert s["Resource"] == arn_join(bucket, "/_pipeline/*")


def test_role_only_writes_below_own_prefixes(default):
    template = default["template"]
    for s in job_role_statements(template):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if any(a in ("s3:PutObject", "s3:DeleteObject") for a in actions):
            assert s["Sid"] in ("ReadWriteOutputLocations", "RepairLegacyState")


def test_role_lists_the_pipeline_bucket_without_prefix_condition(default):
    # S3A probes parent "directories" (e.g. `parquet`, `_pipeline`) without the trailing slash
    template = default["template"]
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    s = statement(template, "ListPipelineBucket")
    assert s == {"Sid": "ListPipelineBucket", "Action": "s3:ListBucket", "Effect": "Allow",
                 "Resource": {"Fn::GetAtt": [bucket, "Arn"]}}


def test_role_has_no_prefix_scoped_list_statement_left(default):
    assert [s for s in job_role_statements(default["template"]) if s.get("Sid") == "ListOwnPrefixes"] == []


def test_role_drains_only_the_ledger(default):
    template = default["template"]
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    s = statement(template, "DrainLedger")
    assert s["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                           "sqs:GetQueueAttributes"]
    assert s["Resource"] == {"Fn::GetAtt": [ledger, "Arn"]}


def test_role_parks_expired_messages_only_in_the_ledger_dead_letter_queue(default):
    template = default["template"]
    ledger_dlq = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerDeadLetterQueue")
    s = statement(template, "ParkExpiredMessages")
    assert s["Action"] == "sqs:SendMessage"
    assert s["Resource"] == {"Fn::GetAtt": [ledger_dlq, "Arn"]}


def test_role_sqs_statements_are_drain_and_park_only(default):
    sqs_sids = [x["Sid"] for x in job_role_statements(default["template"]) if "sqs:" in json.dumps(x["Action"])]
    assert sqs_sids == ["DrainLedger", "ParkExpiredMessages"]


def test_role_catalog_actions_on_catalog_database_and_table_only(default):
    template = default["template"]
    database = only_resource(template, "AWS::Glue::Database")[0]
    s = statement(template, "MaintainOwnTable")
    prefix = ["arn:", {"Ref": "AWS::Partition"}]
    assert s["Resource"] == [
        {"Fn::Join": ["", prefix + [":glue:eu-west-1:123456789012:catalog"]]},
        {"Fn::Join": ["", prefix + [":glue:eu-west-1:123456789012:database/", {"Ref": database}]]},
        {"Fn::Join": ["", prefix + [":glue:eu-west-1:123456789012:table/", {"Ref": database}, "/products"]]},
    ]
    assert s["Action"] == ["glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:BatchCreatePartition"]


def test_role_reads_workflow_run_properties_of_its_workflow(default):
    template = default["template"]
    workflow = only_resource(template, "AWS::Glue::Workflow")[0]
    s = statement(template, "ReadBatchEventIds")
    assert s["Action"] == ["glue:GetWorkflowRunProperties", "glue:GetWorkflowRun"]
    assert s["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                               ":glue:eu-west-1:123456789012:workflow/", {"Ref": workflow}]]}


def test_role_logs_only_under_aws_glue(default):
    s = statement(default["template"], "WriteGlueLogs")
    assert all(a.startswith("logs:") for a in s["Action"])
    assert s["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                               ":logs:eu-west-1:123456789012:log-group:/aws-glue/*"]]}


def test_role_puts_metrics_only_in_glue_and_pipeline_namespaces(default):
    s = statement(default["template"], "PublishGlueMetrics")
    assert s["Action"] == "cloudwatch:PutMetricData"
    assert s["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["Glue", "EventDrivenGlueWorkflow"]}}


def test_no_policy_allows_all_actions_of_a_service(default):
    template = default["template"]
    iam_statements = [s for p in resources_of_type(template, "AWS::IAM::Policy").values()
                      for s in p["Properties"]["PolicyDocument"]["Statement"]]
    resource_policies = [p for t in ("AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy")
                         for p in resources_of_type(template, t).values()]
    allows = iam_statements + [s for p in resource_policies for s in p["Properties"]["PolicyDocument"]["Statement"]
                               if s["Effect"] == "Allow"]
    assert len(iam_statements) >= 10
    for s in allows:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (action, s)


# ---- event ledger ---------------------------------------------------------------

def test_ledger_is_second_target_of_the_s3_rule(default):
    template = default["template"]
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    dlq = logical_id(template, "AWS::SQS::Queue", "ProductsDeadLetterQueue")
    targets = pipeline_rule(template)[1]["Properties"]["Targets"]
    assert len(targets) == 2
    sqs_target = targets[1]
    assert sqs_target["Arn"] == {"Fn::GetAtt": [ledger, "Arn"]}
    assert sqs_target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    assert sqs_target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def test_ledger_redrives_to_its_dlq_after_three_receives(default):
    template = default["template"]
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    ledger_dlq = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerDeadLetterQueue")
    props = resources_of_type(template, "AWS::SQS::Queue")[ledger]["Properties"]
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [ledger_dlq, "Arn"]}, "maxReceiveCount": 3}


def test_ledger_visibility_timeout_exceeds_job_timeout(default):
    template = default["template"]
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    assert resources_of_type(template, "AWS::SQS::Queue")[ledger]["Properties"]["VisibilityTimeout"] == 3900


def test_every_queue_is_encrypted(default):
    queues = resources_of_type(default["template"], "AWS::SQS::Queue")
    assert len(queues) == 3
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())


def test_every_queue_policy_denies_non_ssl(default):
    template = default["template"]
    queues = set(resources_of_type(template, "AWS::SQS::Queue"))
    covered = set()
    for policy in resources_of_type(template, "AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements)
        covered.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert covered == queues


def test_job_timeout_above_ledger_limit_raises():
    message = ("'jobTimeout' must be at most 715 minutes with the event ledger (its visibility timeout must exceed "
               "the job timeout, and SQS allows 12 hours), got: 780 minutes")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        EventDrivenGlueWorkflow(new_stack(), "Products", job_timeout=Duration.hours(13))


def test_token_job_timeout_skips_validation_and_uses_max_visibility():
    stack = new_stack()
    minutes = CfnParameter(stack, "TimeoutMinutes", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", job_timeout=Duration.minutes(minutes))
    template = template_of(stack)
    ledger = logical_id(template, "AWS::SQS::Queue", "ProductsLedgerQueue")
    assert resources_of_type(template, "AWS::SQS::Queue")[ledger]["Properties"]["VisibilityTimeout"] == 43200


# ---- ledger message age and drain time budget ---------------------------------------

def default_arguments(**props):
    return job_props(synth_props(**props)[2])["DefaultArguments"]


def test_ledger_max_message_age_override():
    assert default_arguments(ledger_max_message_age=Duration.days(2))["--ledger_max_age_seconds"] == "172800"


@pytest.mark.parametrize("age, shown", [
    (Duration.minutes(59), "3540 seconds"),
    (Duration.days(14), "1209600 seconds"),
    (Duration.millis(3600500), "3600.5 seconds"),
])
def test_ledger_max_message_age_outside_1_hour_to_13_days_raises(age, shown):
    message = ("'ledgerMaxMessageAge' must be a whole number of seconds between 3600 (1 hour) and 1123200 "
               f"(13 days, under the ledger's 14-day retention), got: {shown}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        synth_props(ledger_max_message_age=age)


def test_ledger_max_message_age_limits_are_accepted():
    assert default_arguments(ledger_max_message_age=Duration.hours(1))["--ledger_max_age_seconds"] == "3600"
    assert default_arguments(ledger_max_message_age=Duration.days(13))["--ledger_max_age_seconds"] == "1123200"


def test_drain_time_budget_defaults_to_half_the_job_timeout():
    assert default_arguments(job_timeout=Duration.minutes(30))["--drain_time_budget_seconds"] == "900"


def test_drain_time_budget_override():
    assert default_arguments(drain_time_budget=Duration.minutes(10))["--drain_time_budget_seconds"] == "600"


@pytest.mark.parametrize("budget, shown", [
    (Duration.seconds(59), "59 seconds"),
    (Duration.hours(1), "3600 seconds"),
    (Duration.millis(90500), "90.5 seconds"),
])
def test_drain_time_budget_outside_1_minute_to_job_timeout_raises(budget, shown):
    message = ("'drainTimeBudget' must be a whole number of seconds of at least 60 and less than 'jobTimeout' "
               f"(3600 seconds), got: {shown}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        synth_props(drain_time_budget=budget)


def test_drain_time_budget_is_checked_against_an_overridden_job_timeout():
    message = ("'drainTimeBudget' must be a whole number of seconds of at least 60 and less than 'jobTimeout' "
               "(1200 seconds), got: 1200 seconds")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        synth_props(job_timeout=Duration.minutes(20), drain_time_budget=Duration.minutes(20))


def test_token_drain_time_budget_and_message_age_skip_validation():
    stack = new_stack()
    seconds = CfnParameter(stack, "Seconds", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", drain_time_budget=Duration.seconds(seconds),
                            ledger_max_message_age=Duration.seconds(seconds))
    args = job_props(template_of(stack))["DefaultArguments"]
    assert args["--drain_time_budget_seconds"] == {"Ref": "Seconds"}
    assert args["--ledger_max_age_seconds"] == {"Ref": "Seconds"}


def test_token_job_timeout_leaves_the_drain_budget_to_the_job():
    stack = new_stack()
    minutes = CfnParameter(stack, "TimeoutMinutes", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", job_timeout=Duration.minutes(minutes))
    assert "--drain_time_budget_seconds" not in job_props(template_of(stack))["DefaultArguments"]


# ---- loop protection --------------------------------------------------------------

def loop_message(prop, location, prefix):
    return (f"'{prop}' (\"{location}\") overlaps 'inputPrefix' (\"{prefix}\"): the job's own writes would match "
            "the rule and trigger the pipeline again, forever. Choose locations outside the input prefix.")


def test_output_prefix_under_input_prefix_raises():
    with pytest.raises(RuntimeError, match=re.escape(loop_message("outputPrefix", "incoming/parquet/", "incoming/"))):
        EventDrivenGlueWorkflow(new_stack(), "Products", output_prefix="incoming/parquet/")


def test_stats_prefix_under_input_prefix_raises():
    with pytest.raises(RuntimeError, match=re.escape(loop_message("statsPrefix", "incoming/stats/", "incoming/"))):
        EventDrivenGlueWorkflow(new_stack(), "Products", stats_prefix="incoming/stats/")


def test_empty_input_prefix_with_default_job_raises():
    with pytest.raises(RuntimeError, match=re.escape(loop_message("outputPrefix", "parquet/", ""))):
        EventDrivenGlueWorkflow(new_stack(), "Products", input_prefix="")


# ---- public attributes ------------------------------------------------------------

def test_default_job_attributes_are_set(default):
    pipeline = default["pipeline"]
    assert pipeline.ledger_queue is not None
    assert pipeline.ledger_dead_letter_queue is not None
    assert pipeline.database is not None
    assert pipeline.table is not None
    assert pipeline.conversion_job is not None
    assert pipeline.conversion_job.table_name == "products"


@pytest.fixture(scope="module")
def byo():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products",
                                       job=glue.Job.from_job_attributes(stack, "Job", job_name="existing"))
    return stack, pipeline, template_of(stack)


def test_byo_job_attributes_are_none(byo):
    _, pipeline, _ = byo
    assert pipeline.ledger_queue is None
    assert pipeline.ledger_dead_letter_queue is None
    assert pipeline.database is None
    assert pipeline.table is None
    assert pipeline.conversion_job is None


def test_byo_job_has_no_ledger_and_no_job_resources(byo):
    _, _, template = byo
    template.resource_count_is("AWS::SQS::Queue", 1)
    template.resource_count_is("AWS::Glue::Job", 0)
    template.resource_count_is("AWS::Glue::Database", 0)
    assert len(pipeline_rule(template)[1]["Properties"]["Targets"]) == 1


# ---- grant_read_output ------------------------------------------------------------

def test_grant_read_output_grants_parquet_objects_and_catalog_reads():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products")
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_read_output(reader)
    template = template_of(stack)
    bucket = logical_id(template, "AWS::S3::Bucket", "ProductsBucket")
    policy = [p for k, p in resources_of_type(template, "AWS::IAM::Policy").items() if k.startswith("Reader")]
    assert len(policy) == 1
    statements = policy[0]["Properties"]["PolicyDocument"]["Statement"]
    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": arn_join(bucket, "/parquet/*")} in statements
    glue_actions = [s["Action"] for s in statements if "glue:" in json.dumps(s["Action"])]
    assert glue_actions == [["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]]


def test_grant_read_output_with_byo_job_raises():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    message = "grantReadOutput() needs the default conversion job; with your own `job`, grant access to its output yourself"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        pipeline.grant_read_output(reader)


# ---- standalone ParquetConversionJob ----------------------------------------------

@pytest.fixture(scope="module")
def standalone():
    stack = new_stack()
    bucket = s3.Bucket(stack, "Data")
    job = ParquetConversionJob(stack, "Orders", bucket=bucket)
    return stack, job, template_of(stack)


def test_standalone_job_has_no_ledger_argument(standalone):
    _, _, template = standalone
    args = job_props(template)["DefaultArguments"]
    for name in ("--ledger_queue_url", "--ledger_dlq_url", "--ledger_max_age_seconds", "--drain_time_budget_seconds",
                 "--visibility_timeout_seconds"):
        assert name not in args
    assert args["--table_name"] == "orders"


def test_standalone_job_publishes_its_metrics_in_the_pipeline_namespace(standalone):
    _, _, template = standalone
    assert job_props(template)["DefaultArguments"]["--metrics_namespace"] == "EventDrivenGlueWorkflow"


def test_standalone_job_role_has_no_sqs_statement(standalone):
    _, _, template = standalone
    assert not [s for s in job_role_statements(template, "OrdersRole") if "sqs:" in json.dumps(s["Action"])]


def test_standalone_job_creates_its_database(standalone):
    _, job, template = standalone
    template.resource_count_is("AWS::Glue::Database", 1)
    assert "SecurityConfiguration" not in job_props(template)


@pytest.mark.parametrize("prop, python_name", [
    ("drainTimeBudget", "drain_time_budget"),
    ("ledgerMaxMessageAge", "ledger_max_message_age"),
    ("ledgerDeadLetterQueue", "ledger_dead_letter_queue"),
    ("ledgerSweepAlarm", "ledger_sweep_alarm"),
    ("ledgerSweepAfter", "ledger_sweep_after"),
])
def test_standalone_job_without_ledger_warns_about_ledger_options(prop, python_name):
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_sqs as sqs
    from aws_cdk.assertions import Annotations
    stack = new_stack()
    values = {
        "drain_time_budget": lambda: Duration.minutes(5),
        "ledger_max_message_age": lambda: Duration.days(1),
        "ledger_dead_letter_queue": lambda: sqs.Queue(stack, "Dlq"),
        "ledger_sweep_alarm": lambda: cloudwatch.Alarm.from_alarm_arn(
            stack, "Sweep", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:sweep"),
        "ledger_sweep_after": lambda: Duration.minutes(30),
    }
    ParquetConversionJob(stack, "Orders", bucket=s3.Bucket(stack, "Data"), **{python_name: values[python_name]()})
    warnings = [w.entry.data for w in Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(r"\[ack: cdk-event-driven-glue-workflow:"))]
    short_id = "noLedgerQueueIgnores" + prop[0].upper() + prop[1:]
    assert warnings == [f"'{prop}' has no effect without 'ledgerQueue': the job then only converts the files named in "
                        f"--input_files [ack: cdk-event-driven-glue-workflow:{short_id}]"]
    args = job_props(template_of(stack))["DefaultArguments"]
    assert not {"--ledger_dlq_url", "--sweep_alarm_name", "--sweep_after_seconds", "--drain_time_budget_seconds"} & set(args)


SWEEP_ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:sweep"


def standalone_with_ledger(**props):
    """A ParquetConversionJob with a ledger; a callable value gets the stack."""
    from aws_cdk import aws_sqs as sqs
    stack = new_stack()
    resolved = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    ParquetConversionJob(stack, "Orders", bucket=s3.Bucket(stack, "Data"), ledger_queue=sqs.Queue(stack, "Ledger"),
                         **resolved)
    return stack


def sweep_alarm_of(stack):
    from aws_cdk import aws_cloudwatch as cloudwatch
    return cloudwatch.Alarm.from_alarm_arn(stack, "Sweep", SWEEP_ALARM_ARN)


def test_standalone_job_passes_the_sweep_threshold_with_its_alarm():
    stack = standalone_with_ledger(ledger_sweep_alarm=sweep_alarm_of, ledger_sweep_after=Duration.minutes(20))
    args = job_props(template_of(stack))["DefaultArguments"]
    assert args["--sweep_alarm_name"] == "sweep"
    assert args["--sweep_after_seconds"] == "1200"


def test_standalone_job_with_alarm_and_no_threshold_only_rearms():
    stack = standalone_with_ledger(ledger_sweep_alarm=sweep_alarm_of)
    args = job_props(template_of(stack))["DefaultArguments"]
    assert args["--sweep_alarm_name"] == "sweep"
    assert "--sweep_after_seconds" not in args


def test_standalone_job_sweep_threshold_without_alarm_warns():
    from aws_cdk.assertions import Annotations
    stack = standalone_with_ledger(ledger_sweep_after=Duration.minutes(20))
    warnings = [w.entry.data for w in Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(r"\[ack: cdk-event-driven-glue-workflow:"))]
    assert warnings == ["'ledgerSweepAfter' has no effect without 'ledgerSweepAlarm': the job has no alarm to hand over "
                        "through [ack: cdk-event-driven-glue-workflow:noSweepAlarmIgnoresLedgerSweepAfter]"]
    assert "--sweep_after_seconds" not in job_props(template_of(stack))["DefaultArguments"]


@pytest.mark.parametrize("after, shown", [(Duration.seconds(59), "59 seconds"), (Duration.millis(60500), "60.5 seconds")])
def test_standalone_job_sweep_threshold_under_a_minute_raises(after, shown):
    message = f"'ledgerSweepAfter' must be a whole number of seconds of at least 60, got: {shown}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        standalone_with_ledger(ledger_sweep_alarm=sweep_alarm_of, ledger_sweep_after=after)


# ---- KMS: readers and imported buckets ------------------------------------------------

def reader_statements(**props):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", **{k: v(stack) if callable(v) else v for k, v in props.items()})
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_read_output(reader)
    template = template_of(stack)
    policy = [p for k, p in resources_of_type(template, "AWS::IAM::Policy").items() if k.startswith("Reader")]
    assert len(policy) == 1
    return template, policy[0]["Properties"]["PolicyDocument"]["Statement"]


def kms_statements(statements):
    return [s for s in statements if "kms:" in json.dumps(s["Action"])]


def test_grant_read_output_grants_no_key_for_sse_s3_output():
    # the construct's key encrypts only the job's logs and bookmarks here
    _, statements = reader_statements()
    assert kms_statements(statements) == []


def test_grant_read_output_grants_decrypt_with_the_kms_bucket_key():
    from cdk_event_driven_glue_workflow import BucketEncryptionMode
    template, statements = reader_statements(bucket_encryption=BucketEncryptionMode.KMS)
    key = only_resource(template, "AWS::KMS::Key")[0]
    assert kms_statements(statements) == [
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key, "Arn"]}}]


IMPORTED_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def imported_kms_bucket(stack):
    from aws_cdk import aws_kms as kms
    return s3.Bucket.from_bucket_attributes(stack, "Landing", bucket_name="landing",
                                            encryption_key=kms.Key.from_key_arn(stack, "LandingKey", IMPORTED_KEY))


@pytest.fixture(scope="module")
def imported_kms():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", bucket=imported_kms_bucket(stack))
    return template_of(stack)


def test_job_role_uses_the_imported_buckets_key(imported_kms):
    found = [s for s in job_role_statements(imported_kms) if IMPORTED_KEY in json.dumps(s["Resource"])]
    assert len(found) == 1
    assert found[0]["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]


def test_job_writes_with_the_imported_buckets_key(imported_kms):
    config = only_resource(imported_kms, "AWS::Glue::SecurityConfiguration")[1]["Properties"]["EncryptionConfiguration"]
    assert config["S3Encryptions"] == [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": IMPORTED_KEY}]


def test_grant_read_output_grants_decrypt_with_the_imported_buckets_key():
    _, statements = reader_statements(bucket=imported_kms_bucket)
    assert kms_statements(statements) == [{"Action": "kms:Decrypt", "Effect": "Allow", "Resource": IMPORTED_KEY}]

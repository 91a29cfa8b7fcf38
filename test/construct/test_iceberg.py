"""The Iceberg table format of the default job: its arguments, the job role's additions, the table optimizers'
role, validation and warnings. cdk-nag and cfn-lint of the Iceberg variants are in test_security_and_observability."""
import json
import re

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from cdk_event_driven_glue_workflow import (
    BucketEncryptionMode,
    EventDrivenGlueWorkflow,
    IcebergMaintenance,
    ParquetConversionJob,
    TableFormat,
)
from cdk_helpers import ACCOUNT, REGION, new_stack, only_resource, resources_of_type, template_of

ICEBERG_ONLY_ARGUMENTS = {
    "--table_format", "--datalake-formats", "--iceberg_catalog", "--conf", "--iceberg_optimizers",
    "--iceberg_optimizer_role_arn", "--catalog_id", "--iceberg_snapshot_retention_days",
    "--iceberg_snapshots_to_retain", "--iceberg_orphan_file_retention_days",
}
OPTIMIZER_ARGUMENTS = {
    "--iceberg_optimizers", "--iceberg_optimizer_role_arn", "--catalog_id", "--iceberg_snapshot_retention_days",
    "--iceberg_snapshots_to_retain", "--iceberg_orphan_file_retention_days",
}
PARTITION = {"Ref": "AWS::Partition"}


def build(stack_id="Test", **props):
    stack = new_stack(stack_id=stack_id)
    resolved = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    pipeline = EventDrivenGlueWorkflow(stack, "Lake", **resolved)
    return stack, pipeline, template_of(stack)


def iceberg(**props):
    return build(table_format=TableFormat.ICEBERG, **props)


@pytest.fixture(scope="module")
def lake():
    return iceberg()


@pytest.fixture(scope="module")
def parquet():
    return build()


def logical_id(template, cfn_type, prefix):
    found = [k for k in resources_of_type(template, cfn_type) if k.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def arguments(template):
    return only_resource(template, "AWS::Glue::Job")[1]["Properties"]["DefaultArguments"]


def bucket_id(template):
    return logical_id(template, "AWS::S3::Bucket", "LakeBucket")


def database_id(template):
    return only_resource(template, "AWS::Glue::Database")[0]


def optimizer_role_id(template):
    return logical_id(template, "AWS::IAM::Role", "LakeConversionJobIcebergOptimizerRole")


def optimizer_statements(template):
    role = optimizer_role_id(template)
    policies = [p["Properties"] for p in resources_of_type(template, "AWS::IAM::Policy").values()
                if {"Ref": role} in p["Properties"]["Roles"]]
    assert len(policies) == 1
    return policies[0]["PolicyDocument"]["Statement"]


def optimizer_statement(template, sid):
    found = [s for s in optimizer_statements(template) if s.get("Sid") == sid]
    assert len(found) == 1, sid
    return found[0]


def job_statements(template):
    policy = resources_of_type(template, "AWS::IAM::Policy")[
        logical_id(template, "AWS::IAM::Policy", "LakeConversionJobRoleDefaultPolicy")]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def job_statement(template, sid):
    found = [s for s in job_statements(template) if s.get("Sid") == sid]
    assert len(found) == 1, sid
    return found[0]


def catalog_arns(template, table="lake"):
    database = {"Ref": database_id(template)}
    return [
        {"Fn::Join": ["", ["arn:", PARTITION, f":glue:{REGION}:{ACCOUNT}:catalog"]]},
        {"Fn::Join": ["", ["arn:", PARTITION, f":glue:{REGION}:{ACCOUNT}:database/", database]]},
        {"Fn::Join": ["", ["arn:", PARTITION, f":glue:{REGION}:{ACCOUNT}:table/", database, f"/{table}"]]},
    ]


def objects_arn(template, prefix):
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id(template), "Arn"]}, f"/{prefix}*"]]}


def log_group_arn(name):
    return {"Fn::Join": ["", ["arn:", PARTITION, f":logs:{REGION}:{ACCOUNT}:log-group:/aws-glue/{name}/logs:*"]]}


def our_warnings(stack):
    return [w.entry.data for w in Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(r"\[ack: cdk-event-driven-glue-workflow:"))]


# ---- Parquet stays as it was ---------------------------------------------------------------

def test_parquet_by_default_has_no_iceberg_arguments(parquet):
    assert ICEBERG_ONLY_ARGUMENTS & set(arguments(parquet[2])) == set()


def test_explicit_parquet_renders_like_the_default(parquet):
    _, _, explicit = build(table_format=TableFormat.PARQUET)
    assert arguments(explicit) == arguments(parquet[2])


def test_parquet_has_no_optimizer_role(parquet):
    _, pipeline, template = parquet
    assert [k for k in resources_of_type(template, "AWS::IAM::Role") if "IcebergOptimizerRole" in k] == []
    assert pipeline.iceberg_optimizer_role is None
    assert pipeline.conversion_job.table_format == TableFormat.PARQUET


def test_parquet_job_role_has_no_optimizer_statements(parquet):
    sids = [s.get("Sid") for s in job_statements(parquet[2])]
    assert "ManageTableOptimizers" not in sids
    assert "PassOptimizerRole" not in sids
    assert [s for s in job_statements(parquet[2]) if "iam:PassRole" in json.dumps(s["Action"])] == []


# ---- Iceberg arguments ---------------------------------------------------------------------

def test_iceberg_table_format_argument(lake):
    assert arguments(lake[2])["--table_format"] == "ICEBERG"


def test_iceberg_uses_glue_iceberg_libraries(lake):
    assert arguments(lake[2])["--datalake-formats"] == "iceberg"


def test_iceberg_catalog_argument(lake):
    assert arguments(lake[2])["--iceberg_catalog"] == "glue_catalog"


def test_iceberg_spark_conf_is_one_chained_argument_with_the_output_prefix_as_warehouse(lake):
    _, _, template = lake
    assert arguments(template)["--conf"] == {"Fn::Join": ["", [
        "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
        " --conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog"
        " --conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog"
        " --conf spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO"
        " --conf spark.sql.catalog.glue_catalog.warehouse=s3://",
        {"Ref": bucket_id(template)},
        "/parquet/",
    ]]}


def test_iceberg_warehouse_follows_the_output_prefix():
    _, _, template = iceberg(output_prefix="lake/orders/")
    conf = arguments(template)["--conf"]["Fn::Join"][1]
    assert conf[-1] == "/lake/orders/"
    assert arguments(template)["--output_path"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id(template)}, "/lake/orders/"]]}


def test_iceberg_does_not_use_the_glue_catalog_as_spark_metastore(lake):
    # Iceberg's own GlueCatalog is configured through --conf; Hive metastore support stays off
    assert "--enable-glue-datacatalog" not in arguments(lake[2])


def test_iceberg_partitions_by_ingestion_day_by_default(lake):
    assert arguments(lake[2])["--partition_columns"] == "days(_ingested_at)"


def test_iceberg_partition_transforms_override():
    _, _, template = iceberg(partition_columns=["bucket(16, id)", "region", "hours(event_time)", "truncate(4, sku)"])
    assert arguments(template)["--partition_columns"] == "bucket(16, id),region,hours(event_time),truncate(4, sku)"


def test_iceberg_job_description_names_the_iceberg_table(lake):
    description = only_resource(lake[2], "AWS::Glue::Job")[1]["Properties"]["Description"]
    assert description == "Converts new files under 'incoming/' to the Iceberg table at 'parquet/'"


def test_iceberg_table_format_is_exposed(lake):
    assert lake[1].conversion_job.table_format == TableFormat.ICEBERG


# ---- optimizer arguments -----------------------------------------------------------------------

def test_iceberg_turns_on_every_optimizer_by_default(lake):
    assert arguments(lake[2])["--iceberg_optimizers"] == "compaction,retention,orphan_file_deletion"


def test_iceberg_passes_the_optimizer_role(lake):
    _, _, template = lake
    assert arguments(template)["--iceberg_optimizer_role_arn"] == {"Fn::GetAtt": [optimizer_role_id(template), "Arn"]}


def test_iceberg_passes_the_account_as_catalog_id(lake):
    assert arguments(lake[2])["--catalog_id"] == ACCOUNT


def test_catalog_id_of_an_environment_agnostic_stack_is_the_account_reference():
    stack = Stack(App(), "Agnostic")
    EventDrivenGlueWorkflow(stack, "Lake", table_format=TableFormat.ICEBERG)
    assert arguments(template_of(stack))["--catalog_id"] == {"Ref": "AWS::AccountId"}


def test_iceberg_maintenance_default_settings(lake):
    args = arguments(lake[2])
    assert args["--iceberg_snapshot_retention_days"] == "5"
    assert args["--iceberg_snapshots_to_retain"] == "1"
    assert args["--iceberg_orphan_file_retention_days"] == "3"


def test_iceberg_maintenance_setting_overrides():
    _, _, template = iceberg(iceberg_maintenance=IcebergMaintenance(
        snapshot_retention_period=Duration.days(7), snapshots_to_retain=3, orphan_file_retention_period=Duration.days(10)))
    args = arguments(template)
    assert args["--iceberg_snapshot_retention_days"] == "7"
    assert args["--iceberg_snapshots_to_retain"] == "3"
    assert args["--iceberg_orphan_file_retention_days"] == "10"


@pytest.mark.parametrize("maintenance, listed", [
    (IcebergMaintenance(compaction=False), "retention,orphan_file_deletion"),
    (IcebergMaintenance(snapshot_retention=False), "compaction,orphan_file_deletion"),
    (IcebergMaintenance(orphan_file_deletion=False), "compaction,retention"),
    (IcebergMaintenance(compaction=False, snapshot_retention=False), "orphan_file_deletion"),
])
def test_iceberg_optimizers_lists_only_the_enabled_ones(maintenance, listed):
    assert arguments(iceberg(iceberg_maintenance=maintenance)[2])["--iceberg_optimizers"] == listed


def test_snapshot_retention_off_passes_no_retention_settings():
    args = arguments(iceberg(iceberg_maintenance=IcebergMaintenance(snapshot_retention=False))[2])
    assert "--iceberg_snapshot_retention_days" not in args
    assert "--iceberg_snapshots_to_retain" not in args
    assert args["--iceberg_orphan_file_retention_days"] == "3"


def test_orphan_file_deletion_off_passes_no_orphan_setting():
    args = arguments(iceberg(iceberg_maintenance=IcebergMaintenance(orphan_file_deletion=False))[2])
    assert "--iceberg_orphan_file_retention_days" not in args
    assert args["--iceberg_snapshot_retention_days"] == "5"


@pytest.fixture(scope="module")
def no_maintenance():
    return iceberg(iceberg_maintenance=IcebergMaintenance(
        compaction=False, snapshot_retention=False, orphan_file_deletion=False))


def test_all_optimizers_off_passes_no_optimizer_argument(no_maintenance):
    args = arguments(no_maintenance[2])
    assert OPTIMIZER_ARGUMENTS & set(args) == set()
    assert args["--table_format"] == "ICEBERG"


def test_all_optimizers_off_creates_no_optimizer_role(no_maintenance):
    _, pipeline, template = no_maintenance
    assert [k for k in resources_of_type(template, "AWS::IAM::Role") if "IcebergOptimizerRole" in k] == []
    assert pipeline.iceberg_optimizer_role is None


def test_all_optimizers_off_gives_the_job_no_optimizer_permission(no_maintenance):
    sids = [s.get("Sid") for s in job_statements(no_maintenance[2])]
    assert "ManageTableOptimizers" not in sids
    assert "PassOptimizerRole" not in sids


# ---- the job role with Iceberg ---------------------------------------------------------------

def test_iceberg_job_role_maintains_its_table_through_the_glue_catalog(lake):
    _, _, template = lake
    s = job_statement(template, "MaintainOwnTable")
    assert s["Action"] == ["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]
    assert s["Resource"] == catalog_arns(template)


def test_iceberg_job_role_manages_the_optimizers_of_its_table_only(lake):
    _, _, template = lake
    s = job_statement(template, "ManageTableOptimizers")
    assert s["Action"] == ["glue:CreateTableOptimizer", "glue:UpdateTableOptimizer", "glue:GetTableOptimizer"]
    assert s["Resource"] == catalog_arns(template)


def test_iceberg_job_role_passes_only_the_optimizer_role_to_glue(lake):
    _, _, template = lake
    assert job_statement(template, "PassOptimizerRole") == {
        "Sid": "PassOptimizerRole",
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [optimizer_role_id(template), "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}},
    }
    assert len([s for s in job_statements(template) if "iam:PassRole" in json.dumps(s["Action"])]) == 1


def test_iceberg_job_role_reads_and_writes_the_table_location(lake):
    # data and metadata/ live under the output prefix, which the job already owns
    _, _, template = lake
    s = job_statement(template, "ReadWriteOutputLocations")
    assert objects_arn(template, "parquet/") in s["Resource"]
    assert "s3:DeleteObject" in s["Action"]


# ---- the optimizer role -----------------------------------------------------------------------

def test_optimizer_role_is_assumed_by_glue_only(lake):
    _, _, template = lake
    role = resources_of_type(template, "AWS::IAM::Role")[optimizer_role_id(template)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}}]
    assert "ManagedPolicyArns" not in role


def test_optimizer_role_is_exposed(lake):
    _, pipeline, _ = lake
    assert pipeline.iceberg_optimizer_role.node.path == "Test/Lake/ConversionJob/IcebergOptimizerRole"
    assert pipeline.conversion_job.iceberg_optimizer_role.role_arn == pipeline.iceberg_optimizer_role.role_arn


def test_optimizer_role_statements_are_the_documented_ones(lake):
    assert [s["Sid"] for s in optimizer_statements(lake[2])] == [
        "TableLocationObjects", "ListTableLocation", "MaintainTableMetadata", "WriteOptimizerLogs"]


def test_optimizer_role_reads_writes_and_deletes_only_the_table_location(lake):
    _, _, template = lake
    s = optimizer_statement(template, "TableLocationObjects")
    assert s["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert s["Resource"] == objects_arn(template, "parquet/")


def test_optimizer_role_lists_only_the_table_location(lake):
    _, _, template = lake
    s = optimizer_statement(template, "ListTableLocation")
    assert s["Action"] == "s3:ListBucket"
    assert s["Resource"] == {"Fn::GetAtt": [bucket_id(template), "Arn"]}
    assert s["Condition"] == {"StringLike": {"s3:prefix": ["parquet/*", "parquet"]}}


def test_optimizer_role_reads_and_updates_only_this_table(lake):
    _, _, template = lake
    s = optimizer_statement(template, "MaintainTableMetadata")
    assert s["Action"] == ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    assert s["Resource"] == catalog_arns(template)


def test_optimizer_role_writes_only_the_optimizer_log_groups(lake):
    s = optimizer_statement(lake[2], "WriteOptimizerLogs")
    assert s["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert s["Resource"] == [log_group_arn("iceberg-compaction"), log_group_arn("iceberg-retention"),
                             log_group_arn("iceberg-orphan-file-deletion")]


def test_optimizer_role_has_no_key_statement_for_sse_s3_data(lake):
    assert [s for s in optimizer_statements(lake[2]) if "kms:" in json.dumps(s["Action"])] == []


def test_optimizer_role_follows_the_output_prefix():
    _, _, template = iceberg(output_prefix="lake/orders/")
    assert optimizer_statement(template, "TableLocationObjects")["Resource"] == objects_arn(template, "lake/orders/")
    assert optimizer_statement(template, "ListTableLocation")["Condition"] == {
        "StringLike": {"s3:prefix": ["lake/orders/*", "lake/orders"]}}


@pytest.fixture(scope="module")
def orphan_only():
    return iceberg(iceberg_maintenance=IcebergMaintenance(compaction=False, snapshot_retention=False))


def test_orphan_file_deletion_alone_writes_no_objects(orphan_only):
    # the Glue docs: orphan file deletion needs neither s3:PutObject nor glue:UpdateTable
    assert optimizer_statement(orphan_only[2], "TableLocationObjects")["Action"] == ["s3:GetObject", "s3:DeleteObject"]


def test_orphan_file_deletion_alone_does_not_update_the_table(orphan_only):
    assert optimizer_statement(orphan_only[2], "MaintainTableMetadata")["Action"] == ["glue:GetDatabase", "glue:GetTable"]


def test_optimizer_logs_only_of_the_enabled_optimizers(orphan_only):
    assert optimizer_statement(orphan_only[2], "WriteOptimizerLogs")["Resource"] == log_group_arn(
        "iceberg-orphan-file-deletion")


@pytest.fixture(scope="module")
def kms_lake():
    return iceberg(bucket_encryption=BucketEncryptionMode.KMS)


def test_optimizer_role_uses_the_bucket_key_with_kms(kms_lake):
    _, _, template = kms_lake
    key = only_resource(template, "AWS::KMS::Key")[0]
    assert optimizer_statement(template, "UseTableDataKey") == {
        "Sid": "UseTableDataKey", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [key, "Arn"]}}


def test_optimizer_role_only_decrypts_with_orphan_file_deletion_alone():
    _, _, template = iceberg(bucket_encryption=BucketEncryptionMode.KMS, iceberg_maintenance=IcebergMaintenance(
        compaction=False, snapshot_retention=False))
    assert optimizer_statement(template, "UseTableDataKey")["Action"] == "kms:Decrypt"


def test_standalone_iceberg_job_creates_and_exposes_its_optimizer_role():
    stack = new_stack()
    job = ParquetConversionJob(stack, "Orders", bucket=s3.Bucket(stack, "Data"), table_format=TableFormat.ICEBERG)
    template = template_of(stack)
    role = logical_id(template, "AWS::IAM::Role", "OrdersIcebergOptimizerRole")
    assert job.iceberg_optimizer_role is not None
    assert arguments(template)["--iceberg_optimizer_role_arn"] == {"Fn::GetAtt": [role, "Arn"]}


# ---- grantReadOutput ----------------------------------------------------------------------------

def reader_statements(**props):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Lake", table_format=TableFormat.ICEBERG, **props)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_read_output(reader)
    template = template_of(stack)
    [policy] = [p for k, p in resources_of_type(template, "AWS::IAM::Policy").items() if k.startswith("Reader")]
    return template, policy["Properties"]["PolicyDocument"]["Statement"]


def test_grant_read_output_covers_iceberg_data_and_metadata():
    # metadata/ and data/ are both below the table location, the output prefix
    template, statements = reader_statements()
    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": objects_arn(template, "parquet/")} in statements
    assert {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": {"Fn::GetAtt": [bucket_id(template), "Arn"]},
            "Condition": {"StringLike": {"s3:prefix": ["parquet/*"]}}} in statements


def test_grant_read_output_reads_the_iceberg_table_in_the_catalog():
    template, statements = reader_statements()
    [glue_statement] = [s for s in statements if "glue:" in json.dumps(s["Action"])]
    assert "glue:GetTable" in glue_statement["Action"]
    assert glue_statement["Resource"] == catalog_arns(template)


def test_grant_read_output_decrypts_kms_iceberg_data():
    template, statements = reader_statements(bucket_encryption=BucketEncryptionMode.KMS)
    key = only_resource(template, "AWS::KMS::Key")[0]
    assert {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key, "Arn"]}} in statements


# ---- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", [
    "region", "_ingested_at", "years(ts)", "months(ts)", "days(_ingested_at)", "hours(ts)",
    "bucket(16, id)", "bucket(1,id)", "truncate(4, sku)", "days( ts )",
])
def test_iceberg_accepts_columns_and_transforms(entry):
    assert arguments(iceberg(partition_columns=[entry])[2])["--partition_columns"] == entry


def test_ingest_date_with_iceberg_raises():
    message = ("'partitionColumns' entry \"ingest_date\" is the run date of TableFormat.PARQUET, not a column of an "
               "Iceberg table: use \"days(_ingested_at)\" to partition by the day rows were ingested, "
               "got: [\"ingest_date\",\"region\"]")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        iceberg(partition_columns=["ingest_date", "region"])


@pytest.mark.parametrize("entry", [
    "days(Ts)", "bucket(0, id)", "bucket(id)", "month(ts)", "truncate(n, sku)", "days(ts) desc", "Region", "",
])
def test_iceberg_rejects_other_partition_entries(entry):
    message = ("'partitionColumns' entries must be lower-case column names (a-z, 0-9, _) or, with TableFormat.ICEBERG, "
               "the transforms years(col), months(col), days(col), hours(col), bucket(n, col) or truncate(n, col) "
               f"with n a positive integer, got: {json.dumps([entry], separators=(',', ':'))}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        iceberg(partition_columns=[entry])


def test_transform_with_parquet_raises_naming_the_table_format():
    message = ("'partitionColumns' entry \"days(ts)\" is an Iceberg partition transform: it needs 'tableFormat' "
               "TableFormat.ICEBERG, got: [\"days(ts)\"]")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(partition_columns=["days(ts)"])


@pytest.mark.parametrize("entry", ["Region", "event-date", "1st"])
def test_parquet_keeps_its_column_rule(entry):
    message = ("'partitionColumns' entries must be lower-case column names (a-z, 0-9, _), "
               f"got: {json.dumps([entry], separators=(',', ':'))}")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        build(partition_columns=[entry])


def test_token_partition_column_skips_validation():
    stack = new_stack()
    column = CfnParameter(stack, "Partition").value_as_string
    EventDrivenGlueWorkflow(stack, "Lake", table_format=TableFormat.ICEBERG, partition_columns=[column])
    assert arguments(template_of(stack))["--partition_columns"] == {"Ref": "Partition"}


@pytest.mark.parametrize("setting, python_name", [
    ("snapshotRetentionPeriod", "snapshot_retention_period"),
    ("orphanFileRetentionPeriod", "orphan_file_retention_period"),
])
@pytest.mark.parametrize("period, shown", [
    (Duration.hours(36), "1.5 days"),
    (Duration.hours(12), "0.5 days"),
    (Duration.days(0), "0 days"),
])
def test_retention_periods_must_be_whole_days_of_at_least_one(setting, python_name, period, shown):
    message = f"'icebergMaintenance.{setting}' must be a whole number of days of at least 1, got: {shown}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        iceberg(iceberg_maintenance=IcebergMaintenance(**{python_name: period}))


@pytest.mark.parametrize("count", [0, 1.5])
def test_snapshots_to_retain_must_be_a_positive_integer(count):
    message = f"'icebergMaintenance.snapshotsToRetain' must be an integer of at least 1, got: {count}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        iceberg(iceberg_maintenance=IcebergMaintenance(snapshots_to_retain=count))


def test_one_day_and_one_snapshot_are_accepted():
    args = arguments(iceberg(iceberg_maintenance=IcebergMaintenance(
        snapshot_retention_period=Duration.hours(24), snapshots_to_retain=1,
        orphan_file_retention_period=Duration.days(1)))[2])
    assert (args["--iceberg_snapshot_retention_days"], args["--iceberg_snapshots_to_retain"],
            args["--iceberg_orphan_file_retention_days"]) == ("1", "1", "1")


def test_token_maintenance_settings_skip_validation():
    stack = new_stack()
    days = CfnParameter(stack, "Days", type="Number").value_as_number
    count = CfnParameter(stack, "Snapshots", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Lake", table_format=TableFormat.ICEBERG, iceberg_maintenance=IcebergMaintenance(
        snapshot_retention_period=Duration.days(days), snapshots_to_retain=count,
        orphan_file_retention_period=Duration.days(days)))
    args = arguments(template_of(stack))
    assert args["--iceberg_snapshot_retention_days"] == {"Ref": "Days"}
    assert args["--iceberg_snapshots_to_retain"] == {"Ref": "Snapshots"}
    assert args["--iceberg_orphan_file_retention_days"] == {"Ref": "Days"}


# ---- warnings ---------------------------------------------------------------------------------------

def test_clean_iceberg_pipeline_has_no_warning(lake):
    assert our_warnings(lake[0]) == []


def test_iceberg_maintenance_with_parquet_warns_and_creates_nothing():
    stack, pipeline, template = build(iceberg_maintenance=IcebergMaintenance(compaction=False))
    assert our_warnings(stack) == [
        "'icebergMaintenance' has no effect with 'tableFormat' PARQUET: table optimizers maintain Iceberg tables only. "
        "Use TableFormat.ICEBERG, or drop it [ack: cdk-event-driven-glue-workflow:icebergMaintenanceWithParquet]"]
    assert OPTIMIZER_ARGUMENTS & set(arguments(template)) == set()
    assert pipeline.iceberg_optimizer_role is None


@pytest.mark.parametrize("maintenance, setting, optimizer", [
    (IcebergMaintenance(snapshot_retention=False, snapshot_retention_period=Duration.days(7)),
     "snapshotRetentionPeriod", "snapshotRetention"),
    (IcebergMaintenance(snapshot_retention=False, snapshots_to_retain=2), "snapshotsToRetain", "snapshotRetention"),
    (IcebergMaintenance(orphan_file_deletion=False, orphan_file_retention_period=Duration.days(7)),
     "orphanFileRetentionPeriod", "orphanFileDeletion"),
])
def test_setting_of_a_disabled_optimizer_warns(maintenance, setting, optimizer):
    stack, _, _ = iceberg(iceberg_maintenance=maintenance)
    short_id = f"{optimizer}OffIgnores{setting[0].upper()}{setting[1:]}"
    assert our_warnings(stack) == [
        f"'icebergMaintenance.{setting}' has no effect with 'icebergMaintenance.{optimizer}' false "
        f"[ack: cdk-event-driven-glue-workflow:{short_id}]"]


def test_settings_of_enabled_optimizers_do_not_warn():
    stack, _, _ = iceberg(iceberg_maintenance=IcebergMaintenance(
        snapshot_retention_period=Duration.days(7), snapshots_to_retain=2, orphan_file_retention_period=Duration.days(7)))
    assert our_warnings(stack) == []


def test_own_job_ignores_the_table_format_with_a_warning():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Lake", table_format=TableFormat.ICEBERG,
                            job=glue.Job.from_job_attributes(stack, "Job", job_name="j"))
    assert our_warnings(stack) == [
        "'tableFormat' has no effect with your own 'job': only the default ParquetConversionJob uses it "
        "[ack: cdk-event-driven-glue-workflow:ownJobIgnoresTableFormat]"]
    assert [k for k in resources_of_type(template_of(stack), "AWS::IAM::Role") if "IcebergOptimizer" in k] == []

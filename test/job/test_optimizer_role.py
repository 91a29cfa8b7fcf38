"""The Iceberg table optimizers' role, under enforcement: what it grants is what they need.

The Data Catalog's optimizers run in Glue's service, which this machine does not have. What
they do is Iceberg's own maintenance: compaction rewrites data files and commits a
snapshot, snapshot retention expires snapshots and deletes the files only they reference.
Here that work runs through Iceberg's procedures (``rewrite_data_files``,
``expire_snapshots``) on the job's table, with the JVM's AWS clients (GlueCatalog, S3FileIO)
acting as an IAM user holding the ``IcebergOptimizerRole`` policy of a synthesized pipeline,
with IAM enforced. The negative control takes ``s3:PutObject`` out: compaction is refused.
"""
import pytest
from aws_cdk import App, Stack

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, TableFormat
from cdk_event_driven_glue_workflow_tools import sparkconf
from cdk_event_driven_glue_workflow_tools.policy import resolve_policy, without_conditions
from job_helpers import jsonl, run_job

pytestmark = pytest.mark.parametrize("table_format", ["ICEBERG"], indirect=True)


def optimizer_policy(lake, local_aws, drop_action=None):
    """The optimizer role's policy of a pipeline whose table is this test's (bucket, database, table)."""
    app = App()
    stack = Stack(app, "Optimizers")
    EventDrivenGlueWorkflow(stack, "Events", table_format=TableFormat.ICEBERG, table_name="events",
                            output_prefix="parquet/")
    template = app.synth().get_stack_by_name("Optimizers").template
    resources = template["Resources"]
    [role] = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role" and "IcebergOptimizerRole" in k]
    [bucket] = [k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket" and k.startswith("EventsBucket")]
    [database] = [k for k, r in resources.items() if r["Type"] == "AWS::Glue::Database"]
    names = {bucket: lake.bucket, database: lake.iceberg["database"],
             **{k: k.lower() for k in resources if k not in (bucket, database)}}
    policy, _ = without_conditions(resolve_policy(template, role, names, region=local_aws.region,
                                                  account_id=local_aws.account_id))
    if drop_action:
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            statement["Action"] = [a for a in actions if a != drop_action]
    return policy


def _table_with_small_files(spark, lake):
    for i in range(3):
        run_job(spark, lake.args(input_files=lake.put("in/%d.jsonl" % i, jsonl([{"id": i}]))["uri"]))
    return len(spark.table(lake.table_ident + ".files").collect())


def _as(spark, local_aws, credentials):
    sparkconf.jvm_aws_credentials(spark, credentials.access_key_id, credentials.secret_access_key, local_aws.region)


def test_the_optimizer_role_may_compact_and_expire_snapshots(spark, lake, local_aws):
    assert _table_with_small_files(spark, lake) == 3
    optimizer = local_aws.principal("optimizer-%s" % lake.bucket[-8:], optimizer_policy(lake, local_aws))
    identifier = "%s.`%s`.events" % (lake.iceberg["catalog"], lake.iceberg["database"])
    try:
        _as(spark, local_aws, optimizer)
        with local_aws.enforcing():
            spark.sql("CALL %s.system.rewrite_data_files(table => '%s.events', options => map('min-input-files', '2'))"
                      % (lake.iceberg["catalog"], lake.iceberg["database"])).collect()
            spark.sql("CALL %s.system.expire_snapshots(table => '%s.events', retain_last => 1, "
                      "older_than => TIMESTAMP '2999-01-01 00:00:00')"
                      % (lake.iceberg["catalog"], lake.iceberg["database"])).collect()
    finally:
        _as(spark, local_aws, local_aws_admin(local_aws))
    assert len(spark.table(identifier + ".files").collect()) == 1
    assert len(spark.table(identifier + ".snapshots").collect()) == 1
    assert sorted(r["id"] for r in spark.table(identifier).collect()) == [0, 1, 2]


def test_negative_control_without_put_object_compaction_is_refused(spark, lake, local_aws):
    _table_with_small_files(spark, lake)
    denied = local_aws.principal("optimizer-noput-%s" % lake.bucket[-8:],
                                 optimizer_policy(lake, local_aws, drop_action="s3:PutObject"))
    try:
        _as(spark, local_aws, denied)
        with local_aws.enforcing():
            with pytest.raises(Exception, match=r"403|AccessDenied|Access Denied"):
                spark.sql("CALL %s.system.rewrite_data_files(table => '%s.events', options => map('min-input-files', "
                          "'2'))" % (lake.iceberg["catalog"], lake.iceberg["database"])).collect()
    finally:
        _as(spark, local_aws, local_aws_admin(local_aws))
    assert len(spark.table(lake.table_ident + ".files").collect()) == 3  # nothing was committed


def local_aws_admin(local_aws):
    """The keys the suite's Spark uses when no test acts as someone else."""
    import os

    from cdk_event_driven_glue_workflow_tools.localaws import Credentials

    return Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])

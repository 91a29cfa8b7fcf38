"""No silent misconfiguration: props that would have no effect, or work against each other, give a synth
warning naming the prop and why; combinations that cannot work are errors. Plus the rejected-rows signal."""
import inspect
import re

import pytest
from aws_cdk import CfnParameter, Duration, Size
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match

from cdk_event_driven_glue_workflow import (
    BucketEncryptionMode,
    CsvOptions,
    EventDrivenGlueWorkflow,
    EventSource,
    IcebergMaintenance,
    InputFormat,
    ParquetConversionOptions,
    RowRule,
    TableFormat,
    Transform,
)
from cdk_helpers import new_stack, only_resource, resources_of_type, template_of

PREFIX = "cdk-event-driven-glue-workflow"


def own_job(stack):
    return glue.Job.from_job_attributes(stack, "ExistingJob", job_name="existing-job")


def warnings_of(**props):
    """Every warning of a pipeline built from `props`; a callable value gets the stack."""
    stack = new_stack()
    resolved = {k: (v(stack) if callable(v) else v) for k, v in props.items()}
    EventDrivenGlueWorkflow(stack, "Products", **resolved)
    return [w.entry.data for w in Annotations.from_stack(stack).find_warning("*", Match.any_value())]


def expected(short_id, message):
    return f"{message} [ack: {PREFIX}:{short_id}]"


# ---- clean pipelines warn about nothing ------------------------------------------------

@pytest.mark.parametrize("props", [
    {},
    {"event_source": EventSource.cloud_trail()},
    {"bucket_encryption": BucketEncryptionMode.KMS},
    {"job": own_job},
    {"job": own_job, "event_ledger": True},
    {"input_prefix": "data/raw/", "input_suffixes": [".json", ".json.gz"], "input_format": InputFormat.JSON},
    {"table_format": TableFormat.ICEBERG},
    {"table_format": TableFormat.ICEBERG, "bucket_encryption": BucketEncryptionMode.KMS},
], ids=["default", "cloudtrail", "kms", "own-job", "own-job-with-ledger", "json-with-json-suffixes", "iceberg",
        "iceberg-kms"])
def test_clean_pipeline_has_no_warning(props):
    assert warnings_of(**props) == []


def test_clean_default_warning_check_can_fail():
    """Control: the helper above does see a warning when there is one."""
    assert len(warnings_of(input_prefix="data")) == 1


# ---- your own job ---------------------------------------------------------------------

DEFAULT_JOB_ONLY = {
    "inputFormat": ("input_format", InputFormat.CSV),
    "csvOptions": ("csv_options", CsvOptions(delimiter=";")),
    "outputPrefix": ("output_prefix", "curated/"),
    "rejectedPrefix": ("rejected_prefix", "bad/"),
    "statsPrefix": ("stats_prefix", "metrics/"),
    "statePrefix": ("state_prefix", "_state/"),
    "columnTypes": ("column_types", {"amount": "decimal(12,2)"}),
    "transform": ("transform", Transform.sql("SELECT * FROM input")),
    "rowRules": ("row_rules", [RowRule.not_null("id")]),
    "database": ("database", lambda stack: glue.Database.from_database_arn(
        stack, "Db", "arn:aws:glue:eu-west-1:123456789012:database/analytics")),
    "tableName": ("table_name", "items"),
    "partitionColumns": ("partition_columns", ["region"]),
    "tableFormat": ("table_format", TableFormat.ICEBERG),
    "icebergMaintenance": ("iceberg_maintenance", IcebergMaintenance(compaction=False)),
    "workerType": ("worker_type", glue.WorkerType.G_2X),
    "numberOfWorkers": ("number_of_workers", 4),
    "executionClass": ("execution_class", glue.ExecutionClass.FLEX),
    "glueVersion": ("glue_version", glue.GlueVersion.V5_0),
    "jobName": ("job_name", "convert"),
    "jobMaxRetries": ("job_max_retries", 0),
    "jobRunQueuing": ("job_run_queuing", True),
    "maxFilesPerRun": ("max_files_per_run", 10),
    "targetFileSize": ("target_file_size", Size.mebibytes(64)),
    "drainTimeBudget": ("drain_time_budget", Duration.minutes(10)),
    "ledgerMaxMessageAge": ("ledger_max_message_age", Duration.days(2)),
}


@pytest.mark.parametrize("prop", sorted(DEFAULT_JOB_ONLY))
def test_default_job_option_with_own_job_warns(prop):
    python_name, value = DEFAULT_JOB_ONLY[prop]
    short_id = "ownJobIgnores" + prop[0].upper() + prop[1:]
    message = f"'{prop}' has no effect with your own 'job': only the default ParquetConversionJob uses it"
    assert warnings_of(job=own_job, **{python_name: value}) == [expected(short_id, message)]


def test_every_default_job_option_is_covered():
    """Each option of ParquetConversionOptions is tested above, or (jobTimeout) below."""
    options = [p for p in inspect.signature(ParquetConversionOptions.__init__).parameters if p != "self"]
    camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in options}
    assert camel == set(DEFAULT_JOB_ONLY) | {"jobTimeout"}


def test_job_timeout_with_own_job_and_no_ledger_warns():
    message = ("'jobTimeout' has no effect with your own 'job' and no event ledger: only the default "
               "ParquetConversionJob and the ledger's visibility timeout use it")
    assert warnings_of(job=own_job, job_timeout=Duration.minutes(30)) == [expected("ownJobIgnoresJobTimeout", message)]


def test_job_timeout_with_own_job_and_ledger_sets_the_visibility_timeout_without_warning():
    assert warnings_of(job=own_job, event_ledger=True, job_timeout=Duration.minutes(30)) == []


def test_encryption_key_with_own_job_warns():
    message = ("'encryptionKey' has no effect here: only the default ParquetConversionJob and a bucket the "
               "construct creates with 'bucketEncryption' KMS use it")
    key = lambda stack: kms.Key(stack, "MyKey", enable_key_rotation=True)  # noqa: E731
    assert warnings_of(job=own_job, encryption_key=key) == [expected("encryptionKeyUnused", message)]


def test_encryption_key_with_own_job_and_kms_bucket_is_used_without_warning():
    key = lambda stack: kms.Key(stack, "MyKey", enable_key_rotation=True)  # noqa: E731
    assert warnings_of(job=own_job, encryption_key=key, bucket_encryption=BucketEncryptionMode.KMS) == []


def test_rejected_rows_threshold_with_own_job_warns():
    message = ("'rejectedRowsAlarmThreshold' has no effect with your own 'job': only the default "
               "ParquetConversionJob publishes the RejectedRowsPercent metric")
    assert warnings_of(job=own_job, rejected_rows_alarm_threshold=10) == [
        expected("ownJobIgnoresRejectedRowsAlarmThreshold", message)]


# ---- your own bucket --------------------------------------------------------------------

@pytest.mark.parametrize("prop, python_name, value", [
    ("bucketEncryption", "bucket_encryption", BucketEncryptionMode.KMS),
    ("serverAccessLogs", "server_access_logs", False),
    ("versioned", "versioned", True),
])
def test_created_bucket_option_with_own_bucket_warns(prop, python_name, value):
    bucket = lambda stack: s3.Bucket(stack, "Landing")  # noqa: E731  (a bucket of the app: no import warning)
    message = f"'{prop}' has no effect with your own 'bucket': it configures only a bucket the construct creates"
    short_id = "ownBucketIgnores" + prop[0].upper() + prop[1:]
    assert warnings_of(bucket=bucket, **{python_name: value}) == [expected(short_id, message)]


# ---- features that are off --------------------------------------------------------------

@pytest.mark.parametrize("prop, python_name, value", [
    ("ledgerMaxReceiveCount", "ledger_max_receive_count", 5),
    ("ledgerSweep", "ledger_sweep", True),
    ("ledgerSweepAfter", "ledger_sweep_after", Duration.hours(1)),
    ("ledgerSweepReArmInterval", "ledger_sweep_re_arm_interval", Duration.hours(2)),
])
def test_ledger_option_without_ledger_warns(prop, python_name, value):
    message = f"'{prop}' has no effect without the event ledger: it is off with your own 'job' unless 'eventLedger' is true"
    short_id = "noLedgerIgnores" + prop[0].upper() + prop[1:]
    assert warnings_of(job=own_job, **{python_name: value}) == [expected(short_id, message)]


def test_sweep_after_with_sweep_off_warns():
    message = "'ledgerSweepAfter' has no effect with 'ledgerSweep' false"
    assert warnings_of(ledger_sweep=False, ledger_sweep_after=Duration.hours(1)) == [
        expected("sweepOffIgnoresLedgerSweepAfter", message)]


def test_rearm_interval_with_sweep_off_warns():
    message = "'ledgerSweepReArmInterval' has no effect with 'ledgerSweep' false"
    assert warnings_of(ledger_sweep=False, ledger_sweep_re_arm_interval=Duration.hours(2)) == [
        expected("sweepOffIgnoresLedgerSweepReArmInterval", message)]


def test_rearm_interval_with_the_sweep_on_does_not_warn():
    assert warnings_of(ledger_sweep_re_arm_interval=Duration.minutes(30)) == []


def test_sweep_sooner_than_the_batch_window_warns():
    message = ("'ledgerSweepAfter' (300 seconds) is shorter than 'batchWindow' (900 seconds): the sweep would notify "
               "the workflow while a batch is still filling. Use at least the batch window")
    assert warnings_of(ledger_sweep_after=Duration.minutes(5)) == [expected("sweepBeforeBatchWindow", message)]


def test_sweep_equal_to_the_batch_window_is_fine():
    assert warnings_of(ledger_sweep_after=Duration.minutes(15)) == []


def test_alarm_topic_with_alarms_off_warns():
    message = "'alarmTopic' has no effect with 'alarms' false: no alarm is created to notify it"
    topic = lambda stack: sns.Topic(stack, "Alerts")  # noqa: E731
    assert warnings_of(alarms=False, alarm_topic=topic) == [expected("alarmTopicWithoutAlarms", message)]


def test_rejected_rows_threshold_with_alarms_off_warns():
    message = "'rejectedRowsAlarmThreshold' has no effect with 'alarms' false: no alarm is created"
    assert warnings_of(alarms=False, rejected_rows_alarm_threshold=10) == [
        expected("alarmsOffIgnoresRejectedRowsAlarmThreshold", message)]


# ---- input format and key filter -------------------------------------------------------

@pytest.mark.parametrize("fmt, suffixes, listed", [
    (InputFormat.JSON, [".json", ".csv"], '".csv"'),
    (InputFormat.JSON, [".CSV.GZ"], '".CSV.GZ"'),
    (InputFormat.CSV, [".csv", ".jsonl", ".ndjson.gz"], '".jsonl", ".ndjson.gz"'),
    (InputFormat.CSV, [".Json"], '".Json"'),
])
def test_explicit_format_contradicting_a_suffix_warns(fmt, suffixes, listed):
    name = fmt.value
    message = (f"'inputFormat' is {name} but 'inputSuffixes' has {listed}: those files would be parsed as {name}. "
               "Use InputFormat.AUTO to decide per file, or drop those suffixes")
    assert warnings_of(input_format=fmt, input_suffixes=suffixes) == [expected("inputFormatContradictsSuffixes", message)]


@pytest.mark.parametrize("props", [
    {"input_format": InputFormat.AUTO, "input_suffixes": [".csv", ".json"]},
    {"input_suffixes": [".csv"]},
    {"input_format": InputFormat.CSV, "input_suffixes": [".csv", ".txt"]},
    {"input_format": InputFormat.JSON},
], ids=["auto", "default-format", "csv-with-csv", "no-suffixes"])
def test_format_agreeing_with_suffixes_does_not_warn(props):
    assert warnings_of(**props) == []


def test_input_prefix_without_slash_warns_with_an_example():
    message = ("'inputPrefix' (\"data/raw\") does not end in '/': it also matches keys such as "
               "\"data/raw-old/file.json\". End it with '/' to match one folder only")
    assert warnings_of(input_prefix="data/raw") == [expected("inputPrefixWithoutSlash", message)]


def test_empty_input_prefix_does_not_warn_about_the_slash():
    assert warnings_of(job=own_job, input_prefix="") == []


def test_token_input_prefix_skips_the_check():
    stack = new_stack()
    prefix = CfnParameter(stack, "Prefix").value_as_string
    EventDrivenGlueWorkflow(stack, "Products", job=own_job(stack), input_prefix=prefix)
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []


# ---- combinations that cannot work ---------------------------------------------------------

def test_default_job_without_ledger_raises():
    message = ("'eventLedger' cannot be false with the default job: the ParquetConversionJob learns which files are "
               "new only from the ledger, so nothing would ever be converted. Keep the ledger, or bring your own 'job'")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        EventDrivenGlueWorkflow(new_stack(), "Products", event_ledger=False)


# ---- rejected rows ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default():
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products")
    return stack, pipeline, template_of(stack)


def rejected_rows_alarm(template):
    found = {k: v for k, v in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
             if k.startswith("ProductsRejectedRowsAlarm")}
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))["Properties"]


def test_rejected_rows_alarm_watches_the_jobs_rejected_percentage(default):
    _, _, template = default
    job = only_resource(template, "AWS::Glue::Job")[0]
    props = rejected_rows_alarm(template)
    assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == (
        "EventDrivenGlueWorkflow", "RejectedRowsPercent", "Maximum", 300)
    assert props["Dimensions"] == [{"Name": "JobName", "Value": {"Ref": job}}]
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["EvaluationPeriods"] == 1
    assert props["TreatMissingData"] == "notBreaching"


def test_rejected_rows_threshold_defaults_to_5_percent(default):
    assert rejected_rows_alarm(default[2])["Threshold"] == 5


def test_rejected_rows_alarm_is_one_of_the_alarms(default):
    _, pipeline, _ = default
    assert "Test/Products/RejectedRowsAlarm" in [a.node.path for a in pipeline.alarms]


def test_rejected_rows_alarm_notifies_the_topic():
    stack = new_stack()
    topic = sns.Topic(stack, "Alerts")
    EventDrivenGlueWorkflow(stack, "Products", alarm_topic=topic)
    template = template_of(stack)
    assert rejected_rows_alarm(template)["AlarmActions"] == [{"Ref": only_resource(template, "AWS::SNS::Topic")[0]}]


@pytest.mark.parametrize("threshold", [0, 12.5, 100])
def test_rejected_rows_threshold_override(threshold):
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", rejected_rows_alarm_threshold=threshold)
    assert rejected_rows_alarm(template_of(stack))["Threshold"] == threshold


@pytest.mark.parametrize("threshold", [-1, 100.5])
def test_rejected_rows_threshold_outside_0_to_100_raises(threshold):
    message = f"'rejectedRowsAlarmThreshold' must be a percentage between 0 and 100, got: {threshold}"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        EventDrivenGlueWorkflow(new_stack(), "Products", rejected_rows_alarm_threshold=threshold)


def test_token_rejected_rows_threshold_skips_validation():
    stack = new_stack()
    threshold = CfnParameter(stack, "Threshold", type="Number").value_as_number
    EventDrivenGlueWorkflow(stack, "Products", rejected_rows_alarm_threshold=threshold)
    assert rejected_rows_alarm(template_of(stack))["Threshold"] == {"Ref": "Threshold"}


def test_no_rejected_rows_alarm_with_own_job():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", job=own_job(stack))
    assert [k for k in resources_of_type(template_of(stack), "AWS::CloudWatch::Alarm") if "RejectedRows" in k] == []


def test_no_rejected_rows_alarm_with_alarms_off():
    stack = new_stack()
    EventDrivenGlueWorkflow(stack, "Products", alarms=False)
    assert [k for k in resources_of_type(template_of(stack), "AWS::CloudWatch::Alarm") if "RejectedRows" in k] == []


@pytest.mark.parametrize("method, name, statistic", [
    ("metric_rejected_rows_percent", "RejectedRowsPercent", "Maximum"),
    ("metric_rows_rejected", "RowsRejected", "Sum"),
])
def test_row_metric_helpers(default, method, name, statistic):
    _, pipeline, _ = default
    metric = getattr(pipeline, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("EventDrivenGlueWorkflow", name, statistic)
    assert metric.period.to_seconds() == 300
    assert list(metric.dimensions) == ["JobName"]


def test_row_metric_helper_accepts_overrides(default):
    _, pipeline, _ = default
    metric = pipeline.metric_rows_rejected(period=Duration.hours(1), statistic="Maximum")
    assert (metric.period.to_seconds(), metric.statistic) == (3600, "Maximum")


@pytest.mark.parametrize("method, js_name", [
    ("metric_rejected_rows_percent", "metricRejectedRowsPercent"),
    ("metric_rows_rejected", "metricRowsRejected"),
])
def test_row_metric_helpers_with_own_job_raise(method, js_name):
    stack = new_stack()
    pipeline = EventDrivenGlueWorkflow(stack, "Products", job=own_job(stack))
    message = f"{js_name}() needs the default conversion job; with your own `job`, publish and read your own metrics"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        getattr(pipeline, method)()

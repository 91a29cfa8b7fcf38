"""No file waits for a later upload: a failing run cleans up, a run hands over
through the sweep alarm, old messages are parked in the DLQ, never expired."""
import json
import os

import pytest

from glue_ingest.faults import InjectedFailure
from job_helpers import eb_event, jsonl, queue_depth, run_job, send

SWEEP = "ledger-sweep"


def _clients(aws):
    return {"sqs": aws["sqs"], "glue": aws["glue"], "cloudwatch": aws["cloudwatch"]}


def _run(spark, lake, aws, fail_at=None, **extra):
    extra.setdefault("visibility_timeout_seconds", 600)
    args = lake.args(ledger_queue_url=aws["queue_url"], **extra)
    if fail_at:
        args["fail_at"] = fail_at
    return run_job(spark, args, clients=_clients(aws))


def _ids(lake):
    return sorted(r["id"] for r in lake.output_rows())


def _files_under(lake, uri):
    return lake.keys(uri)


@pytest.mark.parametrize("point", ["after_read", "mid_write", "after_write", "after_catalog"])
def test_a_failing_run_rolls_back_and_releases_its_messages_at_once(spark, lake, aws, point):
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i, "pad": "x" * 300}])) for i in range(4)]
    send(aws, *[eb_event(o) for o in objs])
    with pytest.raises(InjectedFailure):
        _run(spark, lake, aws, fail_at=point, target_file_size_mb="0.0001")
    assert queue_depth(aws) == (4, 0)          # visible now, not after the 600 s lease
    assert lake.output_files() == []           # its published files are gone
    assert _files_under(lake, lake.state + "pending/") == []
    assert _files_under(lake, lake.state + "staging/") == []
    stats = _run(spark, lake, aws)             # Glue's retry: nothing is taken for in flight
    assert stats["recovered_runs"] == {"rolled_back": [], "finalized": [], "in_flight": []}
    assert _ids(lake) == [0, 1, 2, 3]
    assert queue_depth(aws) == (0, 0)


def test_a_failure_after_the_commit_keeps_the_committed_output(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    send(aws, eb_event(obj))
    with pytest.raises(InjectedFailure):
        _run(spark, lake, aws, fail_at="after_commit")
    assert _ids(lake) == [1]
    stats = _run(spark, lake, aws)
    assert [f["status"] for f in stats["files"]] == ["skipped_duplicate"]
    assert _ids(lake) == [1]
    assert queue_depth(aws) == (0, 0)


def _sweep_alarm(aws):
    aws["cloudwatch"].put_metric_alarm(
        AlarmName=SWEEP, Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1800,
        ComparisonOperator="GreaterThanOrEqualToThreshold")


def _record_state_changes(aws):
    """The SetAlarmState calls the job makes, in order (moto keeps no alarm history)."""
    calls = []
    aws["cloudwatch"].meta.events.register(
        "provide-client-params.cloudwatch.SetAlarmState",
        lambda params, **_: calls.append((params["AlarmName"], params["StateValue"])))
    return calls


def test_a_run_that_spends_its_budget_hands_over_through_the_sweep_alarm(spark, lake, aws):
    _sweep_alarm(aws)
    calls = _record_state_changes(aws)
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i}])) for i in range(3)]
    send(aws, *[eb_event(o) for o in objs])
    stats = _run(spark, lake, aws, max_files_per_run=2, drain_time_budget_seconds=0, sweep_alarm_name=SWEEP,
                 sweep_after_seconds=1800)
    assert stats["messages_waiting_at_end"] == 1
    state = aws["cloudwatch"].describe_alarms(AlarmNames=[SWEEP])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    assert calls == [(SWEEP, "OK"), (SWEEP, "ALARM")]


def test_messages_already_older_than_the_sweep_threshold_are_left_to_the_alarm_s_evaluation(spark, lake, aws):
    """Had the run set ALARM itself and that notification been lost, an alarm whose metric
    still breaches would stay in ALARM for good; re-armed, CloudWatch makes the transition."""
    _sweep_alarm(aws)
    calls = _record_state_changes(aws)
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i}])) for i in range(3)]
    send(aws, *[eb_event(o) for o in objs])
    stats = _run(spark, lake, aws, max_files_per_run=2, drain_time_budget_seconds=0, sweep_alarm_name=SWEEP,
                 sweep_after_seconds=0)
    assert stats["messages_waiting_at_end"] == 1
    assert calls == [(SWEEP, "OK")]


def test_a_run_that_drains_the_ledger_re_arms_the_sweep_alarm(spark, lake, aws):
    _sweep_alarm(aws)
    aws["cloudwatch"].set_alarm_state(AlarmName=SWEEP, StateValue="ALARM", StateReason="old message")
    send(aws, eb_event(lake.put("in/a.jsonl", jsonl([{"id": 1}]))))
    stats = _run(spark, lake, aws, sweep_alarm_name=SWEEP)
    assert stats["messages_waiting_at_end"] == 0
    assert aws["cloudwatch"].describe_alarms(AlarmNames=[SWEEP])["MetricAlarms"][0]["StateValue"] == "OK"


def test_a_failing_run_hands_over_too(spark, lake, aws):
    _sweep_alarm(aws)
    send(aws, eb_event(lake.put("in/a.jsonl", jsonl([{"id": 1}]))))
    with pytest.raises(InjectedFailure):
        _run(spark, lake, aws, fail_at="after_write", sweep_alarm_name=SWEEP, sweep_after_seconds=1800)
    assert aws["cloudwatch"].describe_alarms(AlarmNames=[SWEEP])["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_a_message_older_than_the_maximum_age_is_parked_in_the_dlq_with_its_reason(spark, lake, aws):
    good = lake.put("in/good.jsonl", jsonl([{"id": 1}]))
    ghost = {"bucket": good["bucket"], "key": "in/ghost.jsonl", "etag": "0" * 32, "size": 9}
    send(aws, eb_event(good), eb_event(ghost))
    stats = _run(spark, lake, aws, ledger_dlq_url=aws["dlq_url"], ledger_max_age_seconds=0)
    assert [p["reason"] for p in stats["messages_parked"]] == [
        stats["messages_parked"][0]["reason"]]
    assert "in/ghost.jsonl: object not found (failed)" in stats["messages_parked"][0]["reason"]
    assert queue_depth(aws) == (0, 0)
    [parked] = aws["sqs"].receive_message(QueueUrl=aws["dlq_url"], MessageAttributeNames=["All"])["Messages"]
    assert json.loads(parked["Body"])["detail"]["object"]["key"] == "in/ghost.jsonl"
    assert "longer than the ledger's maximum age" in parked["MessageAttributes"]["reason"]["StringValue"]
    assert _ids(lake) == [1]


def test_a_young_failing_message_is_not_parked(spark, lake, aws):
    ghost = {"bucket": lake.raw_bucket, "key": "in/ghost.jsonl", "etag": "0" * 32, "size": 9}
    send(aws, eb_event(ghost))
    stats = _run(spark, lake, aws, ledger_dlq_url=aws["dlq_url"])
    assert stats["messages_parked"] == []
    assert queue_depth(aws) == (0, 1)
    assert queue_depth(aws, aws["dlq_url"]) == (0, 0)


def test_row_metrics_are_published_per_round(spark, lake, aws):
    obj = lake.put("in/a.jsonl", '{"id": 1}\n{"id": 2}\n{"id": 3}\nnot json\n')
    send(aws, eb_event(obj))
    # The endpoint is shared by the whole session: this run's metrics are those of its job name.
    job = "orders-job-" + lake.bucket
    _run(spark, lake, aws, metrics_namespace="EventDrivenGlueWorkflow", JOB_NAME=job)
    metrics = aws["cloudwatch"].list_metrics(Namespace="EventDrivenGlueWorkflow")["Metrics"]
    mine = [m for m in metrics if {"Name": "JobName", "Value": job} in m.get("Dimensions", [])]
    assert {m["MetricName"] for m in mine} == {
        "RowsIn", "RowsOut", "RowsRejected", "RowsFiltered", "RejectedRowsPercent", "FilesFailed",
        "FilesQuarantined"}
    assert all(m["Dimensions"] == [{"Name": "JobName", "Value": job}] for m in mine)
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    points = aws["cloudwatch"].get_metric_statistics(
        Namespace="EventDrivenGlueWorkflow", MetricName="RejectedRowsPercent",
        Dimensions=[{"Name": "JobName", "Value": job}], StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(hours=1), Period=60, Statistics=["Maximum"])["Datapoints"]
    assert [p["Maximum"] for p in points] == [25.0]

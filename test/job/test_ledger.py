"""Ledger mode: the SQS event ledger drives the run; acks follow the commit."""
import json
import time

import pytest

from glue_ingest.faults import SimulatedCrash
from job_helpers import cloudtrail_event, eb_event, jsonl, queue_depth, run_job, send


def _run(spark, lake, aws, crash_at=None, **extra):
    extra.setdefault("visibility_timeout_seconds", 30)
    args = lake.args(ledger_queue_url=aws["queue_url"], **extra)
    return run_job(spark, args, crash_at=crash_at, clients={"sqs": aws["sqs"], "glue": aws["glue"]})


def _ids(lake):
    return sorted(r["id"] for r in lake.output_rows())


def test_duplicate_events_for_one_object_are_ingested_once_and_all_acked(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}, {"id": 2}]))
    send(aws, eb_event(obj, "e1"), eb_event(obj, "e2"), cloudtrail_event(obj))
    stats = _run(spark, lake, aws)
    assert _ids(lake) == [1, 2]
    assert [(f["uri"], f["status"], f["rows_in"]) for f in stats["files"]] == [(obj["uri"], "ok", 2)]
    assert stats["messages_received"] == 3
    assert queue_depth(aws) == (0, 0)


def test_cloudtrail_event_gets_the_etag_from_the_object(spark, lake, aws):
    obj = lake.put("in/ct.jsonl", jsonl([{"id": 5}]))
    send(aws, cloudtrail_event(obj, "CompleteMultipartUpload"))
    stats = _run(spark, lake, aws)
    assert stats["files"][0]["etag"] == obj["etag"]
    assert _ids(lake) == [5]


def test_messages_are_not_deleted_before_the_commit(spark, lake, aws):
    a = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    b = lake.put("in/b.jsonl", jsonl([{"id": 2}]))
    send(aws, eb_event(a), eb_event(b))
    with pytest.raises(SimulatedCrash):
        _run(spark, lake, aws, crash_at="after_catalog", visibility_timeout_seconds=2)
    assert queue_depth(aws) == (0, 2)
    time.sleep(2.2)
    stats = _run(spark, lake, aws, visibility_timeout_seconds=2)
    assert _ids(lake) == [1, 2]
    assert stats["recovered_runs"]["rolled_back"] != []
    assert queue_depth(aws) == (0, 0)


def test_message_of_committed_object_is_deleted_without_reprocessing(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    send(aws, eb_event(obj))
    with pytest.raises(SimulatedCrash):
        _run(spark, lake, aws, crash_at="after_commit", visibility_timeout_seconds=2)
    assert queue_depth(aws) == (0, 1)
    time.sleep(2.2)
    stats = _run(spark, lake, aws, visibility_timeout_seconds=2)
    assert [f["status"] for f in stats["files"]] == ["skipped_duplicate"]
    assert stats["rows_in"] == 0 and stats["output_files"] == 0
    assert _ids(lake) == [1]
    assert queue_depth(aws) == (0, 0)


def test_failed_file_keeps_its_message_while_others_are_acked(spark, lake, aws):
    good = lake.put("in/good.jsonl", jsonl([{"id": 1}]))
    ghost = {"bucket": good["bucket"], "key": "in/ghost.jsonl", "etag": "0" * 32, "size": 9}
    send(aws, eb_event(good), eb_event(ghost))
    stats = _run(spark, lake, aws, visibility_timeout_seconds=1)
    status = {f["key"]: (f["status"], f["reason"]) for f in stats["files"]}
    assert status == {"in/good.jsonl": ("ok", None), "in/ghost.jsonl": ("failed", "object not found")}
    assert _ids(lake) == [1]
    time.sleep(1.2)
    left = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail"]["object"]["key"] for m in left] == ["in/ghost.jsonl"]


def test_failing_message_moves_to_the_dlq_after_three_receives(spark, lake, aws):
    ghost = {"bucket": lake.raw_bucket, "key": "in/ghost.jsonl", "etag": "0" * 32, "size": 9}
    send(aws, eb_event(ghost))
    for _ in range(3):
        stats = _run(spark, lake, aws, visibility_timeout_seconds=1)
        assert [f["status"] for f in stats["files"]] == ["failed"]
        time.sleep(1.1)
    stats = _run(spark, lake, aws, visibility_timeout_seconds=1)
    assert stats["files"] == []
    assert queue_depth(aws, aws["dlq_url"]) == (1, 0)


def test_reupload_with_new_etag_is_ingested_again(spark, lake, aws):
    v1 = lake.put("in/data.jsonl", jsonl([{"id": 1, "v": "one"}]))
    send(aws, eb_event(v1))
    _run(spark, lake, aws)
    v2 = lake.put("in/data.jsonl", jsonl([{"id": 1, "v": "two"}, {"id": 2, "v": "two"}]))
    assert v2["etag"] != v1["etag"]
    send(aws, eb_event(v2), eb_event(v1))
    stats = _run(spark, lake, aws)
    status = sorted((f["etag"], f["status"]) for f in stats["files"])
    assert status == sorted([(v2["etag"], "ok"), (v1["etag"], "skipped_duplicate")])
    assert sorted((r["id"], r["v"]) for r in lake.output_rows()) == [(1, "one"), (1, "two"), (2, "two")]


def test_event_for_overwritten_object_is_skipped_as_superseded(spark, lake, aws):
    v1 = lake.put("in/data.jsonl", jsonl([{"id": 1}]))
    v2 = lake.put("in/data.jsonl", jsonl([{"id": 2}]))
    send(aws, eb_event(v1))
    stats = _run(spark, lake, aws)
    assert [f["status"] for f in stats["files"]] == ["skipped_superseded"]
    assert lake.output_rows() == []
    assert queue_depth(aws) == (0, 0)
    send(aws, eb_event(v2))
    _run(spark, lake, aws)
    assert _ids(lake) == [2]


def test_late_notification_is_caught_up_by_the_next_run(spark, lake, aws):
    a = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    b = lake.put("in/b.jsonl", jsonl([{"id": 2}]))
    send(aws, eb_event(a))
    _run(spark, lake, aws)
    assert _ids(lake) == [1]
    send(aws, eb_event(b))
    stats = _run(spark, lake, aws)
    assert [f["key"] for f in stats["files"]] == ["in/b.jsonl"]
    assert _ids(lake) == [1, 2]


def test_a_run_keeps_draining_in_rounds_of_max_files_per_run(spark, lake, aws):
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i}])) for i in range(5)]
    send(aws, *[eb_event(o) for o in objs])
    stats = _run(spark, lake, aws, max_files_per_run=2)
    assert stats["rounds"] == 3
    assert sorted(len(s["files"]) for s in lake.stats_files()) == [1, 2, 2]
    assert stats["files_processed"] == 5
    assert _ids(lake) == [0, 1, 2, 3, 4]
    assert queue_depth(aws) == (0, 0)


def _receive_once_then_dead_letter(aws):
    """The ledger's redrive set to one receive: a message received a second time goes to the DLQ."""
    dlq_arn = aws["sqs"].get_queue_attributes(QueueUrl=aws["dlq_url"], AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    aws["sqs"].set_queue_attributes(QueueUrl=aws["queue_url"], Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})


def test_messages_left_over_by_a_round_are_not_received_again_before_their_turn(spark, lake, aws):
    """SQS hands out up to 10 messages at a time and a round takes one object here: each message
    must be received once (ApproximateReceiveCount 1). With the redrive at one receive, a
    message released and received again would be in the DLQ and its file not converted."""
    _receive_once_then_dead_letter(aws)
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i}])) for i in range(12)]
    send(aws, *[eb_event(o) for o in objs])
    _run(spark, lake, aws, max_files_per_run=1)
    assert queue_depth(aws, aws["dlq_url"]) == (0, 0)
    assert queue_depth(aws) == (0, 0)
    assert _ids(lake) == list(range(12))


def test_negative_control_a_message_received_twice_reaches_the_one_receive_dlq(aws):
    _receive_once_then_dead_letter(aws)
    send(aws, "probe")
    sqs = aws["sqs"]
    [message] = sqs.receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=1,
                                    AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.change_message_visibility(QueueUrl=aws["queue_url"], ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=1).get("Messages", []) == []
    assert queue_depth(aws, aws["dlq_url"]) == (1, 0)


def test_a_spent_drain_budget_leaves_the_rest_visible_for_the_next_run(spark, lake, aws):
    objs = [lake.put("in/f%d.jsonl" % i, jsonl([{"id": i}])) for i in range(3)]
    send(aws, *[eb_event(o) for o in objs])
    first = _run(spark, lake, aws, max_files_per_run=2, drain_time_budget_seconds=0)
    assert (first["rounds"], first["files_processed"]) == (1, 2)
    assert queue_depth(aws) == (1, 0)
    second = _run(spark, lake, aws, max_files_per_run=2)
    assert second["files_processed"] == 1
    assert _ids(lake) == [0, 1, 2]
    assert queue_depth(aws) == (0, 0)


def test_unparseable_message_is_not_deleted(spark, lake, aws):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    send(aws, "not an event", eb_event(obj))
    stats = _run(spark, lake, aws)
    assert stats["messages_unparseable"] == 1
    assert queue_depth(aws) == (0, 1)


@pytest.mark.parametrize("batch_size,expected", [(3, "BatchSize"), (5, "BatchWindow")])
def test_batch_condition_comes_from_the_workflow_event_ids(spark, lake, aws, batch_size, expected):
    glue = aws["glue"]
    glue.create_workflow(Name="wf")
    run_id = glue.start_workflow_run(Name="wf")["RunId"]
    glue.put_workflow_run_properties(Name="wf", RunId=run_id,
                                     RunProperties={"aws:eventIds": "[ev-1,ev-2,ev-3]"})
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    send(aws, eb_event(obj))
    stats = _run(spark, lake, aws, WORKFLOW_NAME="wf", WORKFLOW_RUN_ID=run_id, batch_size=batch_size)
    assert (stats["batch_condition"], stats["workflow_event_count"]) == (expected, 3)
    assert stats["workflow_run_id"] == run_id

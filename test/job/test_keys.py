"""Object keys: EventBridge keys are used verbatim; awkward characters survive."""
import json

import pytest

from glue_ingest import events
from job_helpers import eb_event, jsonl, queue_depth, run_job, send

AWKWARD = ["in/with space.jsonl", "in/plus+sign.jsonl", "in/k=v/eq=sign.jsonl",
           "in/per%cent%41.jsonl", "in/ünïcødé 名前.jsonl", "in/br[ack]et.jsonl"]


def test_eventbridge_key_is_taken_verbatim():
    obj = {"bucket": "b", "key": "in/a b+c%41=d ü.json", "etag": "e", "size": 1}
    [ref] = events.parse_event(eb_event(obj))
    assert (ref["bucket"], ref["key"], ref["etag"]) == ("b", "in/a b+c%41=d ü.json", "e")


def test_classic_s3_notification_key_is_url_decoded():
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "b"},
        "object": {"key": "in/a+b%2Bc%3Dd+%C3%BC.json", "eTag": "e", "size": 1}}}]})
    [ref] = events.parse_event(body)
    assert ref["key"] == "in/a b+c=d ü.json"


def test_cloudtrail_key_is_taken_verbatim_without_etag():
    body = json.dumps({"source": "aws.s3", "detail-type": "AWS API Call via CloudTrail",
                       "detail": {"eventName": "CopyObject",
                                  "requestParameters": {"bucketName": "b", "key": "x y+z.csv"}}})
    [ref] = events.parse_event(body)
    assert (ref["key"], ref["etag"]) == ("x y+z.csv", None)


def test_non_object_created_cloudtrail_event_is_refused():
    body = json.dumps({"source": "aws.s3", "detail-type": "AWS API Call via CloudTrail",
                       "detail": {"eventName": "DeleteObject", "requestParameters": {}}})
    with pytest.raises(ValueError, match="unsupported CloudTrail event DeleteObject"):
        events.parse_event(body)


def test_awkward_keys_are_read_and_reported_exactly(spark, lake, aws):
    objs = [lake.put(key, jsonl([{"id": i}])) for i, key in enumerate(AWKWARD)]
    send(aws, *[eb_event(o) for o in objs])
    stats = run_job(spark, lake.args(ledger_queue_url=aws["queue_url"]),
                    clients={"sqs": aws["sqs"]})
    assert sorted(f["key"] for f in stats["files"] if f["status"] == "ok") == sorted(AWKWARD)
    got = {r["_source_file"]: r["id"] for r in lake.output_rows()}
    assert got == {o["uri"]: i for i, o in enumerate(objs)}
    assert queue_depth(aws) == (0, 0)


def test_event_ids_property_parses_both_spellings():
    assert events.parse_event_ids("[a,b, c]") == ["a", "b", "c"]
    assert events.parse_event_ids('["a","b"]') == ["a", "b"]
    assert events.parse_event_ids(None) is None


def test_url_encoded_key_falls_back_to_the_decoded_object_only_if_missing(spark, lake, aws):
    real = lake.put("in/a b.jsonl", jsonl([{"id": 1}]))
    literal = lake.put("in/x+y.jsonl", jsonl([{"id": 2}]))
    encoded = dict(real, key="in/a+b.jsonl")
    send(aws, eb_event(encoded), eb_event(literal))
    stats = run_job(spark, lake.args(ledger_queue_url=aws["queue_url"]),
                    clients={"sqs": aws["sqs"]})
    assert sorted(f["key"] for f in stats["files"]) == ["in/a b.jsonl", "in/x+y.jsonl"]
    got = {r["_source_file"]: r["id"] for r in lake.output_rows()}
    assert got == {real["uri"]: 1, literal["uri"]: 2}

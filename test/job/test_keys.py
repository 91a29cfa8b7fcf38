"""Object keys: EventBridge keys are used verbatim; awkward characters survive."""
import json

import pytest

from glue_ingest import events
from job_helpers import eb_event, gz, jsonl, queue_depth, run_job, send

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


# The batch of the issue: names Spark's listing drops, a colon, an upper-case gzip suffix.
MIXED = ["in/_part.json", "in/.hidden.json", "in/a:b.json", "in/DATA.JSON.GZ", "in/plain.json"]


def _mixed(lake, keys):
    objs = []
    for i, key in enumerate(keys):
        body = jsonl([{"id": i * 10 + j, "key": key} for j in range(3)])
        objs.append(lake.put(key, gz(body) if key.lower().endswith(".gz") else body))
    return objs


def test_mixed_batch_of_legal_keys_converts_every_row(spark, lake, aws):
    objs = _mixed(lake, MIXED)
    send(aws, *[eb_event(o) for o in objs])
    stats = run_job(spark, lake.args(ledger_queue_url=aws["queue_url"]), clients={"sqs": aws["sqs"]})
    assert {f["key"]: (f["status"], f["rows_in"], f["rows_out"]) for f in stats["files"]} == {
        k: ("ok", 3, 3) for k in MIXED}
    got = sorted((r["_source_file"], r["id"]) for r in lake.output_rows())
    assert got == sorted((o["uri"], i * 10 + j) for i, o in enumerate(objs) for j in range(3))
    assert queue_depth(aws) == (0, 0)


@pytest.mark.parametrize("key", ["in/_part.json", "in/.hidden.json"])
def test_a_name_spark_would_skip_is_read_alone_too(spark, lake, aws, key):
    [obj] = _mixed(lake, [key])
    send(aws, eb_event(obj))
    stats = run_job(spark, lake.args(ledger_queue_url=aws["queue_url"]), clients={"sqs": aws["sqs"]})
    assert [(f["status"], f["rows_in"]) for f in stats["files"]] == [("ok", 3)]
    assert len(lake.output_rows()) == 3


def test_gzip_is_recognised_by_its_magic_bytes_whatever_the_name(spark, lake):
    obj = lake.put("in/export.json", gz(jsonl([{"id": 1}, {"id": 2}])))
    stats = run_job(spark, lake.args(input_files=obj["uri"]))
    assert [(f["status"], f["rows_in"]) for f in stats["files"]] == [("ok", 2)]


def test_a_non_empty_file_that_yields_no_rows_is_failed_not_ok(spark, lake, monkeypatch):
    """Reconciliation: a file is ok only when its rows were counted from its own content."""
    from glue_ingest import read

    obj = lake.put("in/a.json", jsonl([{"id": 1}]))
    # The read yields nothing for the file (no row, no count), as Spark's listing did for
    # `_x.json`. (A read that wrote a row it did not count fails the reconciliation instead:
    # test_reconciliation.py.)
    monkeypatch.setattr(read, "read_all", lambda ctx, table_types: (read.Outcome(), []))
    stats = run_job(spark, lake.args(input_files=obj["uri"]))
    [f] = stats["files"]
    assert (f["status"], f["rows_in"]) == ("failed", 0)
    assert f["reason"] == "no rows were read from a non-empty file (%d bytes): not reconciled" % obj["size"]
    assert stats["files_failed"] == 1 and stats["files_processed"] == 0

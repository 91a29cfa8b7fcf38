"""The S3 side of the I/O layer, against the S3 and SQS endpoint over HTTP (no Spark)."""
import gzip
import hashlib

import uuid

import pytest

from glue_ingest.storage import Storage
from glue_ingest.commit import StateStore
from glue_ingest.ledger import Ledger
from glue_ingest import probe


@pytest.fixture
def bkt():
    return "bkt-" + uuid.uuid4().hex[:10]


@pytest.fixture
def s3(local_aws, bkt):
    """A client of the suite's endpoint, with this test's own bucket ``bkt``."""
    client = local_aws.client("s3")
    client.create_bucket(Bucket=bkt)
    return client


def test_head_returns_size_and_etag_without_quotes(s3, bkt):
    s3.put_object(Bucket=bkt, Key="in/a b+c.json", Body=b'{"a":1}\n')
    size, etag = Storage(s3_client=s3).head(f"s3://{bkt}/in/a b+c.json")
    assert (size, etag) == (8, hashlib.md5(b'{"a":1}\n').hexdigest())


def test_head_of_missing_object_raises_file_not_found(s3, bkt):
    with pytest.raises(FileNotFoundError):
        Storage(s3_client=s3).head(f"s3://{bkt}/nope.json")


def test_ranged_read_and_exists(s3, bkt):
    s3.put_object(Bucket=bkt, Key="k", Body=b"0123456789")
    storage = Storage(s3_client=s3)
    assert storage.read_bytes(f"s3://{bkt}/k", 4) == b"0123"
    assert storage.exists(f"s3://{bkt}/k") is True
    assert storage.exists(f"s3://{bkt}/missing") is False


def test_list_copy_delete_prefix(s3, bkt):
    storage = Storage(s3_client=s3)
    storage.write_json(f"s3://{bkt}/state/pending/r1.json", {"run_id": "r1"})
    storage.write_bytes(f"s3://{bkt}/state/staging/r1/x=1/part-0.parquet", b"PAR1")
    storage.copy(f"s3://{bkt}/state/staging/r1/x=1/part-0.parquet", f"s3://{bkt}/out/x=1/r1-part-0.parquet")
    assert storage.list(f"s3://{bkt}/state") == [f"s3://{bkt}/state/pending/r1.json",
                                            f"s3://{bkt}/state/staging/r1/x=1/part-0.parquet"]
    storage.delete_prefix(f"s3://{bkt}/state/staging/r1/")
    assert storage.list(f"s3://{bkt}/state/staging/") == []
    assert storage.read_bytes(f"s3://{bkt}/out/x=1/r1-part-0.parquet") == b"PAR1"


def test_probe_detects_corrupt_gzip_on_s3(s3, bkt):
    s3.put_object(Bucket=bkt, Key="ok.json.gz", Body=gzip.compress(b'{"a":1}\n'))
    s3.put_object(Bucket=bkt, Key="bad.json.gz", Body=b"\x1f\x8b\x08\x00garbage-garbage")
    storage = Storage(s3_client=s3)
    assert probe.probe_file(storage, f"s3://{bkt}/ok.json.gz", 27)["quarantine"] is None
    bad = probe.probe_file(storage, f"s3://{bkt}/bad.json.gz", 19)["quarantine"]
    assert bad.startswith("corrupt gzip")


def test_commit_protocol_rolls_back_uncommitted_run_on_s3(s3, bkt):
    storage = Storage(s3_client=s3)
    store = StateStore(storage, f"s3://{bkt}/_pipeline/")
    storage.write_bytes(f"s3://{bkt}/out/run-1-part-0.parquet", b"PAR1")
    store.write_pending({"run_id": "run-1", "heartbeat_at": 0, "sources": [],
                         "destinations": [f"s3://{bkt}/out/run-1-part-0.parquet"]})
    assert store.recover(lease_seconds=60)["rolled_back"] == ["run-1"]
    assert storage.exists(f"s3://{bkt}/out/run-1-part-0.parquet") is False
    assert storage.list(f"s3://{bkt}/_pipeline/") == []


def test_commit_protocol_finalizes_committed_run_on_s3(s3, bkt):
    storage = Storage(s3_client=s3)
    store = StateStore(storage, f"s3://{bkt}/_pipeline/")
    store.write_pending({"run_id": "run-2", "heartbeat_at": 0, "sources": [], "destinations": []})
    store.commit({"run_id": "run-2", "sources": [{"uri": "s3://rawbkt/k", "etag": "e1", "status": "ok"}]})
    assert store.recover(lease_seconds=60)["finalized"] == ["run-2"]
    assert store.is_done("s3://rawbkt/k", "e1") is True
    assert store.is_done("s3://rawbkt/k", "e2") is False


def test_ledger_extend_keeps_messages_invisible_and_release_returns_them(local_aws):
    import time

    sqs = local_aws.client("sqs")
    url = sqs.create_queue(QueueName="q-" + uuid.uuid4().hex[:10])["QueueUrl"]
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody='{"source": "other", "n": %d}' % i)
    ledger = Ledger(sqs, url, visibility_timeout=1, wait_seconds=0)
    messages, leftover = ledger.drain(max_objects=1000)
    assert len(messages) == 12 and leftover == []
    assert all(m["error"] == "ValueError: not an S3 event" for m in messages)
    ledger.visibility_timeout = 30
    ledger.extend([m["receipt"] for m in messages])
    time.sleep(1.2)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    ledger.release([m["receipt"] for m in messages])
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(again) == 10

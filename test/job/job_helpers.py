"""Helpers of the Glue job tests: write inputs, build events, read outputs."""
import glob
import gzip
import hashlib
import json
import os

import duckdb

from glue_ingest.run import run

BUCKET = "raw-bucket"
ASSETS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "assets", "glue"))


def run_job(spark, args, crash_at=None, clients=None):
    """One in-process run of the job; crash_at names a fault-injection point."""
    if crash_at:
        args = dict(args, crash_at=crash_at)
    return run(spark, args, clients=clients)


class Lake:
    """Local directories standing in for S3, plus the base job arguments."""

    def __init__(self, tmp_path):
        self.root = str(tmp_path)
        self.s3_root = os.path.join(self.root, "s3")
        base = "s3://lake-bucket/"
        self.output = base + "parquet/"
        self.rejected = base + "rejected/"
        self.stats = base + "stats/"
        self.state = base + "_pipeline/"
        os.makedirs(os.path.join(self.s3_root, BUCKET), exist_ok=True)

    def local(self, uri):
        assert uri.startswith("s3://")
        return os.path.join(self.s3_root, uri[len("s3://"):])

    def args(self, **extra):
        args = {
            "JOB_NAME": "test-job",
            "output_path": self.output,
            "rejected_path": self.rejected,
            "stats_path": self.stats,
            "state_path": self.state,
            "local_s3_root": self.s3_root,
            "catalog_update": "false",
            "receive_wait_seconds": "0",
        }
        args.update({k: str(v) for k, v in extra.items()})
        return args

    def put(self, key, data, bucket=BUCKET):
        """Write an input object; returns dict(uri, key, etag, size)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = os.path.join(self.s3_root, bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        return {"uri": "s3://%s/%s" % (bucket, key), "key": key, "bucket": bucket,
                "etag": hashlib.md5(data).hexdigest(), "size": len(data)}

    def output_rows(self):
        files = self.output_files()
        if not files:
            return []
        con = duckdb.connect()
        rel = con.execute(
            "SELECT * FROM read_parquet(?, hive_partitioning=true, union_by_name=true)",
            [files])
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, row)) for row in rel.fetchall()]

    def output_files(self):
        return sorted(glob.glob(os.path.join(self.local(self.output), "**", "*.parquet"),
                                recursive=True))

    def rejected_records(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.local(self.rejected), "records", "*.jsonl"))):
            with open(path, encoding="utf-8") as fh:
                out.extend(json.loads(line) for line in fh if line.strip())
        return out

    def stats_files(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.local(self.stats), "*.json"))):
            with open(path, encoding="utf-8") as fh:
                out.append(json.load(fh))
        return out


def gz(text):
    return gzip.compress(text.encode("utf-8") if isinstance(text, str) else text)


def jsonl(rows):
    return "".join(json.dumps(r) + "\n" for r in rows)


def eb_event(obj, event_id="e-1"):
    """S3 EventBridge 'Object Created' event as the rule sends it to SQS."""
    return json.dumps({
        "version": "0", "id": event_id, "detail-type": "Object Created", "source": "aws.s3",
        "account": "111122223333", "time": "2026-11-22T00:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::%s" % obj["bucket"]],
        "detail": {"version": "0", "bucket": {"name": obj["bucket"]},
                   "object": {"key": obj["key"], "size": obj["size"], "etag": obj["etag"],
                              "sequencer": "0062E99A88DC407460"},
                   "request-id": "R", "requester": "111122223333", "reason": "PutObject"},
    })


def cloudtrail_event(obj, event_name="PutObject"):
    return json.dumps({
        "version": "0", "id": "ct-1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3", "account": "111122223333", "region": "us-east-1",
        "detail": {"eventSource": "s3.amazonaws.com", "eventName": event_name,
                   "requestParameters": {"bucketName": obj["bucket"], "key": obj["key"]},
                   "responseElements": None},
    })


def send(aws, *bodies):
    for body in bodies:
        aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=body)


def queue_depth(aws, url=None):
    attrs = aws["sqs"].get_queue_attributes(
        QueueUrl=url or aws["queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]))

"""Helpers of the Glue job tests: upload inputs, build events, read outputs back through S3."""
import gzip
import json
import os
import uuid

import duckdb

from glue_ingest.run import run

ASSETS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "assets", "glue"))


def run_job(spark, args, crash_at=None, clients=None):
    """One in-process run of the job; crash_at names a fault-injection point."""
    if crash_at:
        args = dict(args, crash_at=crash_at)
    return run(spark, args, clients=clients)


class Lake:
    """A raw bucket and a lake bucket on the S3 endpoint, plus the base job arguments.

    Inputs are uploaded with PutObject and outputs are listed and fetched through the S3
    API; Parquet is downloaded to ``tmp_path`` only to read it back with DuckDB."""

    def __init__(self, s3, raw_bucket, lake_bucket, tmp_path):
        self.s3 = s3
        self.raw_bucket = raw_bucket
        self.bucket = lake_bucket
        self.root = str(tmp_path)
        s3.create_bucket(Bucket=raw_bucket)
        s3.create_bucket(Bucket=lake_bucket)
        base = "s3://%s/" % lake_bucket
        self.output = base + "parquet/"
        self.rejected = base + "rejected/"
        self.stats = base + "stats/"
        self.state = base + "_pipeline/"
        self.iceberg = None

    def use_iceberg(self, spark, catalog, database, table):
        """The job writes an Iceberg table ``catalog.database.table`` at the output location."""
        self.iceberg = {"spark": spark, "catalog": catalog, "database": database, "table": table}

    @property
    def table_ident(self):
        i = self.iceberg
        return "%s.`%s`.`%s`" % (i["catalog"], i["database"], i["table"])

    def args(self, **extra):
        args = {
            "JOB_NAME": "test-job",
            "output_path": self.output,
            "rejected_path": self.rejected,
            "stats_path": self.stats,
            "state_path": self.state,
            "catalog_update": "false",
            "receive_wait_seconds": "0",
        }
        if self.iceberg:
            args.update({"table_format": "ICEBERG", "iceberg_catalog": self.iceberg["catalog"],
                         "database_name": self.iceberg["database"], "table_name": self.iceberg["table"]})
        args.update({k: str(v) for k, v in extra.items()})
        return args

    def put(self, key, data, bucket=None):
        """Uploads an input object; returns dict(uri, key, bucket, etag, size) as S3 reports them."""
        bucket = bucket or self.raw_bucket
        if isinstance(data, str):
            data = data.encode("utf-8")
        etag = self.s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"].strip('"')
        return {"uri": "s3://%s/%s" % (bucket, key), "key": key, "bucket": bucket,
                "etag": etag, "size": len(data)}

    # -- reading what the job wrote, through the S3 API
    def keys(self, prefix_uri):
        """Every object URI under a prefix, sorted."""
        bucket, _, prefix = prefix_uri[len("s3://"):].partition("/")
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out += ["s3://%s/%s" % (bucket, o["Key"]) for o in page.get("Contents", [])]
        return sorted(out)

    def read(self, uri):
        bucket, _, key = uri[len("s3://"):].partition("/")
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def exists(self, uri):
        return uri in self.keys(uri)

    def download(self, uris):
        """Local copies of objects (keeping their key layout), for DuckDB."""
        folder = os.path.join(self.root, "download-%s" % uuid.uuid4().hex[:8])
        out = []
        for uri in uris:
            target = os.path.join(folder, uri[len("s3://"):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(self.read(uri))
            out.append(target)
        return out

    def output_rows(self):
        """The table's rows: through Iceberg for an Iceberg table, else its Parquet objects
        read with DuckDB (Hive partitions as columns)."""
        if self.iceberg:
            if not self.table_exists():
                raise AssertionError("the Iceberg table %s does not exist: nothing created it (a test that "
                                     "expects no table checks lake.table_exists())" % self.table_ident)
            rows = self.iceberg["spark"].table(self.table_ident).collect()
            return [r.asDict(recursive=True) for r in rows]
        files = self.download(self.output_files())
        if not files:
            return []
        con = duckdb.connect()
        rel = con.execute(
            "SELECT * FROM read_parquet(?, hive_partitioning=true, union_by_name=true)",
            [files])
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, row)) for row in rel.fetchall()]

    def table_exists(self):
        """Whether the job's Iceberg table is in the catalog."""
        i = self.iceberg
        return bool(i["spark"].sql("SHOW TABLES IN %s.`%s` LIKE '%s'" % (i["catalog"], i["database"], i["table"]))
                    .collect())

    def output_files(self):
        """URIs of the table's Parquet objects."""
        return [u for u in self.keys(self.output) if u.endswith(".parquet")]

    def rejected_records(self):
        out = []
        for uri in self.keys(self.rejected + "records/"):
            if uri.endswith(".jsonl"):
                out.extend(json.loads(line) for line in self.read(uri).decode("utf-8").splitlines() if line.strip())
        return out

    def stats_files(self):
        return [json.loads(self.read(uri)) for uri in self.keys(self.stats) if uri.endswith(".json")]


def gz(text):
    return gzip.compress(text.encode("utf-8") if isinstance(text, str) else text)


def jsonl(rows):
    return "".join(json.dumps(r) + "\n" for r in rows)


def eb_event(obj, event_id="e-1"):
    """S3 EventBridge 'Object Created' event as the rule sends it to SQS (the runner's builder)."""
    from cdk_event_driven_glue_workflow_tools.local_pipeline import object_created_event

    return json.dumps(object_created_event(obj["bucket"], obj["key"], obj["size"], obj["etag"],
                                           account="111122223333", event_id=event_id))


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

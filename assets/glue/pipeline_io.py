"""I/O layer of the Parquet conversion job.

Storage (S3 through boto3, or the local filesystem, chosen by URI scheme),
the SQS event ledger, Glue Data Catalog updates, the commit protocol
(pending / committed records, per-object markers) and small file probes.
No Spark here, so everything can be unit tested with moto and tmp dirs.
"""
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, unquote_plus

PEEK_BYTES = 64 * 1024


class SimulatedCrash(RuntimeError):
    """Raised at a named point of run() to test crash recovery."""


# ---------------------------------------------------------------- storage

def split_s3(uri):
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    return bucket, key


def join_uri(prefix, *parts):
    """Join a prefix URI (with or without trailing slash) and relative parts."""
    out = prefix if prefix.endswith("/") else prefix + "/"
    return out + "/".join(p.strip("/") for p in parts if p)


class Storage:
    """Byte-level storage on s3:// (boto3) or local paths / file:// URIs.

    With local_s3_root, s3://bucket/key maps to <root>/bucket/key on disk, so
    the job runs against local files while keeping S3 URIs in its records.
    """

    def __init__(self, local_s3_root=None, s3_client=None):
        self.local_s3_root = os.path.abspath(local_s3_root) if local_s3_root else None
        self._s3 = s3_client

    @property
    def s3(self):
        if self._s3 is None:
            import boto3
            self._s3 = boto3.client("s3")
        return self._s3

    # -- addressing
    def local_path(self, uri):
        """Local filesystem path of a URI, or None if it lives on S3."""
        if uri.startswith("s3://"):
            if not self.local_s3_root:
                return None
            bucket, key = split_s3(uri)
            return os.path.join(self.local_s3_root, bucket, key)
        if uri.startswith("file://"):
            return unquote(uri[len("file://"):])
        return uri

    def spark_path(self, uri):
        """Path to hand to Spark: local path, or the s3:// URI on Glue."""
        local = self.local_path(uri)
        return local if local is not None else uri

    # -- reads
    def exists(self, uri):
        local = self.local_path(uri)
        if local is not None:
            return os.path.isfile(local)
        bucket, key = split_s3(uri)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def head(self, uri):
        """(size, etag) of an object; the local ETag is the content MD5.

        Raises FileNotFoundError if the object does not exist.
        """
        local = self.local_path(uri)
        if local is not None:
            if not os.path.isfile(local):
                raise FileNotFoundError(uri)
            md5 = hashlib.md5()
            with open(local, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    md5.update(chunk)
            return os.path.getsize(local), md5.hexdigest()
        bucket, key = split_s3(uri)
        try:
            resp = self.s3.head_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(uri) from err
            raise
        return resp["ContentLength"], resp["ETag"].strip('"')

    def read_bytes(self, uri, length=None):
        local = self.local_path(uri)
        if local is not None:
            with open(local, "rb") as fh:
                return fh.read() if length is None else fh.read(length)
        bucket, key = split_s3(uri)
        kwargs = {"Bucket": bucket, "Key": key}
        if length is not None:
            kwargs["Range"] = "bytes=0-%d" % (length - 1)
        try:
            return self.s3.get_object(**kwargs)["Body"].read()
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def read_json(self, uri):
        return json.loads(self.read_bytes(uri).decode("utf-8"))

    def list(self, prefix_uri):
        """All object URIs under a prefix (recursive), sorted."""
        local = self.local_path(prefix_uri)
        if local is not None:
            out = []
            if not os.path.isdir(local):
                return out
            for root, _dirs, files in os.walk(local):
                for name in files:
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, local).replace(os.sep, "/")
                    out.append(join_uri(prefix_uri, rel))
            return sorted(out)
        bucket, key = split_s3(prefix_uri)
        if key and not key.endswith("/"):
            key += "/"
        out = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                out.append("s3://%s/%s" % (bucket, item["Key"]))
        return sorted(out)

    # -- writes
    def write_bytes(self, uri, data):
        """Atomic write: readers see the old state or the whole new object."""
        local = self.local_path(uri)
        if local is not None:
            os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
            tmp = "%s.tmp-%s" % (local, uuid.uuid4().hex[:8])
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, local)
            return
        bucket, key = split_s3(uri)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def write_json(self, uri, obj):
        self.write_bytes(uri, json.dumps(obj, indent=1, sort_keys=True, default=str).encode("utf-8"))

    def copy(self, src_uri, dst_uri):
        src_local, dst_local = self.local_path(src_uri), self.local_path(dst_uri)
        if src_local is not None and dst_local is not None:
            os.makedirs(os.path.dirname(dst_local) or ".", exist_ok=True)
            tmp = "%s.tmp-%s" % (dst_local, uuid.uuid4().hex[:8])
            shutil.copyfile(src_local, tmp)
            os.replace(tmp, dst_local)
            return
        if src_local is None and dst_local is None:
            sb, sk = split_s3(src_uri)
            db, dk = split_s3(dst_uri)
            # Managed copy: single CopyObject, or multipart copy above 8 MB parts.
            self.s3.copy({"Bucket": sb, "Key": sk}, db, dk)
            return
        self.write_bytes(dst_uri, self.read_bytes(src_uri))

    def delete(self, uri):
        local = self.local_path(uri)
        if local is not None:
            if os.path.isfile(local):
                os.remove(local)
            return
        bucket, key = split_s3(uri)
        self.s3.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, prefix_uri):
        local = self.local_path(prefix_uri)
        if local is not None:
            shutil.rmtree(local, ignore_errors=True)
            return
        uris = self.list(prefix_uri)
        bucket, _ = split_s3(prefix_uri)
        for i in range(0, len(uris), 1000):
            chunk = [{"Key": split_s3(u)[1]} for u in uris[i:i + 1000]]
            self.s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})


# ---------------------------------------------------------------- events

def object_uri(bucket, key):
    return "s3://%s/%s" % (bucket, key)


def parse_event(body):
    """S3 object references in one SQS message body.

    Accepts the EventBridge event the rule sends to SQS, in both S3 shapes:
      * "Object Created" (S3 EventBridge notification): detail.object.key is
        used verbatim; the S3 EventBridge event structure documents the key
        as the object key (it is not the URL-encoded form used by S3
        notifications to SQS/SNS/Lambda);
      * "AWS API Call via CloudTrail" for PutObject, CompleteMultipartUpload,
        CopyObject: requestParameters.key verbatim, no ETag (HEAD needed).
    Classic S3 notifications ({"Records": [...]}) are also accepted; their
    keys are URL-encoded ('+' for space) and are decoded with unquote_plus.
    Returns a list of dicts: bucket, key, etag, version_id, size, sequencer.
    Raises ValueError for a body that is not an S3 object event.
    """
    event = json.loads(body)
    if isinstance(event, dict) and "Records" in event:
        refs = []
        for rec in event["Records"]:
            s3 = rec.get("s3") or {}
            obj = s3.get("object") or {}
            if not str(rec.get("eventName", "")).startswith("ObjectCreated"):
                continue
            refs.append({
                "bucket": s3["bucket"]["name"], "key": unquote_plus(obj["key"]),
                "etag": (obj.get("eTag") or obj.get("etag") or "").strip('"') or None,
                "version_id": obj.get("versionId"), "size": obj.get("size"),
                "sequencer": obj.get("sequencer"),
            })
        return refs
    if not isinstance(event, dict) or event.get("source") != "aws.s3":
        raise ValueError("not an S3 event")
    detail = event.get("detail") or {}
    dtype = event.get("detail-type")
    if dtype == "Object Created":
        obj = detail["object"]
        return [{
            "bucket": detail["bucket"]["name"], "key": obj["key"],
            "etag": (obj.get("etag") or "").strip('"') or None,
            "version_id": obj.get("version-id"), "size": obj.get("size"),
            "sequencer": obj.get("sequencer"),
        }]
    if dtype == "AWS API Call via CloudTrail":
        if detail.get("eventName") not in ("PutObject", "CompleteMultipartUpload", "CopyObject"):
            raise ValueError("unsupported CloudTrail event %s" % detail.get("eventName"))
        params = detail.get("requestParameters") or {}
        response = detail.get("responseElements") or {}
        return [{
            "bucket": params["bucketName"], "key": params["key"], "etag": None,
            "version_id": (response or {}).get("x-amz-version-id"), "size": None,
            "sequencer": None,
        }]
    raise ValueError("unsupported detail-type %r" % dtype)


def parse_event_ids(value):
    """The Glue 'aws:eventIds' run property ("[id1,id2]" or JSON) as a list."""
    if value is None:
        return None
    if isinstance(value, list):
        return value
    text = str(value).strip()
    try:
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    except ValueError:
        pass
    text = text.strip("[]")
    return [p.strip().strip('"') for p in text.split(",") if p.strip()]


class Ledger:
    """Drains the SQS event ledger; acks only what the caller says."""

    def __init__(self, sqs, queue_url, visibility_timeout=3600, wait_seconds=2):
        self.sqs = sqs
        self.queue_url = queue_url
        self.visibility_timeout = int(visibility_timeout)
        self.wait_seconds = int(wait_seconds)
        self.received_at = time.time()

    def drain(self, max_objects):
        """Receive messages until max_objects distinct objects or queue empty.

        Returns (messages, leftover) where each message is a dict with
        receipt, message_id, refs (list of object refs) or error. Messages
        received beyond the bound are returned in leftover.
        """
        messages, leftover, seen = [], [], set()
        self.received_at = time.time()
        while True:
            resp = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                VisibilityTimeout=self.visibility_timeout, WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["ApproximateReceiveCount"])
            batch = resp.get("Messages", [])
            if not batch:
                break
            for msg in batch:
                item = {"receipt": msg["ReceiptHandle"], "message_id": msg["MessageId"],
                        "refs": [], "error": None}
                try:
                    item["refs"] = parse_event(msg["Body"])
                except (ValueError, KeyError, TypeError) as err:
                    item["error"] = "%s: %s" % (type(err).__name__, err)
                new = {(r["bucket"], r["key"], r["etag"]) for r in item["refs"]} - seen
                if len(seen) >= max_objects and new:
                    leftover.append(item)
                    continue
                seen |= new
                messages.append(item)
            if len(seen) >= max_objects:
                break
        return messages, leftover

    def _batched(self, receipts, call, **extra):
        receipts = list(dict.fromkeys(receipts))
        failed = []
        for i in range(0, len(receipts), 10):
            entries = [dict(Id=str(n), ReceiptHandle=r, **extra)
                       for n, r in enumerate(receipts[i:i + 10])]
            resp = call(QueueUrl=self.queue_url, Entries=entries)
            failed.extend(resp.get("Failed", []))
        return failed

    def ack(self, receipts):
        return self._batched(receipts, self.sqs.delete_message_batch)

    def release(self, receipts):
        """Make messages visible again at once (left over by the drain bound)."""
        return self._batched(receipts, self.sqs.change_message_visibility_batch,
                             VisibilityTimeout=0)

    def extend(self, receipts):
        """Reset the visibility timeout of in-flight messages (heartbeat)."""
        if receipts:
            self._batched(receipts, self.sqs.change_message_visibility_batch,
                          VisibilityTimeout=self.visibility_timeout)


# ---------------------------------------------------------------- probes

def probe_file(storage, uri, size):
    """Look at the first bytes of a file, without Spark.

    Returns a dict: empty (bool), quarantine (reason or None) and sample
    (the decoded start of the text, BOM removed). Detects corrupt or
    truncated gzip, NUL bytes and invalid UTF-8 in the sample.
    """
    result = {"empty": False, "quarantine": None, "sample": ""}
    if size == 0:
        result["empty"] = True
        return result
    raw = storage.read_bytes(uri, PEEK_BYTES)
    whole = size is not None and len(raw) >= size
    if uri.lower().endswith(".gz"):
        if raw[:2] != b"\x1f\x8b":
            result["quarantine"] = "corrupt gzip: missing gzip header"
            return result
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decomp.decompress(raw, 4 * PEEK_BYTES)
        except zlib.error as err:
            result["quarantine"] = "corrupt gzip: %s" % err
            return result
        if whole and not decomp.eof and not decomp.unconsumed_tail:
            result["quarantine"] = "corrupt gzip: truncated stream"
            return result
        whole = whole and decomp.eof
    else:
        data = raw
    nul = data.find(b"\x00")
    if nul >= 0:
        result["quarantine"] = "binary content: NUL byte at offset %d" % nul
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the sample boundary is fine.
        if whole or err.start < len(data) - 4:
            result["quarantine"] = "not UTF-8 text: invalid byte at offset %d" % err.start
            return result
        text = data[:err.start].decode("utf-8")
    text = text.lstrip("\ufeff")
    result["sample"] = text
    if whole and not text.strip():
        result["empty"] = True
    return result


def csv_header(sample):
    """First CSV record of a text sample (the header), or None."""
    try:
        return next(csv.reader(io.StringIO(sample)))
    except StopIteration:
        return None


def sniff_format(sample):
    stripped = sample.lstrip()
    return "JSON" if stripped[:1] in ("{", "[") else "CSV"


def read_text(storage, uri):
    data = storage.read_bytes(uri)
    if uri.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def locate_positions(text, raw_records):
    """1-based line numbers where each raw record starts in text (in order).

    Records are searched in file order; a record not found gets None.
    """
    def find_at_line_start(needle, start):
        idx = text.find(needle, start)
        while idx > 0 and text[idx - 1] != "\n":
            idx = text.find(needle, idx + 1)
        return idx

    out, cursor = [], 0
    for raw in raw_records:
        needle = (raw or "").rstrip("\r\n")
        if not needle:
            out.append(None)
            continue
        idx = find_at_line_start(needle, cursor)
        if idx < 0:
            idx = find_at_line_start(needle, 0)
        if idx < 0:
            out.append(None)
            continue
        out.append(text.count("\n", 0, idx) + 1)
        cursor = idx + len(needle)
    return out


# ---------------------------------------------------------------- catalog

class Catalog:
    """Glue Data Catalog table maintenance through boto3."""

    SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    def __init__(self, glue, database, table, location, partition_columns):
        self.glue = glue
        self.database = database
        self.table = table
        self.location = location if location.endswith("/") else location + "/"
        self.partition_columns = list(partition_columns)

    def get_table(self):
        try:
            return self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def column_types(self):
        """{lower-case column name: hive type} of the table, {} if none."""
        table = self.get_table()
        if not table:
            return {}
        cols = table.get("StorageDescriptor", {}).get("Columns", [])
        return {c["Name"].lower(): c["Type"] for c in cols}

    def _storage_descriptor(self, columns, location):
        return {
            "Columns": columns, "Location": location,
            "InputFormat": self.INPUT, "OutputFormat": self.OUTPUT,
            "Compressed": True,
            "SerdeInfo": {"SerializationLibrary": self.SERDE,
                          "Parameters": {"serialization.format": "1"}},
        }

    def ensure_table(self, columns):
        """Create the table, or append columns it lacks. columns: [(name, type)]."""
        wanted = [{"Name": n, "Type": t} for n, t in columns
                  if n.lower() not in {p.lower() for p in self.partition_columns}]
        table = self.get_table()
        params = {"classification": "parquet", "EXTERNAL": "TRUE",
                  "parquet.compression": "SNAPPY"}
        if table is None:
            self.glue.create_table(DatabaseName=self.database, TableInput={
                "Name": self.table, "TableType": "EXTERNAL_TABLE", "Parameters": params,
                "PartitionKeys": [{"Name": p, "Type": "string"} for p in self.partition_columns],
                "StorageDescriptor": self._storage_descriptor(wanted, self.location),
            })
            return [c["Name"] for c in wanted]
        existing = table["StorageDescriptor"].get("Columns", [])
        known = {c["Name"].lower() for c in existing}
        added = [c for c in wanted if c["Name"].lower() not in known]
        if added:
            sd = dict(table["StorageDescriptor"])
            sd["Columns"] = existing + added
            table_input = {k: table[k] for k in (
                "Name", "Description", "Owner", "Retention", "PartitionKeys", "TableType",
                "Parameters") if k in table}
            table_input["StorageDescriptor"] = sd
            self.glue.update_table(DatabaseName=self.database, TableInput=table_input)
        return [c["Name"] for c in added]

    def add_partitions(self, partition_dirs):
        """Register partitions (relative dirs "k=v/k2=v2"); ignore existing ones."""
        table = self.get_table()
        sd_cols = table["StorageDescriptor"].get("Columns", []) if table else []
        inputs = []
        for rel in sorted(set(partition_dirs)):
            values = [unescape_partition_value(part.split("=", 1)[1]) for part in rel.split("/")]
            inputs.append({"Values": values, "StorageDescriptor": self._storage_descriptor(
                sd_cols, self.location + rel + "/")})
        created = 0
        for i in range(0, len(inputs), 100):
            resp = self.glue.batch_create_partition(
                DatabaseName=self.database, TableName=self.table,
                PartitionInputList=inputs[i:i + 100])
            errors = [e for e in resp.get("Errors", [])
                      if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
            if errors:
                raise RuntimeError("batch_create_partition failed: %s" % errors)
            created += len(inputs[i:i + 100]) - len(resp.get("Errors", []))
        return created


def unescape_partition_value(value):
    """Undo Spark's %XX escaping of partition directory values."""
    return unquote(value)


# ---------------------------------------------------------------- commit protocol

def object_id(uri):
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()


def safe_token(value):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(value))


class StateStore:
    """Write-ahead pending records, atomic commit records, object markers.

    Layout under state_path:
      pending/<run_id>.json      sources and destinations of a run in flight
      committed/<run_id>.json    the atomic commit record
      objects/<sha256(uri)>/<etag>.json   marker: this object version is done
      staging/<run_id>/          Spark's output before publishing
    """

    def __init__(self, storage, state_path):
        self.storage = storage
        self.root = state_path if state_path.endswith("/") else state_path + "/"
        self.claimed = set()  # (uri, etag) of runs in flight, filled by recover()

    def uri(self, *parts):
        return join_uri(self.root, *parts)

    def staging(self, run_id):
        return self.uri("staging", run_id) + "/"

    def write_pending(self, record):
        self.storage.write_json(self.uri("pending", record["run_id"] + ".json"), record)

    def commit(self, record):
        self.storage.write_json(self.uri("committed", record["run_id"] + ".json"), record)

    def is_committed(self, run_id):
        return self.storage.exists(self.uri("committed", run_id + ".json"))

    def marker_uri(self, uri, etag):
        return self.uri("objects", object_id(uri), safe_token(etag or "none") + ".json")

    def is_done(self, uri, etag):
        return self.storage.exists(self.marker_uri(uri, etag))

    def write_markers(self, run_id, sources):
        def write(src):
            self.storage.write_json(self.marker_uri(src["uri"], src["etag"]), {
                "uri": src["uri"], "etag": src["etag"], "run_id": run_id,
                "status": src.get("status")})

        if len(sources) <= 1:
            for src in sources:
                write(src)
            return
        with ThreadPoolExecutor(max_workers=min(16, len(sources))) as pool:
            list(pool.map(write, sources))

    def pending_exists(self, run_id):
        return self.storage.exists(self.uri("pending", run_id + ".json"))

    def recover(self, lease_seconds=0, now=None):
        """Repair runs that crashed. Returns {"rolled_back", "finalized", "in_flight"}.

        A pending record whose heartbeat is younger than lease_seconds belongs
        to a run that may still be alive and is left alone ("in_flight").
        Otherwise a pending run without a commit record is rolled back: its
        published files (listed in the pending record before each copy) and
        staging are deleted. A pending run with a commit record is finalized:
        markers are (re)written and staging removed. The pending record goes last.
        """
        now = time.time() if now is None else now
        self.claimed = set()
        report = {"rolled_back": [], "finalized": [], "in_flight": []}
        for pending_uri in self.storage.list(self.uri("pending")):
            if not pending_uri.endswith(".json"):
                continue
            record = self.storage.read_json(pending_uri)
            run_id = record["run_id"]
            if now - float(record.get("heartbeat_at", 0)) < lease_seconds:
                report["in_flight"].append(run_id)
                self.claimed.update((src["uri"], src["etag"]) for src in record.get("sources", []))
                continue
            if self.is_committed(run_id):
                committed = self.storage.read_json(self.uri("committed", run_id + ".json"))
                self.write_markers(run_id, committed.get("sources", []))
                report["finalized"].append(run_id)
            else:
                for dest in record.get("destinations", []):
                    self.storage.delete(dest)
                report["rolled_back"].append(run_id)
            self.storage.delete_prefix(self.staging(run_id))
            self.storage.delete(pending_uri)
        return report

    def finish(self, run_id):
        self.storage.delete_prefix(self.staging(run_id))
        self.storage.delete(self.uri("pending", run_id + ".json"))

"""Default AWS Glue job of cdk-event-driven-glue-workflow: new files -> Parquet.

Thin entry point: parses Glue-style "--key value" arguments, gets the
SparkSession and calls run(). It does not import awsglue, so the same file
runs on AWS Glue 5.x and on local Spark 3.5. pipeline_transforms and
pipeline_io ship next to it (Glue --extra-py-files). See docs/JOB.md.
"""
import datetime
import json
import os
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, unquote_plus

import pipeline_io as pio
import pipeline_transforms as pt

DEFAULTS = {
    "JOB_NAME": "parquet-conversion-job",
    "input_format": "AUTO",
    "partition_columns": "ingest_date",
    "max_files_per_run": "1000",
    "target_file_size_mb": "128",
    "catalog_update": "true",
    "visibility_timeout_seconds": "3600",
    "receive_wait_seconds": "1",
}

CRASH_POINTS = ("after_read", "mid_write", "after_write", "after_catalog", "after_commit")
ACKABLE = ("ok", "quarantined", "skipped_duplicate", "skipped_superseded")
CONTENT_ERRORS = ("EOFException", "ZipException", "Unexpected end of input", "incorrect header",
                  "not in GZIP format", "MalformedInput", "CharacterCoding", "invalid block",
                  "invalid distance", "invalid stored block", "Corrupt")


def parse_args(argv):
    """Glue passes "--key value" pairs; "--key=value" and bare flags also work."""
    args, i = {}, 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            key = token[2:]
            if "=" in key:
                key, value = key.split("=", 1)
                i += 1
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value = argv[i + 1]
                i += 2
            else:
                value = "true"
                i += 1
            args[key] = value
        else:
            i += 1
    return args


def _flag(value):
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


def _prefix(uri):
    return uri if uri.endswith("/") else uri + "/"


class Config:
    def __init__(self, args):
        merged = dict(DEFAULTS)
        merged.update({k: v for k, v in args.items() if v is not None})
        self.raw = merged
        self.job_name = merged["JOB_NAME"]
        self.workflow_name = merged.get("WORKFLOW_NAME")
        self.workflow_run_id = merged.get("WORKFLOW_RUN_ID")
        self.queue_url = merged.get("ledger_queue_url")
        files = merged.get("input_files")
        self.input_files = [f.strip() for f in files.split(",") if f.strip()] if files else None
        if not self.queue_url and not self.input_files:
            raise ValueError("either --ledger_queue_url or --input_files is required")
        self.input_format = merged["input_format"].upper()
        if self.input_format not in ("AUTO", "JSON", "CSV"):
            raise ValueError("--input_format must be JSON, CSV or AUTO, got: %s" % self.input_format)
        for name in ("output_path", "rejected_path", "stats_path", "state_path"):
            if not merged.get(name):
                raise ValueError("--%s is required" % name)
            setattr(self, name, _prefix(merged[name]))
        self.catalog_update = _flag(merged["catalog_update"])
        self.database = merged.get("database_name")
        self.table = merged.get("table_name")
        if self.catalog_update and not (self.database and self.table):
            raise ValueError("--database_name and --table_name are required unless --catalog_update false")
        self.partition_columns = [c.strip() for c in merged["partition_columns"].split(",") if c.strip()]
        self.max_files = int(merged["max_files_per_run"])
        self.target_mb = float(merged["target_file_size_mb"])
        self.batch_size = int(merged["batch_size"]) if merged.get("batch_size") else None
        self.batch_window = int(merged["batch_window_seconds"]) if merged.get("batch_window_seconds") else None
        self.local_s3_root = merged.get("local_s3_root")
        self.visibility = int(merged["visibility_timeout_seconds"])
        self.wait_seconds = int(merged["receive_wait_seconds"])
        self.crash_at = merged.get("crash_at")


def _client(clients, name):
    if clients and clients.get(name) is not None:
        return clients[name]
    import boto3
    return boto3.client(name)


def _log(msg):
    print("[parquet-conversion] %s" % msg, flush=True)


def _glob_escape(path):
    return re.sub(r"([\[\]{}*?\\])", r"\\\1", path)


def _parallel(fn, items, workers=16):
    """Map fn over items with a thread pool (S3 HEAD/GET latency), in order."""
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def batch_condition(cfg, clients):
    if cfg.input_files and not cfg.queue_url:
        return "replay", None
    if not (cfg.workflow_name and cfg.workflow_run_id):
        return "unknown", None
    try:
        glue = _client(clients, "glue")
        props = glue.get_workflow_run_properties(
            Name=cfg.workflow_name, RunId=cfg.workflow_run_id)["RunProperties"]
    except Exception as err:  # reporting only: never fail the run for it
        _log("batch condition unknown: %s" % err)
        return "unknown", None
    ids = pio.parse_event_ids(props.get("aws:eventIds"))
    if ids is None:
        return "unknown", None
    if cfg.batch_size is not None and len(ids) == cfg.batch_size:
        return "BatchSize", len(ids)
    return "BatchWindow", len(ids)


class Run:
    """One execution of the job. Use run() below."""

    def __init__(self, spark, cfg, clients=None, crash_at=None):
        self.spark = spark
        self.cfg = cfg
        self.clients = clients or {}
        self.crash_at = crash_at or cfg.crash_at
        if self.crash_at and self.crash_at not in CRASH_POINTS:
            raise ValueError("unknown crash point %s" % self.crash_at)
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.run_id = "run-%s-%s" % (self.started.strftime("%Y%m%dT%H%M%S"), uuid.uuid4().hex[:8])
        s3 = self.clients.get("s3")
        self.storage = pio.Storage(cfg.local_s3_root, s3)
        self.state = pio.StateStore(self.storage, cfg.state_path)
        self.ledger = None
        self.files = []           # one record per distinct object version
        self.messages = []
        self.destinations = []
        self.pending = None
        self.catalog = None
        self.out_schema = None
        self.read_path = None
        self.loaded_bytes = 0
        self.lock = threading.Lock()
        self.stop_heartbeat = threading.Event()

    # ------------------------------------------------------------ helpers
    def crash(self, point):
        if self.crash_at == point:
            raise pio.SimulatedCrash("simulated crash at %s" % point)

    def write_pending(self, destinations=()):
        with self.lock:
            if self.pending is None:
                return
            self.destinations.extend(destinations)
            self.pending["destinations"] = list(self.destinations)
            self.pending["heartbeat_at"] = time.time()
            self.state.write_pending(self.pending)

    def add_destinations(self, uris):
        """Write-ahead: record destinations before anything is copied there."""
        self.write_pending(uris)

    def _heartbeat_loop(self):
        """Keep the run's lease: SQS visibility and the pending record's heartbeat."""
        interval = max(0.3, self.cfg.visibility / 3.0)
        while not self.stop_heartbeat.wait(interval):
            try:
                if self.ledger:
                    self.ledger.extend([m["receipt"] for m in self.messages])
                if self.pending is not None:
                    self.write_pending()
            except Exception as err:  # a missed beat is retried on the next tick
                _log("heartbeat failed: %s" % err)

    def execute(self):
        self.stop_heartbeat.clear()
        beat = threading.Thread(target=self._heartbeat_loop, name="lease-heartbeat", daemon=True)
        beat.start()
        try:
            return self._execute()
        finally:
            self.stop_heartbeat.set()
            beat.join()

    # ------------------------------------------------------------ discovery
    def discover(self):
        cfg = self.cfg
        by_ref = {}
        if cfg.queue_url:
            self.ledger = pio.Ledger(_client(self.clients, "sqs"), cfg.queue_url,
                                     cfg.visibility, cfg.wait_seconds)
            self.messages, leftover = self.ledger.drain(cfg.max_files)
            if leftover:
                self.ledger.release([m["receipt"] for m in leftover])
            for msg in self.messages:
                for ref in msg["refs"]:
                    uri = pio.object_uri(ref["bucket"], ref["key"])
                    rec = by_ref.setdefault((uri, ref["etag"]), {
                        "uri": uri, "bucket": ref["bucket"], "key": ref["key"],
                        "event_etag": ref["etag"], "version_id": ref["version_id"],
                        "receipts": []})
                    rec["receipts"].append(msg["receipt"])
        else:
            for given in cfg.input_files:
                uri = given if given.startswith("s3://") else os.path.abspath(
                    unquote(given[len("file://"):]) if given.startswith("file://") else given)
                bucket, key = pio.split_s3(uri) if uri.startswith("s3://") else (None, uri)
                by_ref.setdefault((uri, None), {"uri": uri, "bucket": bucket, "key": key,
                                                "event_etag": None, "version_id": None,
                                                "receipts": []})
        merged = {}
        recs = list(by_ref.values())

        def head(rec):
            try:
                return self.storage.head(rec["uri"]), None
            except FileNotFoundError as err:
                decoded = unquote_plus(rec["key"]) if rec["bucket"] else rec["key"]
                if decoded == rec["key"]:
                    return None, err
                # Defensive: a URL-encoded key ('+' for space) from an older or
                # direct S3 notification shape; use it only if that object exists.
                uri = pio.object_uri(rec["bucket"], decoded)
                try:
                    found = self.storage.head(uri)
                except FileNotFoundError:
                    return None, err
                rec.update(uri=uri, key=decoded)
                return found, None
            except Exception as err:  # reported per file below
                return None, err

        heads = _parallel(head, recs)
        for rec, (found, error) in zip(recs, heads):
            rec.update({"rows_in": 0, "rows_out": 0, "rows_rejected": 0, "bytes": 0,
                        "status": None, "reason": None})
            try:
                if error is not None:
                    raise error
                size, etag = found
            except FileNotFoundError:
                rec.update(status="failed", reason="object not found", etag=rec["event_etag"])
                merged[(rec["uri"], rec["event_etag"], id(rec))] = rec
                continue
            except Exception as err:  # this file fails, the others go on
                rec.update(status="failed", reason="head failed: %s" % err, etag=rec["event_etag"])
                merged[(rec["uri"], rec["event_etag"], id(rec))] = rec
                continue
            rec["bytes"] = size
            if rec["event_etag"] and rec["event_etag"] != etag and self.state.is_done(
                    rec["uri"], rec["event_etag"]):
                rec.update(status="skipped_duplicate", etag=rec["event_etag"],
                           reason="already committed by an earlier run")
                merged[(rec["uri"], rec["event_etag"], id(rec))] = rec
                continue
            if rec["event_etag"] and rec["event_etag"] != etag:
                rec.update(status="skipped_superseded", etag=rec["event_etag"],
                           reason="object was overwritten since this event (current ETag %s)" % etag)
                merged[(rec["uri"], rec["event_etag"], id(rec))] = rec
                continue
            rec["etag"] = etag
            key = (rec["uri"], etag)
            if key in merged:
                merged[key]["receipts"].extend(rec["receipts"])
                continue
            merged[key] = rec
            if key in self.state.claimed:
                rec.update(status="skipped_in_flight",
                           reason="claimed by a run that is still in flight")
        self.files = list(merged.values())
        todo = [r for r in self.files if r["status"] is None]
        done = _parallel(lambda r: self.state.is_done(r["uri"], r["etag"]), todo)
        for rec, is_done in zip(todo, done):
            if is_done:
                rec.update(status="skipped_duplicate", reason="already committed by an earlier run")

    # ------------------------------------------------------------ reading
    def quarantine(self, rec, reason):
        base = pio.join_uri(self.cfg.rejected_path, "quarantine", self.run_id,
                            rec["bucket"] or "local", rec["key"].lstrip("/"))
        self.add_destinations([base, base + ".reason.json"])
        self.storage.copy(rec["uri"], base)
        self.storage.write_json(base + ".reason.json", {
            "source_file": rec["uri"], "etag": rec["etag"], "reason": reason,
            "run_id": self.run_id, "quarantined_at": self.started.isoformat()})
        rec.update(status="quarantined", reason=reason)

    def plan_groups(self, todo):
        """Group files into as few Spark reads as possible."""
        groups = {}
        probes = _parallel(lambda r: pio.probe_file(self.storage, r["uri"], r["bytes"]), todo)
        for rec, probe in zip(todo, probes):
            fmt = pt.format_from_name(rec["key"], self.cfg.input_format)
            if probe["quarantine"]:
                self.quarantine(rec, probe["quarantine"])
                continue
            if probe["empty"]:
                rec["status"] = "ok"
                continue
            fmt = fmt or pio.sniff_format(probe["sample"])
            if fmt == "JSON":
                gkey = ("JSON", probe["sample"].lstrip().startswith("["))
            else:
                header = pio.csv_header(probe["sample"])
                if header is None:
                    rec["status"] = "ok"
                    continue
                gkey = ("CSV", tuple(pt.strip_bom(h) for h in header))
            groups.setdefault(gkey, []).append(rec)
        return groups

    def read_group(self, gkey, recs):
        spark = self.spark
        paths = [_glob_escape(self.storage.spark_path(r["uri"])) for r in recs]
        if gkey[0] == "JSON":
            reader = (spark.read.option("mode", "PERMISSIVE")
                      .option("columnNameOfCorruptRecord", pt.CORRUPT_COLUMN)
                      .option("multiLine", "true" if gkey[1] else "false"))
            df = reader.json(paths)
            fmt = "JSON"
            # JSON inference adds the corrupt-record column only if some record
            # of these files is malformed: without it, no row can be rejected.
            clean = pt.CORRUPT_COLUMN not in df.columns
        else:
            base = (spark.read.option("header", "true").option("multiLine", "true")
                    .option("escape", '"'))
            inferred = base.option("inferSchema", "true").csv(paths).schema
            schema = pt.csv_schema_with_corrupt(inferred, list(gkey[1]))
            df = (base.schema(schema).option("enforceSchema", "true")
                  .option("mode", "PERMISSIVE")
                  .option("columnNameOfCorruptRecord", pt.CORRUPT_COLUMN).csv(paths))
            fmt = "CSV"
            clean = False
        df = pt.with_source_file(df, {self.spark_key(r["uri"]): r["uri"] for r in recs})
        return pt.with_reject_reason(df, fmt), clean

    def spark_key(self, uri):
        """The normalized path Spark reports for an input (see normalized_input_path)."""
        path = self.storage.spark_path(uri)
        return path if path.startswith("s3://") else os.path.normpath(path)

    def load(self, groups, table_types, allow_fast=True):
        """Read the groups; returns (cached df or None, per-file counts).

        Fast path: when no row can be rejected (clean JSON, no type
        conflict), the rows are written to staging in the same pass and the
        counts come from the staged Parquet, so the input is parsed once after
        inference. Otherwise the parsed rows are cached once and one aggregate
        gives the counts.
        """
        read = [self.read_group(k, v) for k, v in groups.items() if v]
        df = pt.union_all([frame for frame, _ in read])
        if df is None:
            return None, []
        df = pt.normalize_types(df)
        df, conflicts = pt.resolve_type_conflicts(df, table_types, self.cfg.partition_columns)
        total_bytes = sum(r["bytes"] for recs in groups.values() for r in recs)
        if allow_fast and not conflicts and all(clean for _, clean in read):
            self.stage_output(df, total_bytes)
            self.read_path = "fast"
            return None, self.staged_counts()
        self.read_path = "checked"
        df = df.persist()
        self.loaded_bytes = total_bytes
        try:
            counts = pt.per_file_counts(df).collect()
        except Exception:
            df.unpersist()
            raise
        return df, counts

    def read_all(self, table_types):
        todo = [r for r in self.files if r["status"] is None]
        groups = self.plan_groups(todo)
        if todo and all(not self.storage.spark_path(r["uri"]).startswith("s3://") for r in todo):
            # Local files: list them on the driver instead of a Spark job per
            # read (Spark distributes listing above 32 paths, built for S3).
            self.spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold",
                                str(max(32, len(todo) + 1)))
        try:
            return self.load(groups, table_types)
        except Exception as err:
            _log("batch read failed (%s); isolating bad files" % str(err).splitlines()[0][:300])
        self.storage.delete_prefix(self.state.staging(self.run_id))
        good = {}
        for gkey, recs in groups.items():
            for rec in recs:
                try:
                    df, _ = self.load({gkey: [rec]}, table_types, allow_fast=False)
                    if df is not None:
                        df.unpersist()
                    good.setdefault(gkey, []).append(rec)
                except Exception as err:
                    text = str(err)
                    first = text.strip().splitlines()[0][:500] if text.strip() else type(err).__name__
                    if any(marker in text for marker in CONTENT_ERRORS):
                        self.quarantine(rec, "unreadable file: %s" % first)
                    else:
                        rec.update(status="failed", reason="read failed: %s" % first)
        return self.load(good, table_types)

    # ------------------------------------------------------------ main flow
    def table_types(self):
        if self.catalog:
            return self.catalog.column_types()
        uri = self.state.uri("table_schema.json")
        return self.storage.read_json(uri) if self.storage.exists(uri) else {}

    def account(self, counts):
        """Per-file row counts (from the aggregate or the staged output)."""
        by_uri = {rec["uri"]: rec for rec in self.files if rec["status"] is None}
        for row in counts:
            rec = by_uri.get(row[pt.SOURCE_COLUMN])
            if rec is None:
                raise RuntimeError("rows from unexpected input %s" % row[pt.SOURCE_COLUMN])
            rec["rows_in"] += int(row["rows_in"])
            rec["rows_rejected"] += int(row["rows_rejected"] or 0)
        for rec in self.files:
            if rec["status"] is None:
                rec["status"] = "ok"
            rec["rows_out"] = rec["rows_in"] - rec["rows_rejected"]

    def _execute(self):
        cfg = self.cfg
        t0 = time.time()
        recovery = self.state.recover(lease_seconds=cfg.visibility)
        if any(recovery.values()):
            _log("recovered: %s" % recovery)
        condition, event_count = batch_condition(cfg, self.clients)
        if cfg.catalog_update:
            self.catalog = pio.Catalog(_client(self.clients, "glue"), cfg.database, cfg.table,
                                       cfg.output_path, cfg.partition_columns)
        phases = {"recover": round(time.time() - t0, 3)}
        mark = time.time()
        self.discover()
        phases["discover"] = round(time.time() - mark, 3)
        mark = time.time()
        self.pending = {"run_id": self.run_id, "started_at": self.started.isoformat(),
                        "sources": [{"uri": f["uri"], "etag": f["etag"]} for f in self.files
                                    if f["status"] is None],
                        "destinations": []}
        self.write_pending()

        table_types = self.table_types()
        df, counts = self.read_all(table_types)
        phases["read"] = round(time.time() - mark, 3)
        mark = time.time()
        try:
            self.account(counts)
            self.crash("after_read")
        except BaseException:
            if df is not None:
                df.unpersist()
            raise

        published, partition_dirs, rejected_uri = [], set(), None
        if df is not None:
            try:
                rejected_uri = self.write_rejected(df)
                if sum(f["rows_out"] for f in self.files):
                    self.stage_output(df, self.loaded_bytes)
            finally:
                df.unpersist()
        if sum(f["rows_out"] for f in self.files):
            published, partition_dirs = self.publish()
        self.crash("after_write")
        phases["write"] = round(time.time() - mark, 3)
        mark = time.time()

        if published:
            self.update_schema(published)
        self.crash("after_catalog")
        phases["catalog"] = round(time.time() - mark, 3)
        mark = time.time()

        ok = [f for f in self.files if f["status"] in ("ok", "quarantined")]
        totals = {k: sum(f[k] for f in ok) for k in ("rows_in", "rows_out", "rows_rejected")}
        if totals["rows_out"] + totals["rows_rejected"] != totals["rows_in"]:
            raise AssertionError("stats invariant violated: %s" % totals)
        if not self.state.pending_exists(self.run_id):
            raise RuntimeError("run %s was rolled back by another run's recovery "
                               "(lease lost); not committing" % self.run_id)
        self.state.commit({
            "run_id": self.run_id, "committed_at": datetime.datetime.now(
                datetime.timezone.utc).isoformat(),
            "sources": [{"uri": f["uri"], "etag": f["etag"], "status": f["status"]} for f in ok],
            "files": published, "rejected_records": rejected_uri,
            "partitions": sorted(partition_dirs)})
        self.crash("after_commit")
        self.state.write_markers(self.run_id, [
            {"uri": f["uri"], "etag": f["etag"], "status": f["status"]} for f in ok])

        finished = datetime.datetime.now(datetime.timezone.utc)
        stats = {
            "run_id": self.run_id, "job_name": cfg.job_name,
            "workflow_name": cfg.workflow_name, "workflow_run_id": cfg.workflow_run_id,
            "batch_condition": condition, "workflow_event_count": event_count,
            "mode": "ledger" if cfg.queue_url else "replay",
            "files": [{"uri": f["uri"], "bucket": f["bucket"], "key": f["key"], "etag": f["etag"],
                       "rows_in": f["rows_in"], "rows_out": f["rows_out"],
                       "rows_rejected": f["rows_rejected"], "bytes": f["bytes"],
                       "status": f["status"], "reason": f["reason"]} for f in self.files],
            "files_processed": len(ok),
            "rows_in": totals["rows_in"], "rows_out": totals["rows_out"],
            "rows_rejected": totals["rows_rejected"],
            "bytes_in": sum(f["bytes"] for f in ok),
            "output_files": len(published), "output_paths": published,
            "rejected_records_path": rejected_uri,
            "messages_received": len(self.messages),
            "messages_unparseable": sum(1 for m in self.messages if m["error"]),
            "recovered_runs": recovery,
            "started_at": self.started.isoformat(), "finished_at": finished.isoformat(),
            "seconds": round(time.time() - t0, 3),
            "phase_seconds": phases,
            "read_path": self.read_path,
        }
        self.storage.write_json(pio.join_uri(cfg.stats_path, self.run_id + ".json"), stats)

        if self.ledger:
            status = {}
            for f in self.files:
                for receipt in f["receipts"]:
                    status.setdefault(receipt, []).append(f["status"])
            ackable = [m["receipt"] for m in self.messages if not m["error"] and m["refs"]
                       and all(s in ACKABLE for s in status.get(m["receipt"], ["failed"]))]
            failed = self.ledger.ack(ackable)
            if failed:
                _log("delete_message_batch failures: %s" % failed)
        with self.lock:
            self.pending = None
        self.state.finish(self.run_id)
        _log("run %s: %d files, %d rows in, %d out, %d rejected, %d output files" % (
            self.run_id, len(ok), totals["rows_in"], totals["rows_out"],
            totals["rows_rejected"], len(published)))
        return stats

    def write_rejected(self, df):
        rejected = sum(f["rows_rejected"] for f in self.files)
        if not rejected:
            return None
        rows = pt.rejected_rows(df).collect()
        by_source = {}
        for row in rows:
            by_source.setdefault(row["source_file"], []).append(row)
        lines = []
        for source, items in by_source.items():
            try:
                text = pio.read_text(self.storage, source)
                positions = pio.locate_positions(text, [r["raw_record"] for r in items])
            except (OSError, ValueError) as err:
                _log("positions unavailable for %s: %s" % (source, err))
                positions = [None] * len(items)
            for row, pos in zip(items, positions):
                lines.append(json.dumps({"source_file": source, "position": pos,
                                         "reason": row["reason"], "raw_record": row["raw_record"],
                                         "run_id": self.run_id}, ensure_ascii=False))
        uri = pio.join_uri(self.cfg.rejected_path, "records", self.run_id + ".jsonl")
        self.add_destinations([uri])
        self.storage.write_bytes(uri, ("\n".join(lines) + "\n").encode("utf-8"))
        return uri

    def stage_output(self, df, total_bytes):
        """Spark writes the accepted rows as Parquet under the run's staging."""
        cfg = self.cfg
        data_cols = pt.data_columns(df)
        constants = {}
        for col in cfg.partition_columns:
            if col not in data_cols:
                constants[col] = self.started.strftime("%Y-%m-%d") if col == "ingest_date" else None
        prefix, dynamic = pt.split_partitions(cfg.partition_columns, constants)
        out = pt.accepted_rows(df, self.started.isoformat(),
                               {k: v for k, v in constants.items() if k in dynamic})
        self.out_schema = out.schema
        n_files = pt.output_file_count(total_bytes, cfg.target_mb)
        writer = pt.shape_for_output(out, n_files).write.mode("overwrite").option(
            "compression", "snappy")
        if dynamic:
            writer = writer.partitionBy(*dynamic)
        target = pio.join_uri(self.state.staging(self.run_id), *prefix)
        writer.parquet(self.storage.spark_path(target))

    def staged_files(self):
        staging = self.state.staging(self.run_id)
        return [u for u in self.storage.list(staging)
                if u.endswith(".parquet") and not u.rsplit("/", 1)[-1].startswith(".")]

    def staged_counts(self):
        """rows per source file, read back from the staged Parquet (one column)."""
        if not self.staged_files():
            return []
        staged = self.spark.read.parquet(self.storage.spark_path(self.state.staging(self.run_id)))
        rows = staged.groupBy(pt.SOURCE_COLUMN).count().collect()
        return [{pt.SOURCE_COLUMN: r[pt.SOURCE_COLUMN], "rows_in": r["count"], "rows_rejected": 0}
                for r in rows]

    def publish(self):
        """Copy staged files to the table location, write-ahead in the pending record."""
        staging = self.state.staging(self.run_id)
        plan, dirs = [], set()
        for src in self.staged_files():
            rel = src[len(staging):]
            rel_dir, _, base = rel.rpartition("/")
            if rel_dir:
                dirs.add(rel_dir)
            plan.append((src, pio.join_uri(self.cfg.output_path, rel_dir,
                                           "%s-%s" % (self.run_id, base))))
        self.add_destinations([d for _, d in plan])
        half = len(plan) // 2
        for i, (src, dst) in enumerate(plan):
            if i == max(1, half) and self.crash_at == "mid_write":
                self.crash("mid_write")
            self.storage.copy(src, dst)
        if self.crash_at == "mid_write":
            self.crash("mid_write")
        return [d for _, d in plan], dirs

    def update_schema(self, published):
        columns = [(f.name, pt.spark_to_hive_type(f.dataType)) for f in self.out_schema.fields]
        if self.catalog:
            self.catalog.ensure_table(columns)
            dirs = set()
            for uri in published:
                rel = uri[len(self.cfg.output_path):].rpartition("/")[0]
                if rel:
                    dirs.add(rel)
            if dirs and self.cfg.partition_columns:
                self.catalog.add_partitions(dirs)
        else:
            uri = self.state.uri("table_schema.json")
            current = self.storage.read_json(uri) if self.storage.exists(uri) else {}
            for name, hive_type in columns:
                if name.lower() not in {p.lower() for p in self.cfg.partition_columns}:
                    current.setdefault(name.lower(), hive_type)
            self.storage.write_json(uri, current)


def run(spark, args, crash_at=None, clients=None):
    """Run the job once. args: dict of argument names (without "--") to strings.

    crash_at: test hook; raises SimulatedCrash at after_read, mid_write,
    after_write, after_catalog or after_commit. clients: optional boto3
    clients {"sqs", "glue", "s3"}. Returns the stats dict.
    """
    cfg = Config(args)
    return Run(spark, cfg, clients=clients, crash_at=crash_at).execute()


def main(argv=None):
    from pyspark.sql import SparkSession
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName(args.get("JOB_NAME", DEFAULTS["JOB_NAME"])).getOrCreate()
    stats = run(spark, args)
    _log(json.dumps({k: stats[k] for k in ("run_id", "files_processed", "rows_in", "rows_out",
                                           "rows_rejected", "output_files", "seconds")}))
    return stats


if __name__ == "__main__":
    main()

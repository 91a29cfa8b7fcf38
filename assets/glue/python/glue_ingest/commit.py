"""Commit phase: the protocol's records and the run's commit.

Pending (write-ahead) records, atomic commit records and per-object markers
under the state prefix; recovery of runs that crashed; and ``commit()``, the
single write that makes a run's output count.
"""
import datetime
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from .uris import join_uri

#: Statuses whose ledger messages are deleted after the commit.
ACKABLE = ("ok", "quarantined", "skipped_duplicate", "skipped_superseded")


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
      table_schema.json          the columns, when no catalog keeps them
      staging/<run_id>/          Spark's output before publishing
    """

    def __init__(self, storage, state_path, legacy=None):
        self.storage = storage
        self.root = state_path if state_path.endswith("/") else state_path + "/"
        self.claimed = set()  # (uri, etag) of runs in flight, filled by recover()
        # The state of this pipeline written by a release that kept it in a shared root:
        # its markers still count and its crashed runs are repaired; nothing new goes there.
        self.legacy = legacy

    def uri(self, *parts):
        return join_uri(self.root, *parts)

    def staging(self, run_id):
        return self.uri("staging", run_id) + "/"

    def drop_staging(self, run_id):
        """The run's staging, and the ``staging/<run>_$folder$`` marker EMRFS (Glue 5.0's S3
        connector) writes next to a folder it creates: no staged object outlives its run.
        (Markers inside the folder go with it; publishing copies only ``.parquet`` files.)"""
        self.storage.delete_prefix(self.staging(run_id))
        self.storage.delete(self.uri("staging", run_id) + "_$folder$")

    def write_pending(self, record):
        self.storage.write_json(self.uri("pending", record["run_id"] + ".json"), record)

    def commit(self, record):
        self.storage.write_json(self.uri("committed", record["run_id"] + ".json"), record)

    def is_committed(self, run_id):
        return self.storage.exists(self.uri("committed", run_id + ".json"))

    def marker_uri(self, uri, etag):
        return self.uri("objects", object_id(uri), safe_token(etag or "none") + ".json")

    def schema_uri(self):
        """Where the table's schema is kept without a catalog: this root's, or the legacy root's
        until this root has one."""
        own = self.uri("table_schema.json")
        if self.legacy is not None and not self.storage.exists(own) and self.storage.exists(self.legacy.schema_uri()):
            return self.legacy.schema_uri()
        return own

    def is_done(self, uri, etag):
        if self.storage.exists(self.marker_uri(uri, etag)):
            return True
        return self.legacy is not None and self.legacy.is_done(uri, etag)

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

    def delete_pending(self, run_id):
        self.storage.delete(self.uri("pending", run_id + ".json"))

    def pending_exists(self, run_id):
        return self.storage.exists(self.uri("pending", run_id + ".json"))

    def recover(self, lease_seconds=0, now=None, committed_in_table=None):
        """Repair runs that crashed. Returns {"rolled_back", "finalized", "in_flight"}.

        A pending record whose heartbeat is younger than lease_seconds belongs
        to a run that may still be alive and is left alone ("in_flight").
        Otherwise a pending run without a commit record is rolled back: its
        published files (listed in the pending record before each copy) and
        staging are deleted. A pending run with a commit record is finalized:
        markers are (re)written and staging removed. The pending record goes last.
        ``committed_in_table(run_ids) -> set``: the runs whose commit is in the
        table itself (an Iceberg snapshot), for a run that died after it.
        """
        now = time.time() if now is None else now
        report = {"rolled_back": [], "finalized": [], "in_flight": []}
        claimed = set()
        if self.legacy is not None:
            for outcome, run_ids in self.legacy.recover(lease_seconds, now, committed_in_table).items():
                report[outcome].extend(run_ids)
            claimed = set(self.legacy.claimed)
        self.claimed = claimed
        folder = self.uri("pending") + "/"
        for pending_uri in self.storage.list(folder):
            # Only <run_id>.json records right under pending/: a pipeline whose table is
            # named "pending" keeps its own state (and its table_schema.json) in the legacy
            # root's pending/ folder.
            name = pending_uri[len(folder):]
            if not name.endswith(".json") or "/" in name:
                continue
            record = self.storage.read_json(pending_uri)
            if not isinstance(record, dict) or record.get("run_id") != name[:-len(".json")]:
                continue
            run_id = record["run_id"]
            if now - float(record.get("heartbeat_at", 0)) < lease_seconds:
                report["in_flight"].append(run_id)
                self.claimed.update((src["uri"], src["etag"]) for src in record.get("sources", []))
                continue
            report[self.settle(record, committed_in_table)].append(run_id)
            self.storage.delete(pending_uri)
        return report

    def settle(self, record, committed_in_table=None):
        """Repairs one run that will not go on: finalizes it if it committed, else rolls it back.

        Returns "finalized" or "rolled_back". The pending record is left to the caller.
        """
        run_id = record["run_id"]
        if (not self.is_committed(run_id) and committed_in_table is not None and "committing" in record
                and run_id in committed_in_table({run_id})):
            self.commit({"run_id": run_id, "sources": record["committing"], "files": [],
                         "recovered_from": "table snapshot"})
        if self.is_committed(run_id):
            committed = self.storage.read_json(self.uri("committed", run_id + ".json"))
            self.write_markers(run_id, committed.get("sources", []))
            outcome = "finalized"
        else:
            for dest in record.get("destinations", []):
                self.storage.delete(dest)
            outcome = "rolled_back"
        self.drop_staging(run_id)
        return outcome

    def finish(self, run_id):
        self.drop_staging(run_id)
        self.storage.delete(self.uri("pending", run_id + ".json"))


def begin(ctx):
    """Write-ahead: the pending record names the run's sources before anything is written."""
    ctx.pending = {"run_id": ctx.run_id, "started_at": ctx.started.isoformat(),
                   "job_run_id": ctx.cfg.job_run_id,
                   "sources": [{"uri": f["uri"], "etag": f["etag"]} for f in ctx.todo()],
                   "destinations": []}
    ctx.write_pending()


class ReconciliationError(AssertionError):
    """The rows a round wrote are not the rows it read less the rows it rejected."""


def reconcile(ctx, written, snapshot=None):
    """Compares what the round wrote (its staged files' row counts; for Iceberg also the
    snapshot's ``added-records``) with what it read and rejected, file by file summed.

    Raises before anything counts: the round then rolls back and releases its messages.
    """
    done = [f for f in ctx.files if f["status"] in ("ok", "quarantined")]
    read = sum(f["rows_in"] for f in done)
    rejected = sum(f["rows_rejected"] for f in done)
    filtered = sum(f.get("rows_filtered", 0) for f in done)
    if written != read - rejected - filtered:
        raise ReconciliationError("reconciliation failed in round %s: wrote %d rows, read %d, rejected %d and "
                                  "filtered %d (%d expected); nothing is committed" % (
                                      ctx.run_id, written, read, rejected, filtered, read - rejected - filtered))
    added = (snapshot or {}).get("added-records")
    if added is not None and int(added) != written:
        raise ReconciliationError("reconciliation failed in round %s: the Iceberg snapshot added %s rows, the round "
                                  "staged %d" % (ctx.run_id, added, written))


def commit(ctx, published, partition_dirs, rejected_uri):
    """Checks the row invariant and the lease, then writes the commit record and the markers.

    Returns the files the commit covers (status ok or quarantined).
    """
    done = [f for f in ctx.files if f["status"] in ("ok", "quarantined")]
    totals = {k: sum(f.get(k, 0) for f in done) for k in ("rows_in", "rows_out", "rows_rejected", "rows_filtered")}
    if totals["rows_out"] + totals["rows_rejected"] + totals["rows_filtered"] != totals["rows_in"]:
        raise AssertionError("stats invariant violated: %s" % totals)
    if not ctx.state.pending_exists(ctx.run_id):
        raise RuntimeError("run %s was rolled back by another run's recovery "
                           "(lease lost); not committing" % ctx.run_id)
    sources = [{"uri": f["uri"], "etag": f["etag"], "status": f["status"]} for f in done]
    ctx.state.commit({
        "run_id": ctx.run_id,
        "committed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "sources": sources, "files": published, "rejected_records": rejected_uri,
        "partitions": sorted(partition_dirs)})
    ctx.faults.point("after_commit")
    ctx.state.write_markers(ctx.run_id, sources)
    return done


def acknowledge(ctx):
    """Deletes the ledger messages whose every object reached an ackable status.

    A message that is not acknowledged stays leased until the lease runs out,
    then returns (and reaches the dead-letter queue after ``maxReceiveCount``
    receives). One older than ``--ledger_max_age_seconds`` is parked in the
    dead-letter queue at once, with its reason, instead of waiting to expire.
    Returns (failed deletes, parked messages as {message_id, reason}).
    """
    if not ctx.ledger:
        return [], []
    status = {}
    for f in ctx.files:
        for receipt in f["receipts"]:
            status.setdefault(receipt, []).append((f["status"], f["reason"], f["key"]))
    ackable, parked = [], []
    now = time.time()
    for m in ctx.messages:
        outcomes = status.get(m["receipt"], [])
        if not m["error"] and m["refs"] and outcomes and all(s in ACKABLE for s, _, _ in outcomes):
            ackable.append(m["receipt"])
        elif ctx.ledger.dead_letter_url and now - m["sent_at"] > ctx.cfg.ledger_max_age:
            reason = m["error"] or "; ".join("%s: %s (%s)" % (k, r or s, s) for s, r, k in outcomes
                                             if s not in ACKABLE) or "not processed"
            reason = "waited %.1f days, longer than the ledger's maximum age: %s" % (
                (now - m["sent_at"]) / 86400.0, reason)
            ctx.ledger.park(m, reason)
            parked.append({"message_id": m["message_id"], "reason": reason})
    failed = ctx.ledger.ack(ackable)
    with ctx.lock:
        # Messages not acknowledged are no longer renewed: they return after the lease.
        ctx.messages = []
    return failed, parked


def abandon(ctx):
    """A round that failed cleans up after itself before the run exits.

    Its own writes are rolled back (or, had it committed, finalized), its
    pending record goes, and its ledger messages are made visible at once, so
    Glue's retry or the next run takes them without waiting for the lease.
    Returns what was done, for the log.
    """
    with ctx.lock:
        record, ctx.pending = ctx.pending, None
    outcome = None
    if record is not None:
        record["destinations"] = list(ctx.destinations)
        outcome = ctx.state.settle(record, ctx.iceberg.committed_runs if ctx.iceberg else None)
        ctx.state.delete_pending(ctx.run_id)
    released = 0
    if ctx.ledger:
        receipts = ctx.leased()
        ctx.ledger.release(receipts)
        released = len(receipts)
        ctx.released = list(ctx.messages) + list(ctx.held)
        ctx.messages, ctx.held = [], []
    return {"run_id": ctx.run_id, "outcome": outcome, "released_messages": released}


def finish(ctx):
    """The run is over: staging and the pending record go."""
    with ctx.lock:
        ctx.pending = None
    ctx.state.finish(ctx.run_id)

"""Discover phase: what this run must read.

Drains the ledger (or takes the replayed files), merges repeated events for one
object version, checks each object's current ETag and skips what an earlier run
committed or a live run holds.
"""
import os
from urllib.parse import unquote, unquote_plus

from .context import log, parallel
from .events import parse_event_ids
from .uris import object_uri, split_s3


def batch_condition(ctx):
    """Which batching condition started this run, and how many events it held.

    Glue's own record first (``GetWorkflowRun``'s ``StartingEventBatchCondition``);
    failing that, the number of ``aws:eventIds`` compared with ``--batch_size``.
    Reporting only: a failure here never fails the run.
    """
    cfg = ctx.cfg
    if cfg.input_files and not cfg.queue_url:
        return "replay", None
    if not (cfg.workflow_name and cfg.workflow_run_id):
        return "unknown", None
    try:
        glue = ctx.client("glue")
        run = glue.get_workflow_run(Name=cfg.workflow_name, RunId=cfg.workflow_run_id,
                                    IncludeGraph=False)["Run"]
    except Exception as err:  # reporting only
        log("batch condition unknown: %s" % err)
        return "unknown", None
    # Glue sets exactly one member non-zero: BatchSize (the events that filled the
    # batch) or BatchWindow (the window that expired).
    starting = run.get("StartingEventBatchCondition") or {}
    ids = parse_event_ids((run.get("WorkflowRunProperties") or {}).get("aws:eventIds"))
    if starting.get("BatchSize"):
        return "BatchSize", int(starting["BatchSize"])
    if starting.get("BatchWindow"):
        return "BatchWindow", None if ids is None else len(ids)
    if ids is None:
        return "unknown", None
    if cfg.batch_size is not None and len(ids) == cfg.batch_size:
        return "BatchSize", len(ids)
    return "BatchWindow", len(ids)


def _new_record(uri, bucket, key, etag=None, version_id=None):
    return {"uri": uri, "bucket": bucket, "key": key, "event_etag": etag,
            "version_id": version_id, "receipts": [], "rows_in": 0, "rows_out": 0,
            "rows_rejected": 0, "bytes": 0, "status": None, "reason": None, "etag": etag}


def _from_ledger(ctx):
    ctx.messages, ctx.held = ctx.ledger.drain(ctx.cfg.max_files, held=ctx.held)
    ctx.round_messages = list(ctx.messages)
    by_ref = {}
    for msg in ctx.messages:
        for ref in msg["refs"]:
            uri = object_uri(ref["bucket"], ref["key"])
            rec = by_ref.setdefault((uri, ref["etag"]), _new_record(
                uri, ref["bucket"], ref["key"], ref["etag"], ref["version_id"]))
            rec["receipts"].append(msg["receipt"])
    return list(by_ref.values())


def _from_replay(ctx):
    by_uri = {}
    for given in ctx.cfg.input_files:
        if given.startswith("s3://"):
            uri = given
            bucket, key = split_s3(uri)
        else:
            path = unquote(given[len("file://"):]) if given.startswith("file://") else given
            uri, bucket, key = os.path.abspath(path), None, os.path.abspath(path)
        by_uri.setdefault(uri, _new_record(uri, bucket, key))
    return list(by_uri.values())


def _head(ctx, rec):
    """(size, etag) of the object, or (None, error).

    Defensive: a URL-encoded key ('+' for space) from an older or direct S3
    notification shape is used decoded, but only if that object exists.
    """
    try:
        return ctx.storage.head(rec["uri"]), None
    except FileNotFoundError as err:
        decoded = unquote_plus(rec["key"]) if rec["bucket"] else rec["key"]
        if decoded == rec["key"]:
            return None, err
        uri = object_uri(rec["bucket"], decoded)
        try:
            found = ctx.storage.head(uri)
        except FileNotFoundError:
            return None, err
        rec.update(uri=uri, key=decoded)
        return found, None
    except Exception as err:  # reported per file
        return None, err


def discover(ctx):
    """Fills ``ctx.files``: one record per distinct object version, with a status
    for those this run will not read (failed, skipped_*)."""
    recs = _from_ledger(ctx) if ctx.cfg.queue_url else _from_replay(ctx)
    merged = {}
    heads = parallel(lambda r: _head(ctx, r), recs)
    for rec, (found, error) in zip(recs, heads):
        alone = (rec["uri"], rec["event_etag"], id(rec))
        if isinstance(error, FileNotFoundError):
            rec.update(status="failed", reason="object not found")
            merged[alone] = rec
            continue
        if error is not None:
            rec.update(status="failed", reason="head failed: %s" % error)
            merged[alone] = rec
            continue
        size, etag = found
        rec["bytes"] = size
        if rec["event_etag"] and rec["event_etag"] != etag:
            if ctx.state.is_done(rec["uri"], rec["event_etag"]):
                rec.update(status="skipped_duplicate", reason="already committed by an earlier run")
            else:
                rec.update(status="skipped_superseded",
                           reason="object was overwritten since this event (current ETag %s)" % etag)
            merged[alone] = rec
            continue
        rec["etag"] = etag
        key = (rec["uri"], etag)
        if key in merged:
            merged[key]["receipts"].extend(rec["receipts"])
            continue
        merged[key] = rec
        if key in ctx.state.claimed:
            rec.update(status="skipped_in_flight", reason="claimed by a run that is still in flight")
    ctx.files = list(merged.values())
    todo = ctx.todo()
    done = parallel(lambda r: ctx.state.is_done(r["uri"], r["etag"]), todo)
    for rec, is_done in zip(todo, done):
        if is_done:
            rec.update(status="skipped_duplicate", reason="already committed by an earlier run")

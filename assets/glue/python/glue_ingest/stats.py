"""Stats phase: one JSON document per run, with every file's outcome and reason."""
import datetime
import time

from .uris import join_uri


def document(ctx, condition, event_count, done, published, rejected_uri, recovery, began):
    cfg = ctx.cfg
    totals = {k: sum(f[k] for f in done) for k in ("rows_in", "rows_out", "rows_rejected")}
    finished = datetime.datetime.now(datetime.timezone.utc)
    return {
        "run_id": ctx.run_id, "job_name": cfg.job_name, "job_run_id": cfg.job_run_id,
        "workflow_name": cfg.workflow_name, "workflow_run_id": cfg.workflow_run_id,
        "batch_condition": condition, "workflow_event_count": event_count,
        "mode": "ledger" if cfg.queue_url else "replay",
        "files": [{"uri": f["uri"], "bucket": f["bucket"], "key": f["key"], "etag": f["etag"],
                   "rows_in": f["rows_in"], "rows_out": f["rows_out"],
                   "rows_rejected": f["rows_rejected"], "bytes": f["bytes"],
                   "status": f["status"], "reason": f["reason"]} for f in ctx.files],
        "files_processed": len(done),
        "rows_in": totals["rows_in"], "rows_out": totals["rows_out"],
        "rows_rejected": totals["rows_rejected"],
        "bytes_in": sum(f["bytes"] for f in done),
        "output_files": len(published), "output_paths": published,
        "rejected_records_path": rejected_uri,
        "messages_received": len(ctx.messages),
        "messages_unparseable": sum(1 for m in ctx.messages if m["error"]),
        "recovered_runs": recovery,
        "started_at": ctx.started.isoformat(), "finished_at": finished.isoformat(),
        "seconds": round(time.time() - began, 3),
        "phase_seconds": dict(ctx.phases),
        "read_path": ctx.read_path,
    }


def write(ctx, stats):
    ctx.storage.write_json(join_uri(ctx.cfg.stats_path, ctx.run_id + ".json"), stats)

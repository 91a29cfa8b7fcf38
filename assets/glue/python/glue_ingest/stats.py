"""Stats phase: one JSON document per round, with every file's outcome and reason,
and the round's row counts as CloudWatch metrics."""
import datetime
import time

from .context import log
from .uris import join_uri

#: Totals that add up over the rounds of a run.
_SUMMED = ("files_processed", "files_failed", "files_quarantined", "rows_in", "rows_out", "rows_rejected",
           "rows_written", "rows_filtered",
           "bytes_in", "output_files", "messages_received", "messages_unparseable", "objects_received")


def document(ctx, condition, event_count, done, published, rejected_uri, recovery, began, parked=()):
    cfg = ctx.cfg
    totals = {k: sum(f.get(k, 0) for f in done) for k in ("rows_in", "rows_out", "rows_rejected", "rows_filtered")}
    rules = {}
    for rule in cfg.row_rules:
        failed = sum(f.get("rule_failures", {}).get(rule["name"], 0) for f in done)
        rules[rule["name"]] = {"action": rule["action"], "failed": failed}
    finished = datetime.datetime.now(datetime.timezone.utc)
    return {
        "run_id": ctx.run_id, "round": ctx.round,
        "job_name": cfg.job_name, "job_run_id": cfg.job_run_id,
        "workflow_name": cfg.workflow_name, "workflow_run_id": cfg.workflow_run_id,
        "batch_condition": condition, "workflow_event_count": event_count,
        "mode": "ledger" if cfg.queue_url else "replay",
        "files": [{"uri": f["uri"], "bucket": f["bucket"], "key": f["key"], "etag": f["etag"],
                   "rows_in": f["rows_in"], "rows_out": f["rows_out"],
                   "rows_rejected": f["rows_rejected"], "rows_filtered": f.get("rows_filtered", 0),
                   "rule_failures": f.get("rule_failures", {}), "bytes": f["bytes"],
                   "status": f["status"], "reason": f["reason"]} for f in ctx.files],
        "objects_received": len(ctx.files),
        "files_processed": len(done),
        "files_failed": sum(1 for f in ctx.files if f["status"] == "failed"),
        "files_quarantined": sum(1 for f in ctx.files if f["status"] == "quarantined"),
        "rows_in": totals["rows_in"], "rows_out": totals["rows_out"],
        "rows_rejected": totals["rows_rejected"],
        # Rows the transform left out, and each row rule's failures (rejected or flagged).
        "rows_filtered": totals["rows_filtered"],
        "rule_failures": rules,
        # Counted from the staged files' footers, and checked against rows_in - rows_rejected.
        "rows_written": ctx.rows_written,
        "bytes_in": sum(f["bytes"] for f in done),
        "output_files": len(published) or int(ctx.snapshot.get("added-data-files", 0) or 0),
        "output_paths": published,
        "rejected_records_path": rejected_uri,
        "messages_received": len(ctx.round_messages),
        "messages_unparseable": sum(1 for m in ctx.round_messages if m["error"]),
        "messages_parked": list(parked),
        "recovered_runs": recovery,
        "started_at": ctx.started.isoformat(), "finished_at": finished.isoformat(),
        "seconds": round(time.time() - began, 3),
        "phase_seconds": dict(ctx.phases),
        "read_path": ctx.read_path,
        "table_format": cfg.table_format,
        "snapshot": {k: ctx.snapshot.get(k) for k in ("cdk-edgw.run-id", "added-data-files", "added-records")}
        if ctx.snapshot else None,
    }


def write(ctx, stats):
    ctx.storage.write_json(join_uri(ctx.cfg.stats_path, ctx.run_id + ".json"), stats)


def combine(rounds):
    """The stats of a whole run: the first round's document, with totals over every round."""
    combined = dict(rounds[0])
    combined["rounds"] = len(rounds)
    combined["round_ids"] = [r["run_id"] for r in rounds]
    if len(rounds) > 1:
        for key in _SUMMED:
            combined[key] = sum(r[key] for r in rounds)
        combined["files"] = [f for r in rounds for f in r["files"]]
        combined["output_paths"] = [p for r in rounds for p in r["output_paths"]]
        combined["messages_parked"] = [p for r in rounds for p in r["messages_parked"]]
        combined["rejected_records_path"] = [r["rejected_records_path"] for r in rounds
                                             if r["rejected_records_path"]] or None
        combined["rule_failures"] = {name: {"action": rule["action"],
                                            "failed": sum(r["rule_failures"][name]["failed"] for r in rounds)}
                                     for name, rule in rounds[0]["rule_failures"].items()}
    return combined


def publish_metrics(ctx, stats):
    """RowsIn, RowsOut, RowsRejected, RejectedRowsPercent, FilesFailed, FilesQuarantined.

    Namespace ``--metrics_namespace``, dimension JobName. Reporting only: a
    failure to publish is logged and never fails the round.
    """
    namespace = ctx.cfg.metrics_namespace
    if not namespace:
        return
    dims = [{"Name": "JobName", "Value": ctx.cfg.job_name}]
    rows_in = stats["rows_in"]
    values = [("RowsIn", rows_in, "Count"), ("RowsOut", stats["rows_out"], "Count"),
              ("RowsRejected", stats["rows_rejected"], "Count"),
              ("RejectedRowsPercent", 100.0 * stats["rows_rejected"] / rows_in if rows_in else 0.0, "Percent"),
              ("FilesFailed", stats["files_failed"], "Count"),
              ("FilesQuarantined", stats["files_quarantined"], "Count"),
              ("RowsFiltered", stats.get("rows_filtered", 0), "Count")]
    data = [{"MetricName": name, "Dimensions": dims, "Value": float(value), "Unit": unit} for name, value, unit in values]
    data += [{"MetricName": "RuleFailures", "Dimensions": dims + [{"Name": "RuleName", "Value": name}],
              "Value": float(rule["failed"]), "Unit": "Count"} for name, rule in stats.get("rule_failures", {}).items()]
    try:
        ctx.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=data)
    except Exception as err:  # reporting only
        log("metrics not published: %s" % err)

"""One run of the job: rounds of phases under a lease kept alive by a heartbeat.

A round is recover/discover/read/publish/catalog/commit/stats/ack for at most
``--max_files_per_run`` objects. A run in ledger mode keeps taking rounds while
objects are waiting and its drain budget (``--drain_time_budget_seconds``) lasts;
at its end it re-arms the ledger sweep alarm, or sets it to ALARM when messages
are left, which notifies the workflow so another run follows.
"""
import json
import threading
import time

from . import cleaning as cleaning_phase
from . import commit as commit_phase
from . import discover as discover_phase
from . import publish as publish_phase
from . import read as read_phase
from . import stats as stats_phase
from .args import DEFAULTS, Config, parse_args
from .catalog import Catalog
from .iceberg import IcebergTable
from .context import RunContext, log
from .ledger import Ledger


def _heartbeat(ctx, stop):
    """Keeps the run's lease: SQS visibility and the pending record's heartbeat."""
    interval = max(0.3, ctx.cfg.visibility / 3.0)
    while not stop.wait(interval):
        try:
            if ctx.ledger:
                with ctx.lock:
                    receipts = ctx.leased()
                ctx.ledger.extend(receipts)
            if ctx.pending is not None:
                ctx.write_pending()
        except Exception as err:  # a missed beat is retried on the next tick
            log("heartbeat failed: %s" % err)


def run_round(ctx, condition, event_count, recovery):
    """One round: the phases for at most max_files_per_run objects, committed once."""
    began = time.time()
    discover_phase.discover(ctx)
    ctx.timed("discover")
    commit_phase.begin(ctx)

    table_types = read_phase.table_types(ctx)
    outcome, counts = read_phase.read_all(ctx, table_types)
    try:
        read_phase.account(ctx, counts)
        if cleaning_phase.configured(ctx.cfg) and outcome.df is not None:
            cleaned = cleaning_phase.apply(ctx, outcome.df, table_types)
            outcome.df.unpersist()
            outcome.df = cleaned
        ctx.faults.point("after_read")
        ctx.timed("read")
        rejected_uri = read_phase.write_rejected(ctx, read_phase.rejected_from(ctx, outcome))
        if outcome.df is not None and sum(f["rows_out"] for f in ctx.files):
            publish_phase.stage_output(ctx, outcome.df, ctx.loaded_bytes)
    finally:
        if outcome.df is not None:
            outcome.df.unpersist()
    published, partition_dirs = [], set()
    rows_out = sum(f["rows_out"] for f in ctx.files)
    # What was written, not what was counted on the way: a row lost in between fails here.
    ctx.rows_written = publish_phase.staged_rows(ctx)
    commit_phase.reconcile(ctx, ctx.rows_written)
    if ctx.iceberg:
        if rows_out:
            ctx.snapshot = publish_phase.publish_iceberg(
                ctx, [f for f in ctx.files if f["status"] in ("ok", "quarantined")])
            commit_phase.reconcile(ctx, ctx.rows_written, ctx.snapshot)
    elif rows_out:
        published, partition_dirs = publish_phase.publish(ctx)
    ctx.faults.point("after_write")
    ctx.timed("write")

    if ctx.iceberg:
        publish_phase.ensure_iceberg_maintenance(ctx)
    elif published:
        publish_phase.update_catalog(ctx, published)
    ctx.faults.point("after_catalog")
    ctx.timed("catalog")

    done = commit_phase.commit(ctx, published, partition_dirs, rejected_uri)
    failed, parked = commit_phase.acknowledge(ctx)
    if failed:
        log("delete_message_batch failures: %s" % failed)
    ctx.timed("commit")
    stats = stats_phase.document(ctx, condition, event_count, done, published, rejected_uri,
                                 recovery, began, parked)
    stats_phase.write(ctx, stats)
    stats_phase.publish_metrics(ctx, stats)
    commit_phase.finish(ctx)
    log("round %s: %d files, %d rows in, %d out, %d rejected, %d output files" % (
        ctx.run_id, stats["files_processed"], stats["rows_in"], stats["rows_out"],
        stats["rows_rejected"], stats["output_files"]))
    return stats


def execute(ctx):
    """Recovery, then rounds while objects wait and the drain budget lasts; returns the run's stats."""
    cfg = ctx.cfg
    began = time.time()
    if cfg.iceberg:
        ctx.iceberg = IcebergTable(ctx.spark, cfg.iceberg_catalog, cfg.database, cfg.table,
                                   cfg.output_path, cfg.partition_columns)
    elif cfg.catalog_update:
        ctx.catalog = Catalog(ctx.client("glue"), cfg.database, cfg.table,
                              cfg.output_path, cfg.partition_columns)
    recovery = ctx.state.recover(lease_seconds=cfg.visibility,
                                 committed_in_table=ctx.iceberg.committed_runs if ctx.iceberg else None)
    if any(recovery.values()):
        log("recovered: %s" % recovery)
    condition, event_count = discover_phase.batch_condition(ctx)
    if cfg.queue_url:
        ctx.ledger = Ledger(ctx.client("sqs"), cfg.queue_url, cfg.visibility, cfg.wait_seconds,
                            cfg.ledger_dlq_url)
    ctx.timed("recover")
    rounds = []
    while True:
        try:
            rounds.append(run_round(ctx, condition, event_count, recovery))
        except Exception as err:
            log("round %s failed (%s: %s); cleaning up: %s" % (
                ctx.run_id, type(err).__name__, str(err).splitlines()[0][:300] if str(err) else "",
                commit_phase.abandon(ctx)))
            raise
        more = bool(ctx.held) or rounds[-1]["objects_received"] >= cfg.max_files
        if not ctx.ledger or not more:
            break
        if time.time() - began >= cfg.drain_budget:
            log("drain budget of %.0f s spent after %d round(s)" % (cfg.drain_budget, len(rounds)))
            break
        ctx.begin_round(ctx.round + 1)
    if ctx.held:
        ctx.ledger.release([m["receipt"] for m in ctx.held])
        ctx.released, ctx.held = ctx.held, []
    stats = stats_phase.combine(rounds)
    stats["seconds"] = round(time.time() - began, 3)
    return stats


def handover(ctx, began):
    """Re-arms the ledger sweep alarm at the end of a run; hands over at once when that is safe.

    Every run ends by setting the alarm to OK: an alarm left in ALARM would
    never change state again, and CloudWatch's next evaluation turns OK into
    ALARM (an event the sweep rule sends to the workflow) while the ledger's
    oldest message is at least ``--sweep_after_seconds`` old. When messages
    wait and all of them are younger than that, the run also sets ALARM itself
    so the next run starts without waiting: should that notification be lost,
    the real age is below the threshold, so CloudWatch returns the alarm to OK
    and it is armed again. Returns the number of messages waiting.
    """
    cfg = ctx.cfg
    if not (ctx.ledger and cfg.sweep_alarm_name):
        return None
    try:
        waiting = ctx.ledger.waiting()
        cloudwatch = ctx.client("cloudwatch")
        cloudwatch.set_alarm_state(AlarmName=cfg.sweep_alarm_name, StateValue="OK",
                                   StateReason="run %s ended" % ctx.base_run_id)
        now = time.time()
        oldest = min([now] + [m["sent_at"] for m in ctx.released])
        young = cfg.sweep_after is not None and max(now - began, now - oldest) < cfg.sweep_after
        if waiting and young:
            cloudwatch.set_alarm_state(
                AlarmName=cfg.sweep_alarm_name, StateValue="ALARM",
                StateReason="run %s ended with %d message(s) waiting in the ledger" % (ctx.base_run_id, waiting))
        return waiting
    except Exception as err:  # the alarm's own evaluation and the periodic re-arm remain
        log("could not hand over through the sweep alarm: %s" % err)
        return None


def run(spark, args, clients=None):
    """Runs the job once. args: argument names (without "--") to strings.

    clients: optional boto3 clients {"sqs", "glue", "s3", "cloudwatch"}. Returns the stats dict.
    """
    ctx = RunContext(spark, Config(args), clients)
    began = time.time()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, stop), name="lease-heartbeat", daemon=True)
    beat.start()
    try:
        stats = execute(ctx)
    except Exception:
        stop.set()
        beat.join()
        handover(ctx, began)
        raise
    finally:
        stop.set()
        beat.join()
    stats["messages_waiting_at_end"] = handover(ctx, began)
    return stats


def main(argv):
    """The entry point of the Glue script: parse Glue's arguments, get the session, run."""
    from pyspark.sql import SparkSession

    args = parse_args(argv)
    spark = SparkSession.builder.appName(args.get("JOB_NAME", DEFAULTS["JOB_NAME"])).getOrCreate()
    stats = run(spark, args)
    log(json.dumps({k: stats[k] for k in ("run_id", "files_processed", "rows_in", "rows_out",
                                          "rows_rejected", "output_files", "seconds", "rounds")}))
    return stats

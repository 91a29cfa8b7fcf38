"""One run of the job: the phases in order, under a lease kept alive by a heartbeat."""
import json
import threading
import time

from . import commit as commit_phase
from . import discover as discover_phase
from . import publish as publish_phase
from . import read as read_phase
from . import stats as stats_phase
from .args import DEFAULTS, Config, parse_args
from .catalog import Catalog
from .context import RunContext, log


def _heartbeat(ctx, stop):
    """Keeps the run's lease: SQS visibility and the pending record's heartbeat."""
    interval = max(0.3, ctx.cfg.visibility / 3.0)
    while not stop.wait(interval):
        try:
            if ctx.ledger:
                ctx.ledger.extend([m["receipt"] for m in ctx.messages])
            if ctx.pending is not None:
                ctx.write_pending()
        except Exception as err:  # a missed beat is retried on the next tick
            log("heartbeat failed: %s" % err)


def execute(ctx):
    """Runs the phases: recover, discover, read, stage/publish, catalog, commit, stats, ack."""
    cfg = ctx.cfg
    began = time.time()
    recovery = ctx.state.recover(lease_seconds=cfg.visibility)
    if any(recovery.values()):
        log("recovered: %s" % recovery)
    condition, event_count = discover_phase.batch_condition(ctx)
    if cfg.catalog_update:
        ctx.catalog = Catalog(ctx.client("glue"), cfg.database, cfg.table,
                              cfg.output_path, cfg.partition_columns)
    ctx.timed("recover")
    discover_phase.discover(ctx)
    ctx.timed("discover")
    commit_phase.begin(ctx)

    df, counts = read_phase.read_all(ctx, read_phase.table_types(ctx))
    try:
        read_phase.account(ctx, counts)
        ctx.faults.point("after_read")
    except BaseException:
        if df is not None:
            df.unpersist()
        raise
    ctx.timed("read")

    published, partition_dirs, rejected_uri = [], set(), None
    if df is not None:
        try:
            rejected_uri = read_phase.write_rejected(ctx, df)
            if sum(f["rows_out"] for f in ctx.files):
                publish_phase.stage_output(ctx, df, ctx.loaded_bytes)
        finally:
            df.unpersist()
    if sum(f["rows_out"] for f in ctx.files):
        published, partition_dirs = publish_phase.publish(ctx)
    ctx.faults.point("after_write")
    ctx.timed("write")

    if published:
        publish_phase.update_catalog(ctx, published)
    ctx.faults.point("after_catalog")
    ctx.timed("catalog")

    done = commit_phase.commit(ctx, published, partition_dirs, rejected_uri)
    stats = stats_phase.document(ctx, condition, event_count, done, published, rejected_uri,
                                 recovery, began)
    stats_phase.write(ctx, stats)
    failed = commit_phase.acknowledge(ctx)
    if failed:
        log("delete_message_batch failures: %s" % failed)
    commit_phase.finish(ctx)
    log("run %s: %d files, %d rows in, %d out, %d rejected, %d output files" % (
        ctx.run_id, stats["files_processed"], stats["rows_in"], stats["rows_out"],
        stats["rows_rejected"], len(published)))
    return stats


def run(spark, args, clients=None):
    """Runs the job once. args: argument names (without "--") to strings.

    clients: optional boto3 clients {"sqs", "glue", "s3"}. Returns the stats dict.
    """
    ctx = RunContext(spark, Config(args), clients)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, stop), name="lease-heartbeat", daemon=True)
    beat.start()
    try:
        return execute(ctx)
    finally:
        stop.set()
        beat.join()


def main(argv):
    """The entry point of the Glue script: parse Glue's arguments, get the session, run."""
    from pyspark.sql import SparkSession

    args = parse_args(argv)
    spark = SparkSession.builder.appName(args.get("JOB_NAME", DEFAULTS["JOB_NAME"])).getOrCreate()
    stats = run(spark, args)
    log(json.dumps({k: stats[k] for k in ("run_id", "files_processed", "rows_in", "rows_out",
                                          "rows_rejected", "output_files", "seconds")}))
    return stats

"""Stage and publish phase: Spark writes the accepted rows under the run's staging
prefix; the staged files are then copied to the table location, each destination
recorded (write-ahead) before its copy; then the catalog learns the new columns
and partitions."""
from . import transforms as pt
from .columns import data_columns
from .schema import spark_to_hive_type, widens_nested
from .uris import join_uri


def data_root(ctx):
    """Where Spark writes the run's accepted rows (staging/<run>/data/)."""
    return join_uri(ctx.state.staging(ctx.run_id), "data") + "/"


def stage_output(ctx, df, total_bytes):
    """Spark writes the accepted rows as Parquet under the run's staging."""
    cfg = ctx.cfg
    data_cols = data_columns(df)
    constants = {}
    # An Iceberg table partitions by its own spec when rows are appended; staging is flat.
    partitions = [] if cfg.iceberg else cfg.partition_columns
    for col in partitions:
        if col not in data_cols:
            constants[col] = ctx.started.strftime("%Y-%m-%d") if col == "ingest_date" else None
    prefix, dynamic = pt.split_partitions(partitions, constants)
    out = pt.accepted_rows(df, ctx.started.isoformat(),
                           {k: v for k, v in constants.items() if k in dynamic})
    out = ctx.faults.rows("before_write", out)
    ctx.out_schema = out.schema
    n_files = pt.output_file_count(total_bytes, cfg.target_mb, ctx.spark.sparkContext.defaultParallelism)
    writer = pt.shape_for_output(out, n_files).write.mode("overwrite").option("compression", "snappy")
    if dynamic:
        writer = writer.partitionBy(*dynamic)
    target = join_uri(data_root(ctx), *prefix)
    writer.parquet(ctx.storage.spark_path(target))


def staged_files(ctx):
    return [u for u in ctx.storage.list(data_root(ctx))
            if u.endswith(".parquet") and not u.rsplit("/", 1)[-1].startswith(".")]


def staged_rows(ctx):
    """The rows the round wrote: the row counts in its staged Parquet files' footers
    (Spark counts a Parquet file from its metadata, without reading its data)."""
    files = staged_files(ctx)
    if not files:
        return 0
    return ctx.spark.read.parquet(*[ctx.storage.spark_path(u) for u in files]).count()


def publish(ctx):
    """Copies staged files to the table location; returns (destinations, partition dirs)."""
    staging = data_root(ctx)
    plan, dirs = [], set()
    for src in staged_files(ctx):
        rel = src[len(staging):]
        rel_dir, _, base = rel.rpartition("/")
        if rel_dir:
            dirs.add(rel_dir)
        plan.append((src, join_uri(ctx.cfg.output_path, rel_dir, "%s-%s" % (ctx.run_id, base))))
    ctx.write_pending([d for _, d in plan])
    for i, (src, dst) in enumerate(plan):
        ctx.faults.during("mid_write", i, len(plan))
        ctx.storage.copy(src, dst)
    ctx.faults.after_loop("mid_write")
    return [d for _, d in plan], dirs


def update_catalog(ctx, published):
    """The table learns new columns and partitions (or the state's schema file, without a catalog)."""
    cfg = ctx.cfg
    columns = [(f.name, spark_to_hive_type(f.dataType)) for f in ctx.out_schema.fields]
    if ctx.catalog:
        ctx.catalog.ensure_table(columns)
        dirs = set()
        for uri in published:
            rel = uri[len(cfg.output_path):].rpartition("/")[0]
            if rel:
                dirs.add(rel)
        if dirs and cfg.partition_columns:
            ctx.catalog.add_partitions(dirs)
        return
    found = ctx.state.schema_uri()
    current = ctx.storage.read_json(found) if ctx.storage.exists(found) else {}
    uri = ctx.state.uri("table_schema.json")
    partition_lower = {p.lower() for p in cfg.partition_columns}
    for name, hive_type in columns:
        key = name.lower()
        if key not in partition_lower and (key not in current or widens_nested(current[key], hive_type)):
            current[key] = hive_type
    ctx.storage.write_json(uri, current)


def publish_iceberg(ctx, done):
    """Appends the staged rows to the Iceberg table as the round's one snapshot.

    Returns the snapshot summary ({} when there was nothing to append). The
    table is created or evolved first; the pending record names the sources
    the snapshot covers before it is committed, so recovery can finalize a
    round that died right after its snapshot.
    """
    table = ctx.iceberg
    staged = ctx.spark.read.parquet(ctx.storage.spark_path(data_root(ctx)))
    ctx.iceberg_created = table.ensure(staged.schema)
    sources = [{"uri": f["uri"], "etag": f["etag"], "status": f["status"]} for f in done]
    with ctx.lock:
        ctx.pending["committing"] = sources
    ctx.write_pending()
    ctx.faults.point("mid_write")
    return table.append(staged, ctx.run_id, sources)


def ensure_iceberg_maintenance(ctx):
    """The Data Catalog optimizers are on, with the wanted settings, once per settings change."""
    from . import iceberg

    cfg = ctx.cfg
    if not cfg.iceberg_optimizers or not ctx.iceberg.exists():
        return []
    wanted = {"optimizers": sorted(cfg.iceberg_optimizers), "role": cfg.iceberg_optimizer_role_arn,
              "settings": cfg.iceberg_settings, "table": [cfg.database, cfg.table]}
    marker = ctx.state.uri("iceberg_optimizers.json")
    if ctx.storage.exists(marker) and ctx.storage.read_json(marker) == wanted:
        return []
    # Glue's optimizer calls require the catalog's id: the construct passes the account;
    # otherwise it is the account of the job's own credentials.
    catalog_id = cfg.catalog_id or ctx.client("sts").get_caller_identity()["Account"]
    done = iceberg.ensure_optimizers(ctx.client("glue"), catalog_id, cfg.database, cfg.table,
                                     cfg.iceberg_optimizer_role_arn, cfg.iceberg_optimizers,
                                     cfg.iceberg_settings)
    ctx.storage.write_json(marker, wanted)
    return done

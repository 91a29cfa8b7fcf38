"""Read phase: group the files, read them with Spark, quarantine what cannot be read.

Returns the rows (with ``_source_file`` and the reject reason) and the per-file
row counts the reconciliation needs.
"""
import json
import os

from . import probe as probes
from . import transforms as pt
from .context import log, parallel
from .uris import join_uri

#: Spark error texts that mean the file's content, not the run, is at fault.
CONTENT_ERRORS = ("EOFException", "ZipException", "Unexpected end of input", "incorrect header",
                  "not in GZIP format", "MalformedInput", "CharacterCoding", "invalid block",
                  "invalid distance", "invalid stored block", "Corrupt")


def glob_escape(path):
    """Spark globs ``?*[]{}``; a backslash makes each literal."""
    out = []
    for ch in path:
        if ch in "[]{}*?\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def quarantine(ctx, rec, reason):
    """Copies the file under rejected/quarantine/ with a reason file; the file is then done."""
    base = join_uri(ctx.cfg.rejected_path, "quarantine", ctx.run_id,
                    rec["bucket"] or "local", rec["key"].lstrip("/"))
    ctx.write_pending([base, base + ".reason.json"])
    ctx.storage.copy(rec["uri"], base)
    ctx.storage.write_json(base + ".reason.json", {
        "source_file": rec["uri"], "etag": rec["etag"], "reason": reason,
        "run_id": ctx.run_id, "quarantined_at": ctx.started.isoformat()})
    rec.update(status="quarantined", reason=reason)


def plan_groups(ctx, todo):
    """Groups files into as few Spark reads as possible: by format, JSON shape, CSV header."""
    groups = {}
    found = parallel(lambda r: probes.probe_file(ctx.storage, r["uri"], r["bytes"]), todo)
    for rec, probe in zip(todo, found):
        fmt = pt.format_from_name(rec["key"], ctx.cfg.input_format)
        if probe["quarantine"]:
            quarantine(ctx, rec, probe["quarantine"])
            continue
        if probe["empty"]:
            rec["status"] = "ok"
            continue
        fmt = fmt or probes.sniff_format(probe["sample"])
        if fmt == "JSON":
            gkey = ("JSON", probe["sample"].lstrip().startswith("["))
        else:
            header = probes.csv_header(probe["sample"])
            if header is None:
                rec["status"] = "ok"
                continue
            gkey = ("CSV", tuple(pt.strip_bom(h) for h in header))
        groups.setdefault(gkey, []).append(rec)
    return groups


def spark_key(ctx, uri):
    """The normalized path Spark reports for an input (see transforms.normalized_input_path)."""
    path = ctx.storage.spark_path(uri)
    return path if path.startswith("s3://") else os.path.normpath(path)


def read_group(ctx, gkey, recs):
    """One Spark read of a group; returns (rows, clean) where clean means no row can be rejected."""
    spark = ctx.spark
    paths = [glob_escape(ctx.storage.spark_path(r["uri"])) for r in recs]
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
    df = pt.with_source_file(df, {spark_key(ctx, r["uri"]): r["uri"] for r in recs})
    return pt.with_reject_reason(df, fmt), clean


def load(ctx, groups, table_types, allow_fast=True):
    """Reads the groups; returns (cached rows or None, per-file counts).

    Fast path: when no row can be rejected (clean JSON, no type conflict), the
    rows are written to staging in the same pass and the counts come from the
    staged Parquet, so the input is parsed once after inference. Otherwise the
    parsed rows are cached once and one aggregate gives the counts.
    """
    from . import publish

    read = [read_group(ctx, k, v) for k, v in groups.items() if v]
    df = pt.union_all([frame for frame, _ in read])
    if df is None:
        return None, []
    df = pt.normalize_types(df)
    df, conflicts = pt.resolve_type_conflicts(df, table_types, ctx.cfg.partition_columns)
    total_bytes = sum(r["bytes"] for recs in groups.values() for r in recs)
    if allow_fast and not conflicts and all(clean for _, clean in read):
        publish.stage_output(ctx, df, total_bytes)
        ctx.read_path = "fast"
        return None, publish.staged_counts(ctx)
    ctx.read_path = "checked"
    df = df.persist()
    ctx.loaded_bytes = total_bytes
    try:
        counts = pt.per_file_counts(df).collect()
    except Exception:
        df.unpersist()
        raise
    return df, counts


def read_all(ctx, table_types):
    """Reads every file still to do; a batch that fails is retried file by file,
    quarantining unreadable files and failing the others, so one bad file never
    blocks the rest."""
    todo = ctx.todo()
    groups = plan_groups(ctx, todo)
    if todo and all(not ctx.storage.spark_path(r["uri"]).startswith("s3://") for r in todo):
        # Local files: list them on the driver instead of a Spark job per
        # read (Spark distributes listing above 32 paths, built for S3).
        ctx.spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold",
                           str(max(32, len(todo) + 1)))
    try:
        return load(ctx, groups, table_types)
    except Exception as err:
        log("batch read failed (%s); isolating bad files" % str(err).splitlines()[0][:300])
    ctx.storage.delete_prefix(ctx.state.staging(ctx.run_id))
    good = {}
    for gkey, recs in groups.items():
        for rec in recs:
            try:
                df, _ = load(ctx, {gkey: [rec]}, table_types, allow_fast=False)
                if df is not None:
                    df.unpersist()
                good.setdefault(gkey, []).append(rec)
            except Exception as err:
                text = str(err)
                first = text.strip().splitlines()[0][:500] if text.strip() else type(err).__name__
                if any(marker in text for marker in CONTENT_ERRORS):
                    quarantine(ctx, rec, "unreadable file: %s" % first)
                else:
                    rec.update(status="failed", reason="read failed: %s" % first)
    return load(ctx, good, table_types)


def table_types(ctx):
    """{column: hive type} the batch must agree with: the catalog table's, or the state's."""
    if ctx.catalog:
        return ctx.catalog.column_types()
    uri = ctx.state.uri("table_schema.json")
    return ctx.storage.read_json(uri) if ctx.storage.exists(uri) else {}


def account(ctx, counts):
    """Per-file row counts into the file records; files read without error become ok."""
    by_uri = {rec["uri"]: rec for rec in ctx.todo()}
    for row in counts:
        rec = by_uri.get(row[pt.SOURCE_COLUMN])
        if rec is None:
            raise RuntimeError("rows from unexpected input %s" % row[pt.SOURCE_COLUMN])
        rec["rows_in"] += int(row["rows_in"])
        rec["rows_rejected"] += int(row["rows_rejected"] or 0)
    for rec in ctx.files:
        if rec["status"] is None:
            rec["status"] = "ok"
        rec["rows_out"] = rec["rows_in"] - rec["rows_rejected"]


def write_rejected(ctx, df):
    """Rejected rows with file, position and reason, as one JSON Lines file of the run."""
    rejected = sum(f["rows_rejected"] for f in ctx.files)
    if not rejected:
        return None
    rows = pt.rejected_rows(df).collect()
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source_file"], []).append(row)
    lines = []
    for source, items in by_source.items():
        try:
            text = probes.read_text(ctx.storage, source)
            positions = probes.locate_positions(text, [r["raw_record"] for r in items])
        except (OSError, ValueError) as err:
            log("positions unavailable for %s: %s" % (source, err))
            positions = [None] * len(items)
        for row, pos in zip(items, positions):
            lines.append(json.dumps({"source_file": source, "position": pos,
                                     "reason": row["reason"], "raw_record": row["raw_record"],
                                     "run_id": ctx.run_id}, ensure_ascii=False))
    uri = join_uri(ctx.cfg.rejected_path, "records", ctx.run_id + ".jsonl")
    ctx.write_pending([uri])
    ctx.storage.write_bytes(uri, ("\n".join(lines) + "\n").encode("utf-8"))
    return uri

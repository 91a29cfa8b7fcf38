"""Read phase: probe the files, read them with Spark, quarantine what cannot be read.

Every file is probed first (its first 64 KiB, on the driver): empty, gzip by its
magic bytes, binary, not text, corrupt gzip. A file whose name Spark would not
read as exactly that one file (a leading ``_`` or ``.``, glob characters, a
colon, a codec suffix that does not match the content...) is read through a
staged copy with a safe name, and its rows keep the original ``_source_file``.

Two ways to read:

- **known schema** (JSON Lines, and the table exists): one pass parses the lines
  with the table's types, writes the accepted rows to staging and, through one
  observation, counts rows and rejects per file and collects any key the schema
  does not name. Rejected lines are fetched afterwards from only the files that
  had some. A key the table lacks sends the batch to the second way.
- **inferred schema** (first run, new columns, JSON arrays, CSV): Spark infers
  the schema; clean JSON is written in the same pass, anything else is cached
  once and counted with one aggregate.
"""
import json
import re

from . import known_schema
from . import probe as probes
from . import transforms as pt
from .columns import CORRUPT_COLUMN, REASON_COLUMN, SOURCE_COLUMN
from .context import log, parallel
from .publish import data_root as publish_data_root
from .schema import apply_declared_types, csv_read_types, normalize_types, resolve_type_conflicts
from .uris import hadoop_safe, join_uri

#: Spark error texts that mean the file's content, not the run, is at fault.
CONTENT_ERRORS = ("EOFException", "ZipException", "Unexpected end of input", "incorrect header",
                  "not in GZIP format", "MalformedInput", "CharacterCoding", "invalid block",
                  "invalid distance", "invalid stored block", "Corrupt")


class Outcome:
    """What the read phase hands to publishing.

    ``df``: the cached rows when they still have to be written (else None);
    ``staged``: the accepted rows are already under staging; ``rejected``: the
    rejected rows as dicts (source_file, reason, raw_record), or None when they
    are to be taken from ``df``.
    """

    def __init__(self, df=None, staged=False, rejected=None):
        self.df = df
        self.staged = staged
        self.rejected = rejected


def glob_escape(path):
    """Spark globs ``?*[]{}``; a backslash makes each literal."""
    return "".join("\\" + ch if ch in "[]{}*?\\" else ch for ch in path)


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


def _stage_copy(ctx, rec, index, fmt, gzip):
    """A copy of the file under a name Spark reads as exactly that file."""
    suffix = (".json" if fmt == "JSON" else ".csv") + (".gz" if gzip else "")
    target = join_uri(ctx.state.staging(ctx.run_id), "inputs", "%05d%s" % (index, suffix))
    ctx.storage.copy(rec["uri"], target)
    return target


def plan_groups(ctx, todo):
    """Groups files into as few Spark reads as possible: by format, JSON shape, CSV header.

    Sets each record's ``read_uri`` (the file itself, or a safely named copy)
    and ``sample_lines``; quarantines and settles empty files on the way.
    """
    cfg = ctx.cfg
    encoding = cfg.csv_encoding

    def look(rec):
        fmt = pt.format_from_name(rec["key"], cfg.input_format)
        return probes.probe_file(ctx.storage, rec["uri"], rec["bytes"],
                                 encoding if fmt == "CSV" else "utf-8")

    groups, copies = {}, []
    for index, (rec, probe) in enumerate(zip(todo, parallel(look, todo))):
        if probe["quarantine"]:
            reason = probe["quarantine"]
            if reason.startswith("not ") and pt.format_from_name(rec["key"], cfg.input_format) == "CSV":
                reason += " (for CSV in another encoding, set the CSV encoding option)"
            quarantine(ctx, rec, reason)
            continue
        if probe["empty"]:
            rec.update(status="ok", reason="empty file")
            continue
        fmt = pt.format_from_name(rec["key"], cfg.input_format) or probes.sniff_format(probe["sample"])
        if fmt == "JSON":
            if probe["whole"] and probe["sample"].strip() == "[]":
                rec.update(status="ok", reason="empty JSON array")
                continue
            gkey = ("JSON", probe["sample"].lstrip().startswith("["))
        else:
            header = probes.csv_header(probe["sample"], cfg.csv)
            if header is None:
                rec.update(status="ok", reason="empty file")
                continue
            if cfg.csv["header"] and probe["whole"] and len(probe["lines"]) <= 1:
                rec.update(status="ok", reason="header only, no rows")
                continue
            gkey = ("CSV", tuple(pt.strip_bom(h) for h in header) if cfg.csv["header"] else len(header))
        rec["sample_lines"] = probe["lines"]
        location = rec["key"] if rec["bucket"] else rec["uri"]
        if hadoop_safe(location, probe["gzip"]):
            rec["read_uri"] = rec["uri"]
        else:
            copies.append((rec, index, fmt, probe["gzip"]))
        groups.setdefault(gkey, []).append(rec)
    if copies:
        staged = parallel(lambda c: _stage_copy(ctx, *c), copies)
        for (rec, _, _, _), uri in zip(copies, staged):
            rec["read_uri"] = uri
    return groups


def _paths(ctx, recs):
    return [glob_escape(ctx.storage.spark_path(r["read_uri"])) for r in recs]


def _source_map(ctx, recs):
    return {pt.spark_key(ctx.storage.spark_path(r["read_uri"])): r["uri"] for r in recs}


def read_group(ctx, gkey, recs):
    """One inferring Spark read of a group; returns (rows, clean): clean means no row can be rejected."""
    spark = ctx.spark
    paths = _paths(ctx, recs)
    if gkey[0] == "JSON":
        reader = (spark.read.option("mode", "PERMISSIVE")
                  .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
                  .option("multiLine", "true" if gkey[1] else "false"))
        df = reader.json(paths)
        fmt = "JSON"
        # JSON inference adds the corrupt-record column only if some record
        # of these files is malformed: without it, no row can be rejected.
        clean = CORRUPT_COLUMN not in df.columns
    else:
        csv = ctx.cfg.csv
        base = (spark.read.option("header", "true" if csv["header"] else "false")
                .option("multiLine", "true").option("sep", csv["delimiter"])
                .option("quote", csv["quote"]).option("escape", csv["escape"])
                .option("encoding", csv["encoding"]))
        inferred = base.option("inferSchema", "true").csv(paths).schema
        header = list(gkey[1]) if csv["header"] else [f.name for f in inferred.fields]
        schema = csv_read_types(pt.csv_schema_with_corrupt(inferred, header), ctx.cfg.column_types,
                                ctx.cfg.partition_columns)
        df = (base.schema(schema).option("enforceSchema", "true")
              .option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", CORRUPT_COLUMN).csv(paths))
        fmt = "CSV"
        clean = False
    df = pt.with_source_file(df, _source_map(ctx, recs))
    return pt.with_reject_reason(df, fmt), clean


def load(ctx, groups, table_types, allow_fast=True):
    """Reads the groups with inference; returns (Outcome, per-file counts).

    Fast path: when no row can be rejected (clean JSON, no type conflict), the
    rows are written to staging in the same pass, which also counts them per file
    (an observation: the staged output is never read back). Otherwise the parsed
    rows are cached once and one aggregate gives the counts.
    """
    from . import publish

    read = [read_group(ctx, k, v) for k, v in groups.items() if v]
    df = pt.union_all([frame for frame, _ in read])
    if df is None:
        return Outcome(), []
    df = normalize_types(df)
    df, declared = apply_declared_types(df, ctx.cfg.column_types)
    df, conflicts = resolve_type_conflicts(df, table_types, ctx.cfg.partition_columns)
    total_bytes = sum(r["bytes"] for recs in groups.values() for r in recs)
    if allow_fast and not conflicts and not declared and all(clean for _, clean in read):
        recs = [r for v in groups.values() for r in v]
        observed, metrics = _observe_rows(ctx, df, recs)
        publish.stage_output(ctx, observed.drop("__idx"), total_bytes)
        ctx.read_path = "fast"
        counts = metrics()["rows"]
        return Outcome(staged=True, rejected=[]), [
            {SOURCE_COLUMN: r["uri"], "rows_in": n, "rows_rejected": 0} for r, n in zip(recs, counts) if n]
    ctx.read_path = "checked"
    df = df.persist()
    ctx.loaded_bytes = total_bytes
    try:
        counts = pt.per_file_counts(df).collect()
    except Exception:
        df.unpersist()
        raise
    return Outcome(df=df), counts


def jvm_key_check(spark):
    """Whether the JVM key check is on the job's classpath (the construct ships it on
    --extra-jars); without it, keys are checked with Spark's JSON functions (slower)."""
    cache = getattr(spark, "_glue_ingest_jvm_key_check", None)
    if cache is None or cache[0] != known_schema.JVM_KEY_CHECK:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        try:
            # Analysis alone loads the class and finds the method: no Spark job runs.
            probe = spark.range(1).select(F.lit("{}").alias("value"))
            known_schema.with_unknown_keys(probe, T.StructType([]), True)[0].schema
            cache = (known_schema.JVM_KEY_CHECK, True)
        except Exception as err:  # the class or its method is missing
            log("the JVM key check %s is not on the classpath (%s): checking keys with "
                "Spark's JSON functions" % (known_schema.JVM_KEY_CHECK, str(err).strip().splitlines()[0][:200]))
            cache = (known_schema.JVM_KEY_CHECK, False)
        spark._glue_ingest_jvm_key_check = cache
    return cache[1]


#: The sampled lines inferred on the driver, across all files of a read: a hint that
#: spares a wasted pass when new keys show early; the per-line check is the guarantee.
SAMPLE_LINES = 2000


def _sample_schema(recs):
    """The schema inferred from the first sampled lines of every file (on the driver)."""
    per_file = max(5, SAMPLE_LINES // max(1, len(recs)))
    lines = [line for r in recs for line in r.get("sample_lines", [])[:per_file]]
    return known_schema.sample_schema(lines) if lines else None


def read_known(ctx, recs, schema):
    """One pass with the table's schema (see the module docstring); None if a key is unknown."""
    from pyspark.sql import functions as F

    from . import publish

    spark = ctx.spark
    uris = [r["uri"] for r in recs]
    parsed = known_schema.parse_json_lines(spark.read.text(_paths(ctx, recs)), schema)
    record = F.col("__row").isNotNull()                     # not a whitespace-only line
    bad = F.col("__row.%s" % CORRUPT_COLUMN).isNotNull()
    parsed, unknown_paths = known_schema.with_unknown_keys(parsed, schema, jvm_key_check(spark))
    # The raw line is not needed past the key check (rejected lines are fetched again),
    # so it is not carried through the observation and the filter.
    observed, read_metrics = _observe_rows(ctx, parsed.select("__row", "__unknown"), recs, counted=record, extra=(
        F.to_json(F.histogram_numeric(F.when(bad, F.col("__idx")), F.lit(max(2, len(recs))))).alias("bad"),
        unknown_paths.alias("unknown")))
    accepted = observed.filter(record & ~bad).select(
        *[F.col("__row.`%s`" % f.name).alias(f.name) for f in schema.fields],
        F.element_at(F.array(*[F.lit(u) for u in uris]), F.col("__idx") + 1).alias(SOURCE_COLUMN),
        F.lit(None).cast("string").alias(CORRUPT_COLUMN),
        F.lit(None).cast("string").alias(REASON_COLUMN))
    total_bytes = sum(r["bytes"] for r in recs)
    publish.stage_output(ctx, accepted, total_bytes)
    metrics = read_metrics()
    missing = json.loads(metrics["unknown"] or "[]")
    if missing:
        log("keys the table lacks (%s): reading again with inference" % ", ".join(sorted(missing)[:20]))
        ctx.storage.delete_prefix(publish_data_root(ctx))
        return None
    per_file = metrics["rows"]
    rejected_per_file = _histogram(metrics["bad"], len(recs))
    counts = [{SOURCE_COLUMN: uris[i], "rows_in": per_file[i], "rows_rejected": rejected_per_file[i]}
              for i in range(len(recs)) if per_file[i]]
    rejected = []
    with_rejects = [i for i in range(len(recs)) if rejected_per_file[i]]
    if with_rejects:
        index = pt.input_index([ctx.storage.spark_path(r["read_uri"]) for r in recs])
        again = known_schema.parse_json_lines(spark.read.text(_paths(ctx, [recs[i] for i in with_rejects]))
                                              .withColumn("__idx", index), schema)
        for row in again.filter(bad).select("value", "__idx").collect():
            rejected.append({"source_file": uris[row["__idx"]], "raw_record": row["value"],
                             "reason": pt.reject_reason(row["value"], schema)})
    ctx.read_path = "known-schema"
    return Outcome(staged=True, rejected=rejected), counts


def _read_json_lines_with_table_types(ctx, recs, table_types):
    """JSON Lines against an existing table: existing columns keep the table's types.

    The sampled schema usually suffices (one pass). New columns and new struct
    fields, in the sample or beyond it, are typed by one inference pass and the
    batch is parsed again with the table's types plus theirs. None when the
    nesting is more than the Spark-functions key check covers (the inferring
    read takes the batch then).
    """
    partitions = [] if ctx.cfg.iceberg else ctx.cfg.partition_columns
    schema = known_schema.known_read_schema(table_types, _sample_schema(recs), partitions)
    if schema is not None:
        outcome = read_known(ctx, recs, schema)
        if outcome is not None:
            return outcome
    inferred = ctx.spark.read.option("mode", "PERMISSIVE").json(_paths(ctx, recs)).schema
    schema = known_schema.evolved_read_schema(table_types, inferred, partitions)
    if schema is None:
        return None
    return read_known(ctx, recs, schema)


def _observe_rows(ctx, df, recs, counted=None, extra=()):
    """``df`` with ``__idx`` (each row's position in ``recs``), observed while it is written.

    Returns (df, metrics): after the write, ``metrics()`` gives the observation's values,
    ``rows`` as the per-input counts of the rows where ``counted`` holds (all rows by
    default), plus the ``extra`` aggregates by their names. A row from an input that
    ``recs`` does not name fails it.
    """
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    observation = Observation("rows-%s" % ctx.run_id)
    index = pt.input_index([ctx.storage.spark_path(r["read_uri"]) for r in recs])
    idx = F.col("__idx") if counted is None else F.when(counted, F.col("__idx"))
    observed = df.withColumn("__idx", index).observe(
        observation, F.to_json(F.histogram_numeric(idx, F.lit(max(2, len(recs))))).alias("rows"),
        F.count_if(F.col("__idx").isNull()).alias("stray"), *extra)

    def metrics():
        values = dict(observation.get)
        if values["stray"]:
            raise RuntimeError("%d rows came from an input this run did not name" % values["stray"])
        values["rows"] = _histogram(values["rows"], len(recs))
        return values

    return observed, metrics


def _histogram(text, n):
    """Exact per-index counts from ``histogram_numeric`` (exact while distinct values <= bins)."""
    counts = [0] * n
    for point in json.loads(text or "[]") or []:
        counts[int(round(point["x"]))] += int(round(point["y"]))
    return counts


def read_all(ctx, table_types):
    """Reads every file still to do; returns (Outcome, per-file counts).

    A batch that fails is retried file by file, quarantining unreadable files
    and failing the others, so one bad file never blocks the rest.
    """
    todo = ctx.todo()
    groups = plan_groups(ctx, todo)
    # With cleaning the rows are cleaned before they are written (not in the read's own pass),
    # and a transform's output, not its input, is what must agree with the table.
    cleaning = bool(ctx.cfg.transform_sql or ctx.cfg.transform_python or ctx.cfg.row_rules)
    read_types = {} if (ctx.cfg.transform_sql or ctx.cfg.transform_python) else table_types
    recs = [r for g in groups.values() for r in g]
    if recs and all(not ctx.storage.spark_path(r["read_uri"]).startswith("s3://") for r in recs):
        # Local files: list them on the driver instead of a Spark job per
        # read (Spark distributes listing above 32 paths, built for S3).
        ctx.spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold",
                           str(max(32, len(recs) + 1)))
    try:
        if recs and table_types and not cleaning and set(groups) == {("JSON", False)}:
            # A declared column the table lacks yet is parsed with its declared type.
            known = _read_json_lines_with_table_types(ctx, recs, dict(ctx.cfg.column_types, **table_types))
            if known is not None:
                return known
        return load(ctx, groups, read_types, allow_fast=not cleaning)
    except Exception as err:
        log("batch read failed (%s); isolating bad files" % str(err).splitlines()[0][:300])
    ctx.storage.delete_prefix(publish_data_root(ctx))
    good = {}
    for gkey, group in groups.items():
        for rec in group:
            try:
                outcome, _ = load(ctx, {gkey: [rec]}, read_types, allow_fast=False)
                if outcome.df is not None:
                    outcome.df.unpersist()
                good.setdefault(gkey, []).append(rec)
            except Exception as err:
                text = str(err)
                first = text.strip().splitlines()[0][:500] if text.strip() else type(err).__name__
                if "COLUMN_ALREADY_EXISTS" in text:
                    # JSON keys that differ only in letter case (id, Id): a table's columns
                    # do not; retrying cannot help, so the file is quarantined at once.
                    quarantine(ctx, rec, "keys that differ only in letter case: %s; a table's column names "
                               "are case-insensitive, so rename one of them" % _duplicate_column(text))
                elif any(marker in text for marker in CONTENT_ERRORS):
                    quarantine(ctx, rec, "unreadable file: %s" % first)
                else:
                    rec.update(status="failed", reason="read failed: %s" % first)
    return load(ctx, good, read_types, allow_fast=not cleaning)


def _duplicate_column(text):
    """The column Spark names in a COLUMN_ALREADY_EXISTS error, as `id`."""
    found = re.search(r"The column (`[^`]+`) already exists", text)
    return found.group(1) if found else "a column"


def table_types(ctx):
    """{column: hive type} the batch must agree with: the table's, or the state's."""
    if ctx.iceberg:
        return ctx.iceberg.column_types()
    if ctx.catalog:
        return ctx.catalog.column_types()
    uri = ctx.state.schema_uri()
    return ctx.storage.read_json(uri) if ctx.storage.exists(uri) else {}


def account(ctx, counts):
    """Per-file row counts into the file records, then reconciliation.

    A file is ``ok`` only when its rows were counted from its own content: a
    non-empty file that yielded no row and no rejected record is ``failed``
    (its message is kept, so it is retried and then dead-lettered, never lost).
    """
    by_uri = {rec["uri"]: rec for rec in ctx.todo()}
    for row in counts:
        rec = by_uri.get(row[SOURCE_COLUMN])
        if rec is None:
            raise RuntimeError("rows from unexpected input %s" % row[SOURCE_COLUMN])
        rec["rows_in"] += int(row["rows_in"])
        rec["rows_rejected"] += int(row["rows_rejected"] or 0)
    for rec in ctx.files:
        if rec["status"] is None:
            if rec["rows_in"] == 0 and rec["bytes"] > 0:
                rec.update(status="failed", reason="no rows were read from a non-empty file "
                                                   "(%d bytes): not reconciled" % rec["bytes"])
            else:
                rec["status"] = "ok"
        rec["rows_out"] = rec["rows_in"] - rec["rows_rejected"]


def rejected_from(ctx, outcome):
    """The rejected rows of a read: given, or taken from the cached rows when some file has any."""
    if outcome.rejected is not None:
        return outcome.rejected
    if outcome.df is None or not sum(f["rows_rejected"] for f in ctx.files):
        return []
    return [row.asDict() for row in pt.rejected_rows(outcome.df).collect()]


def write_rejected(ctx, rejected):
    """Rejected rows with file, position and reason, as one JSON Lines file of the run."""
    if not rejected:
        return None
    by_source = {}
    for row in rejected:
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


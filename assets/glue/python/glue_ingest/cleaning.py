"""Cleaning phase: the user's transform and row rules, between the read and the staging.

It runs on the round's rows as read (accepted and rejected ones, with ``_source_file``):

1. The accepted rows go through the transform (``--transform_sql``: a SELECT over the
   view ``input``; ``--transform_python``: ``module:function``, ``function(df) -> df``).
   The transform is row-wise: the rows it returns keep ``_source_file``, and no file gets
   more rows than it had. Otherwise :class:`TransformError` fails the round (the run rolls
   back and releases its messages).
2. With a transform, the table holds its output: type conflicts with the table's columns
   are resolved on the output, not on the input.
3. Each row rule (``--row_rules``) is checked; a row failing a REJECT rule is rejected with
   ``rule <name> failed: <column> = <value>``, a FLAG rule's name goes into the
   ``data_quality_issues`` column of the rows that fail it (null when none does).

Per file it counts ``rows_filtered`` (rows the transform left out), the rows rules rejected
(added to ``rows_rejected``), ``rows_out``, and each rule's failures: the reconciliation then
holds ``rows_in = rows_out + rows_rejected + rows_filtered``.
"""
import importlib
import json

from pyspark.sql import functions as F

from .columns import CORRUPT_COLUMN, REASON_COLUMN, SOURCE_COLUMN
from .schema import normalize_types, resolve_type_conflicts
from .context import log

#: The column that lists the FLAG rules a row failed.
FLAG_COLUMN = "data_quality_issues"
#: The view a SQL transform selects from.
INPUT_VIEW = "input"


class TransformError(RuntimeError):
    """The transform broke the row-wise contract, or failed: the round commits nothing."""


def configured(cfg):
    return bool(cfg.transform_sql or cfg.transform_python or cfg.row_rules)


def run_transform(ctx, df):
    """The user's transform on the accepted rows."""
    cfg = ctx.cfg
    if cfg.transform_sql:
        df.createOrReplaceTempView(INPUT_VIEW)
        try:
            return ctx.spark.sql(cfg.transform_sql)
        except Exception as err:
            raise TransformError("the SQL transform failed: %s" % str(err).strip().splitlines()[0][:500]) from err
    if cfg.transform_python:
        module_name, _, function_name = cfg.transform_python.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as err:
            raise TransformError("the transform %s cannot be loaded: %s" % (cfg.transform_python, err)) from err
        try:
            out = function(df)
        except Exception as err:
            raise TransformError("the transform %s raised %s: %s" % (
                cfg.transform_python, type(err).__name__, err)) from err
        if not hasattr(out, "schema") or not hasattr(out, "columns"):
            raise TransformError("the transform %s must return a DataFrame, got: %s" % (
                cfg.transform_python, type(out).__name__))
        return out
    return df


def rule_check(rule):
    """(passes, value) Spark columns of a rule: whether a row passes, and the value it looked at."""
    kind, column = rule["kind"], rule.get("column")
    if kind == "sql":
        passes = F.coalesce(F.expr(rule["predicate"]).cast("boolean"), F.lit(False))
        return passes, F.lit(None).cast("string")
    ref = F.col("`%s`" % column.replace("`", "``"))
    value = ref.cast("string")
    if kind == "not_null":
        passes = ref.isNotNull()
    elif kind == "matches":
        passes = ref.isNull() | value.rlike(rule["pattern"])
    elif kind == "one_of":
        passes = ref.isNull() | value.isin([str(v) for v in rule["values"]])
    elif kind == "between":
        number = F.expr("try_cast(`%s` AS double)" % column.replace("`", "``"))
        passes = ref.isNull() | ((number >= float(rule["min"])) & (number <= float(rule["max"])))
    else:
        raise ValueError("unknown row rule kind: %s" % kind)
    return F.coalesce(passes, F.lit(False)), value


def _rule_reason(rule, value):
    where = (" (%s = " % rule["column"]) if rule.get("column") else ""
    if not where:
        return F.lit("rule %s failed" % rule["name"])
    return F.concat(F.lit("rule %s failed%s" % (rule["name"], where)),
                    F.coalesce(F.substring(value, 1, 200), F.lit("null")), F.lit(")"))


def apply(ctx, df, table_types):
    """The round's rows after the transform and the rules, persisted; the file counts updated."""
    cfg = ctx.cfg
    rules = cfg.row_rules
    sources = {rec["uri"] for rec in ctx.files if rec["status"] == "ok"}
    # The rows the read rejected keep only what their record needs: their data columns are the
    # input's, which the transform may retype.
    rejected = df.filter(F.col(REASON_COLUMN).isNotNull()).select(
        SOURCE_COLUMN, CORRUPT_COLUMN, REASON_COLUMN)
    accepted = df.filter(F.col(REASON_COLUMN).isNull()).drop(CORRUPT_COLUMN, REASON_COLUMN)
    out = run_transform(ctx, accepted)
    if SOURCE_COLUMN not in out.columns:
        raise TransformError("the transform dropped or renamed %s: it must keep the column it is given, so "
                             "every row stays counted to its file; columns it returned: %s"
                             % (SOURCE_COLUMN, ", ".join(out.columns)))
    out = out.withColumn(CORRUPT_COLUMN, F.lit(None).cast("string")).withColumn(
        REASON_COLUMN, F.lit(None).cast("string"))
    if cfg.transform_sql or cfg.transform_python:
        out = normalize_types(out)
        out, _ = resolve_type_conflicts(out, table_types, cfg.partition_columns)
    checks = [(rule,) + rule_check(rule) for rule in rules]
    reason = F.col(REASON_COLUMN)
    for rule, passes, value in checks:
        if rule["action"] == "REJECT":
            reason = F.when(reason.isNull() & ~passes, _rule_reason(rule, value)).otherwise(reason)
    flags = [F.when(~passes, F.lit(rule["name"])) for rule, passes, _ in checks if rule["action"] == "FLAG"]
    data = [c for c in out.columns if c not in (CORRUPT_COLUMN, REASON_COLUMN)]
    raw = F.to_json(F.struct(*[F.col("`%s`" % c) for c in data if c != SOURCE_COLUMN]))
    failures = [F.sum(F.when(~passes, 1).otherwise(0)).alias("rule_%d" % i) for i, (_, passes, _) in enumerate(checks)]
    if flags:
        listed = F.concat_ws("; ", *flags)
        out = out.withColumn(FLAG_COLUMN, F.when(listed == "", F.lit(None).cast("string")).otherwise(listed))
    out = out.select(*[F.col("`%s`" % c) for c in out.columns if c not in (CORRUPT_COLUMN, REASON_COLUMN)],
                     F.when(reason.isNotNull() & F.col(CORRUPT_COLUMN).isNull(), raw)
                     .otherwise(F.col(CORRUPT_COLUMN)).alias(CORRUPT_COLUMN),
                     reason.alias(REASON_COLUMN))
    out = out.persist()
    counts = out.groupBy(SOURCE_COLUMN).agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col(REASON_COLUMN).isNotNull(), 1).otherwise(0)).alias("rejected"),
        *failures).collect()
    _account(ctx, counts, sources, rules)
    combined = out.unionByName(rejected, allowMissingColumns=True)
    combined = combined.persist()
    combined.count()
    out.unpersist()
    log("cleaning: %d rows filtered, %d rejected by rules" % (
        sum(f.get("rows_filtered", 0) for f in ctx.files), sum(f.get("rows_rule_rejected", 0) for f in ctx.files)))
    return combined


def _account(ctx, counts, sources, rules):
    """Per-file counts of the transform's output: filtered, rejected by rules, out, rule failures."""
    by_uri = {rec["uri"]: rec for rec in ctx.files if rec["status"] == "ok"}
    seen = {}
    for row in counts:
        source = row[SOURCE_COLUMN]
        if source not in sources:
            raise TransformError("the transform returned %d row(s) with %s %s, which is none of the batch's "
                                 "files: it must keep each row's %s" % (row["rows"], SOURCE_COLUMN,
                                                                        json.dumps(source), SOURCE_COLUMN))
        seen[source] = row
    for uri, rec in by_uri.items():
        row = seen.get(uri)
        rows = int(row["rows"]) if row else 0
        given = rec["rows_in"] - rec["rows_rejected"]
        if rows > given:
            raise TransformError("the transform returned %d rows for %s, which had %d: a row-wise transform "
                                 "returns at most the rows it is given" % (rows, uri, given))
        rule_rejected = int(row["rejected"]) if row else 0
        rec["rows_filtered"] = given - rows
        rec["rows_rule_rejected"] = rule_rejected
        rec["rows_rejected"] += rule_rejected
        rec["rows_out"] = rows - rule_rejected
        rec["rule_failures"] = {rule["name"]: int(row["rule_%d" % i] or 0) if row else 0
                                for i, rule in enumerate(rules)}

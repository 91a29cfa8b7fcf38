"""The job arguments, as Glue passes them, parsed into a Config."""
import json
import re

from .faults import Faults
from .uris import as_prefix

DEFAULTS = {
    "JOB_NAME": "parquet-conversion-job",
    "input_format": "AUTO",
    "table_format": "PARQUET",
    "iceberg_catalog": "glue_catalog",
    "iceberg_snapshot_retention_days": "5",
    "iceberg_snapshots_to_retain": "1",
    "iceberg_orphan_file_retention_days": "3",
    "max_files_per_run": "1000",
    "target_file_size_mb": "128",
    "catalog_update": "true",
    "visibility_timeout_seconds": "3600",
    "receive_wait_seconds": "1",
    "drain_time_budget_seconds": "1800",
    "ledger_max_age_seconds": str(7 * 24 * 3600),
}


def parse_args(argv):
    """Glue passes "--key value" pairs; "--key=value" and bare flags also work.

    A value may be empty (Glue passes ``--enable-metrics ""``).
    """
    args, i = {}, 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            key = token[2:]
            if "=" in key:
                key, value = key.split("=", 1)
                i += 1
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value = argv[i + 1]
                i += 2
            else:
                value = "true"
                i += 1
            args[key] = value
        else:
            i += 1
    return args


def _split_partitions(text):
    """Comma-separated partition entries; commas inside a transform's parentheses stay."""
    out, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    out.append(current.strip())
    return [c for c in out if c]


def _column_types(text):
    """``--column_types``: a JSON object of column names to Hive types, keyed here in lower case."""
    from .schema import DECLARABLE_TYPE

    if not text or text == "true":
        return {}
    try:
        declared = json.loads(text)
    except ValueError:
        raise ValueError("--column_types must be a JSON object of column names to types, got: %s" % text)
    if not isinstance(declared, dict):
        raise ValueError("--column_types must be a JSON object of column names to types, got: %s" % text)
    out = {}
    for name, hive_type in declared.items():
        normalized = str(hive_type).strip().lower()
        if not DECLARABLE_TYPE.match(normalized):
            raise ValueError("--column_types type of %r must be boolean, tinyint, smallint, int, bigint, float, "
                             "double, decimal(p,s), string, date or timestamp, got: %r" % (name, hive_type))
        precision, scale = DECLARABLE_TYPE.match(normalized).groups()
        if precision is not None and not (1 <= int(precision) <= 38 and int(scale) <= int(precision)):
            raise ValueError("--column_types type of %r must be decimal(p,s) with 1 <= p <= 38 and s <= p, "
                             "got: %r" % (name, hive_type))
        out[str(name).lower()] = re.sub(r"\s+", "", normalized)
    return out


#: The row rule kinds and the settings each needs.
RULE_KINDS = {"not_null": ("column",), "matches": ("column", "pattern"), "one_of": ("column", "values"),
              "between": ("column", "min", "max"), "sql": ("predicate",)}


def _row_rules(text):
    """``--row_rules``: a JSON list of rules, each {name, kind, action, ...its settings}."""
    if not text or text == "true":
        return []
    try:
        rules = json.loads(text)
    except ValueError:
        raise ValueError("--row_rules must be a JSON list of rules, got: %s" % text)
    if not isinstance(rules, list):
        raise ValueError("--row_rules must be a JSON list of rules, got: %s" % text)
    names = set()
    for rule in rules:
        kind = rule.get("kind") if isinstance(rule, dict) else None
        if kind not in RULE_KINDS:
            raise ValueError("--row_rules kind must be one of %s, got: %r" % (", ".join(RULE_KINDS), rule))
        missing = [k for k in RULE_KINDS[kind] + ("name",) if rule.get(k) in (None, "")]
        if missing:
            raise ValueError("--row_rules rule %r lacks %s" % (rule, ", ".join(missing)))
        if rule.setdefault("action", "REJECT") not in ("REJECT", "FLAG"):
            raise ValueError("--row_rules action must be REJECT or FLAG, got: %r" % rule)
        if rule["name"] in names:
            raise ValueError("--row_rules names must be distinct, got %r twice" % rule["name"])
        names.add(rule["name"])
    return rules


def flag(value):
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


def _one_char(name, value):
    value = "\t" if value in ("\\t", "TAB", "tab") else value
    if len(value) != 1:
        raise ValueError("--%s must be exactly one character, got: %r" % (name, value))
    return value


class Config:
    """The validated arguments of one run."""

    def __init__(self, args):
        merged = dict(DEFAULTS)
        merged.update({k: v for k, v in args.items() if v is not None})
        self.raw = merged
        self.job_name = merged["JOB_NAME"]
        self.job_run_id = merged.get("JOB_RUN_ID")
        self.workflow_name = merged.get("WORKFLOW_NAME")
        self.workflow_run_id = merged.get("WORKFLOW_RUN_ID")
        self.queue_url = merged.get("ledger_queue_url")
        from .aws import region_of
        self.region = merged.get("region") or region_of(self.queue_url)
        files = merged.get("input_files")
        self.input_files = [f.strip() for f in files.split(",") if f.strip()] if files else None
        if not self.queue_url and not self.input_files:
            raise ValueError("either --ledger_queue_url or --input_files is required")
        self.input_format = merged["input_format"].upper()
        if self.input_format not in ("AUTO", "JSON", "CSV"):
            raise ValueError("--input_format must be JSON, CSV or AUTO, got: %s" % self.input_format)
        for name in ("output_path", "rejected_path", "stats_path", "state_path"):
            if not merged.get(name):
                raise ValueError("--%s is required" % name)
            setattr(self, name, as_prefix(merged[name]))
        # The shared state root of releases before state was per pipeline: read and repaired only.
        legacy = merged.get("legacy_state_path")
        self.legacy_state_path = as_prefix(legacy) if legacy and legacy != "true" else None
        self.column_types = _column_types(merged.get("column_types"))
        self.transform_sql = merged.get("transform_sql") or None
        self.transform_python = merged.get("transform_python") or None
        if self.transform_sql and self.transform_python:
            raise ValueError("--transform_sql and --transform_python cannot both be given")
        if self.transform_python and not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", self.transform_python):
            raise ValueError("--transform_python must be module:function, got: %s" % self.transform_python)
        self.row_rules = _row_rules(merged.get("row_rules"))
        self.catalog_update = flag(merged["catalog_update"])
        self.database = merged.get("database_name")
        self.table = merged.get("table_name")
        if self.catalog_update and not (self.database and self.table):
            raise ValueError("--database_name and --table_name are required unless --catalog_update false")
        self.table_format = merged["table_format"].upper()
        if self.table_format not in ("PARQUET", "ICEBERG"):
            raise ValueError("--table_format must be PARQUET or ICEBERG, got: %s" % self.table_format)
        self.iceberg = self.table_format == "ICEBERG"
        if self.iceberg and not (self.database and self.table):
            raise ValueError("--database_name and --table_name are required with --table_format ICEBERG")
        default_partitions = "days(_ingested_at)" if self.iceberg else "ingest_date"
        partitions = merged.get("partition_columns", default_partitions)
        # "[]": no partitions (the construct never passes an empty value, which Glue drops).
        self.partition_columns = [] if partitions.strip() == "[]" else _split_partitions(partitions)
        self.iceberg_catalog = merged["iceberg_catalog"]
        self.iceberg_optimizers = [o.strip() for o in merged.get("iceberg_optimizers", "").split(",") if o.strip()]
        self.iceberg_optimizer_role_arn = merged.get("iceberg_optimizer_role_arn") or None
        if self.iceberg_optimizers and not self.iceberg_optimizer_role_arn:
            raise ValueError("--iceberg_optimizer_role_arn is required with --iceberg_optimizers")
        self.iceberg_settings = {k: merged["iceberg_" + k] for k in (
            "snapshot_retention_days", "snapshots_to_retain", "orphan_file_retention_days")}
        self.catalog_id = merged.get("catalog_id") or None
        self.max_files = int(merged["max_files_per_run"])
        self.target_mb = float(merged["target_file_size_mb"])
        self.batch_size = int(merged["batch_size"]) if merged.get("batch_size") else None
        self.batch_window = int(merged["batch_window_seconds"]) if merged.get("batch_window_seconds") else None
        self.visibility = int(merged["visibility_timeout_seconds"])
        self.wait_seconds = int(merged["receive_wait_seconds"])
        self.csv = {
            "delimiter": _one_char("csv_delimiter", merged.get("csv_delimiter", ",")),
            "quote": _one_char("csv_quote", merged.get("csv_quote", '"')),
            "escape": _one_char("csv_escape", merged.get("csv_escape", '"')),
            "header": flag(merged.get("csv_header", "true")),
            "encoding": merged.get("csv_encoding", "UTF-8"),
        }
        try:
            "".encode(self.csv["encoding"])
        except LookupError:
            raise ValueError("--csv_encoding must be a known encoding, got: %s" % self.csv["encoding"])
        self.csv_encoding = self.csv["encoding"]
        self.drain_budget = float(merged["drain_time_budget_seconds"])
        self.ledger_dlq_url = merged.get("ledger_dlq_url") or None
        self.ledger_max_age = float(merged["ledger_max_age_seconds"])
        self.sweep_alarm_name = merged.get("sweep_alarm_name") or None
        self.sweep_after = float(merged["sweep_after_seconds"]) if merged.get("sweep_after_seconds") else None
        self.metrics_namespace = merged.get("metrics_namespace") or None
        self.faults = Faults(merged.get("crash_at"), merged.get("fail_at"), merged.get("drop_row_at"))

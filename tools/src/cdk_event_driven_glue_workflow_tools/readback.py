"""What a pipeline left behind, read from outside the job: its table (DuckDB over the Parquet,
or local Spark through the Iceberg catalog), its rejected records, and a summary for the user."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import sys
import tempfile
from typing import Any

from . import sparkconf
from .local_pipeline import LocalPipeline, error_line

# The column the job's FLAG rules write (glue_ingest/cleaning.py FLAG_COLUMN).
FLAG_COLUMN = "data_quality_issues"


def show_results(lp: LocalPipeline, rows: list[dict[str, Any]] | None, limit: int = 10) -> None:
    """What the pipeline made of the user's files: the table's first rows, the rejected rows
    with their reasons, and each row rule's failures."""
    print(f"\n{lp.pipeline.name}: your files")
    for arrival in lp.ignored:
        print(f"  ignored by the rule (prefix or suffix): {arrival.key}")
    if rows:
        columns = [c for c in rows[0] if c not in ("_ingested_at",)]
        print(f"  the table's first {min(limit, len(rows))} of {len(rows)} rows:")
        print("    " + " | ".join(columns))
        for row in rows[:limit]:
            print("    " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns))
        flagged = [row for row in rows if row.get(FLAG_COLUMN)]
        if flagged or FLAG_COLUMN in columns:
            print(f"  flagged rows (kept, with the FLAG rules they failed in {FLAG_COLUMN}): {len(flagged)}")
            for row in flagged[:20]:
                print(f"    {str(row.get('_source_file', '')).rsplit('/', 1)[-1]}: {row[FLAG_COLUMN]}: "
                      + ", ".join(f"{c}={row.get(c)}" for c in columns
                                  if c not in (FLAG_COLUMN, "_source_file", "ingest_date"))[:120])
    outcome = lp.outcome(rows, None)
    rejected = rejected_records(lp)
    print(f"  rejected rows: {len(rejected)}")
    for record in rejected[:20]:
        print(f"    {record['source_file'].rsplit('/', 1)[-1]}:{record.get('position') or '?'}: {record['reason']}: "
              f"{str(record['raw_record'])[:120]}")
    for record in outcome.quarantined:
        print(f"  quarantined: {record['source_file'].rsplit('/', 1)[-1]}: {record['reason']}")
    rules: dict[str, dict[str, Any]] = {}
    for run in outcome.runs:
        for name, rule in (run.get("rule_failures") or {}).items():
            entry = rules.setdefault(name, {"action": rule["action"], "failed": 0})
            entry["failed"] += rule["failed"]
    filtered = sum(run.get("rows_filtered", 0) for run in outcome.runs)
    if rules or filtered:
        print(f"  rows the transform filtered out: {filtered}")
        for name, rule in rules.items():
            print(f"  rule {name} ({rule['action']}): {rule['failed']} row(s) failed")


def rejected_records(lp: LocalPipeline) -> list[dict[str, Any]]:
    """Every rejected record the pipeline wrote (rejected/records/*.jsonl)."""
    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["rejected_path"][len("s3://"):].partition("/")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}records/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            out += [json.loads(line) for line in body.splitlines() if line.strip()]
    return out


def read_table(lp: LocalPipeline, spark_holder: dict[str, Any]) -> list[dict[str, Any]]:
    """The pipeline's table as rows: Parquet objects through DuckDB, or Iceberg through Spark."""
    if lp.args.get("table_format", "PARQUET").upper() == "ICEBERG":
        return read_iceberg(lp, spark_holder)
    import duckdb

    s3 = lp.aws.client("s3")
    bucket, _, prefix = lp.args["output_path"][len("s3://"):].partition("/")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="table-", dir=lp.work))
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".parquet"):
                target = folder / item["Key"][len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
                files.append(str(target))
    if not files:
        return []
    con = duckdb.connect()
    rel = con.execute("SELECT * FROM read_parquet(?, hive_partitioning=true, union_by_name=true)", [files])
    columns = [d[0] for d in rel.description]
    return [dict(zip(columns, row)) for row in rel.fetchall()]


def read_iceberg(lp: LocalPipeline, spark_holder: dict[str, Any]) -> list[dict[str, Any]]:
    if "spark" not in spark_holder:
        # This process's Spark reads the table back with the default runtime's Iceberg,
        # whatever Glue version wrote it (the table format is the same).
        conf = sparkconf.merge(sparkconf.base_conf("read-back"), lp.spark_conf(lp.credentials, sparkconf.DEFAULT_RUNTIME))
        # Ivy's resolution report and Spark's start-up lines go to the log, not the terminal.
        with output_to(lp.work.parent / "read-back.log"):
            spark_holder["spark"] = sparkconf.session(conf)
    spark = spark_holder["spark"]
    # read back as the pipeline's job role reads it (the catalog's AWS SDK v2 clients)
    sparkconf.jvm_aws_credentials(spark, lp.credentials.access_key_id, lp.credentials.secret_access_key,
                                  lp.aws.region)
    catalog = lp.args.get("iceberg_catalog", "glue_catalog")
    rows = spark.table(f"{catalog}.`{lp.args['database_name']}`.`{lp.args['table_name']}`").collect()
    return [r.asDict() for r in rows]


@contextlib.contextmanager
def output_to(path: pathlib.Path):
    """This process's file descriptors 1 and 2 (a JVM it starts writes there too) go to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def query(pipelines: list[LocalPipeline]) -> dict[str, tuple[list[dict[str, Any]] | None, str | None]]:
    """Each pipeline's table, read back from outside the job: (rows, None), or (None, why not)."""
    tables, holder = {}, {}
    for lp in pipelines:
        fmt = lp.args.get("table_format", "PARQUET").upper()
        name = f"{lp.args.get('database_name')}.{lp.args.get('table_name')}"
        try:
            rows = read_table(lp, holder)
        except Exception as error:  # reported as the reason of every case that needs the table
            reason = error_line(str(error)) if str(error).strip() else type(error).__name__
            tables[lp.pipeline.name] = (None, reason)
            print(f"\n{lp.pipeline.name}: table {name} ({fmt}) could not be read: {reason}")
            continue
        tables[lp.pipeline.name] = (rows, None)
        print(f"\n{lp.pipeline.name}: table {name} ({fmt}, read back "
              f"{'through Iceberg' if fmt == 'ICEBERG' else 'with DuckDB'}): {len(rows)} rows")
        per_file: dict[str, set] = {}
        for row in rows:
            per_file.setdefault(row["_source_file"], set()).add(str(row["_ingested_at"]))
        for source, ingestions in sorted(per_file.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:3]:
            print(f"  {source.rsplit('/', 2)[-2] + '/' + source.rsplit('/', 1)[-1]:<40} ingested {len(ingestions)}x")
    if "spark" in holder:
        holder["spark"].stop()
    return tables

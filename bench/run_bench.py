"""Benchmark: convert JSON Lines bursts to Parquet, in one process, ratios printed.

    .venv/bin/python bench/run_bench.py            # 100 files x 7,750 rows (~3.5 MB each), best of 3
    .venv/bin/python bench/run_bench.py --quick    # 20 files x 2,000 rows, best of 1

The 100-file burst, converted four ways on one warmed-up SparkSession:

1. ours: the default job (assets/glue), replay mode on local files, with
   quarantine, reconciliation, stats, metadata columns and exactly-once
   publishing, in the steady state of a pipeline: its table exists, so the
   lines are parsed with the table's schema in one pass, every line checked
   for keys the table lacks (by the job's JVM helper, as on Glue);
2. ours, Iceberg: the same, appending one snapshot to an Iceberg table;
3. guide-style: a job written like the S3 -> Lambda -> Glue guide's, with its
   repeated show()/count() actions and a window function, the peer baseline;
4. DuckDB ``COPY ... TO (FORMAT parquet)``, the single-node reference.

And the fixed cost of small runs: one file and ten files, ours against a bare
``spark.read.json(files).write.parquet(...)`` of the same files in the same
session. The first run of a pipeline (no table yet, schema inferred) is timed
too. Every figure is the best of ``--repeat``; JVM start is excluded.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pathlib
import random
import shutil
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "assets" / "glue" / "python"))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
ICEBERG_RUNTIME = "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.7.1"
ICEBERG_CATALOG = "bench"


def generate(folder: pathlib.Path, files: int, rows: int, seed: int = 7) -> tuple[list[str], int, int]:
    """JSON Lines product files with a few nested and optional fields."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths, total_bytes = [], 0
    for f in range(files):
        path = folder / f"products-{f:03d}.json"
        with open(path, "w", encoding="utf-8") as fh:
            for r in range(rows):
                pid = f * rows + r
                record = {
                    "product_id": pid,
                    "name": f"  product {pid} {rng.choice(['kettle', 'lamp', 'chair', 'desk'])}  ",
                    "category": rng.choice(["home", "office", "garden", "kitchen"]),
                    "price": round(rng.uniform(1, 500), 2),
                    "status": rng.choice(["ACTIVE", "Pending", "inactive"]),
                    "email": f"buyer{pid}@example.com",
                    "created": f"2026-11-{1 + pid % 28:02d}",
                    "tags": [rng.choice(["new", "sale", "eco"]) for _ in range(2)],
                    "dims": {"w": rng.randint(1, 99), "h": rng.randint(1, 99)},
                    "description": "x" * rng.randint(150, 250),
                }
                if r % 7 == 0:
                    record["discount"] = round(rng.uniform(0, 0.5), 2)
                fh.write(json.dumps(record) + "\n")
        total_bytes += path.stat().st_size
        paths.append(str(path))
    return paths, files * rows, total_bytes


def job_jar() -> str:
    """The job's JVM helper, built if the source is newer (on Glue it comes on --extra-jars)."""
    import subprocess

    subprocess.run([str(ROOT / "scripts" / "build-job-jar.sh")], check=True)
    return str(ROOT / "assets" / "glue" / "lib" / "glue-ingest-jvm.jar")


def spark_session(warehouse: pathlib.Path):
    from cdk_event_driven_glue_workflow_tools import sparkconf

    conf = sparkconf.merge(sparkconf.base_conf("bench"), sparkconf.packages_conf(ICEBERG_RUNTIME), {
        "spark.driver.memory": "4g",
        "spark.jars": job_jar(),
        # Path-based Iceberg catalog on local disk: the job's table, without a Glue endpoint.
        f"spark.sql.catalog.{ICEBERG_CATALOG}": "org.apache.iceberg.spark.SparkCatalog",
        f"spark.sql.catalog.{ICEBERG_CATALOG}.type": "hadoop",
        f"spark.sql.catalog.{ICEBERG_CATALOG}.warehouse": str(warehouse),
    })
    return sparkconf.session(conf)


def job_args(lake: pathlib.Path, inputs: list[str], iceberg: bool) -> dict[str, str]:
    args = {"JOB_NAME": "bench", "input_files": ",".join(inputs), "input_format": "JSON",
            "output_path": str(lake / "parquet") + "/", "rejected_path": str(lake / "rejected") + "/",
            "stats_path": str(lake / "stats") + "/", "state_path": str(lake / "_pipeline") + "/",
            "catalog_update": "false"}
    if iceberg:
        args.update(table_format="ICEBERG", iceberg_catalog=ICEBERG_CATALOG, database_name="bench",
                    table_name=lake.name.replace("-", "_"))
    return args


def run_ours(spark, inputs: list[str], work: pathlib.Path, seed: list[str] | None = None,
             iceberg: bool = False) -> int:
    """One run of the job; with ``seed``, an untimed first run creates the table before."""
    from glue_ingest.run import run

    lake = work / ("lake-iceberg" if iceberg else "lake")
    shutil.rmtree(lake, ignore_errors=True)
    if iceberg:
        spark.sql(f"DROP TABLE IF EXISTS {ICEBERG_CATALOG}.bench.{lake.name.replace('-', '_')}")
    if seed:
        run(spark, job_args(lake, seed, iceberg))
    began = time.perf_counter()
    stats = run(spark, job_args(lake, inputs, iceberg))
    run_ours.seconds = time.perf_counter() - began
    assert stats["rows_in"] == stats["rows_out"] + stats["rows_rejected"]
    run_ours.read_path = stats["read_path"]
    return stats["rows_out"]


def run_bare(spark, inputs: list[str], work: pathlib.Path) -> int:
    """The least a Spark job can do: read the files, write Parquet."""
    out = work / "bare"
    shutil.rmtree(out, ignore_errors=True)
    spark.read.json(inputs).write.parquet(str(out))
    return len(inputs)


def run_guide_style(spark, inputs: list[str], work: pathlib.Path) -> int:
    """Shaped like the guide's Glue job: show/count at every step, a window, stats at the end."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType

    out = work / "guide"
    shutil.rmtree(out, ignore_errors=True)
    raw_df = spark.read.json(inputs)
    raw_df.printSchema()
    raw_df.show(5, truncate=False)
    input_count = raw_df.count()
    cleaned = raw_df.withColumn("name", F.initcap(F.trim(F.col("name"))))
    cleaned = cleaned.withColumn("email_valid", F.col("email").rlike(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,6}$"))
    cleaned = cleaned.withColumn("created", F.to_date(F.col("created"), "yyyy-MM-dd"))
    cleaned = cleaned.withColumn("price", F.regexp_replace(F.col("price").cast("string"), "[^0-9.]", "").cast(DoubleType()))
    cleaned = cleaned.withColumn("status", F.lower(F.trim(F.col("status"))))
    cleaned.show(5, truncate=False)
    clean_count = cleaned.count()
    transformed = (cleaned.withColumn("processing_date", F.current_timestamp())
                   .withColumn("source_file", F.input_file_name()))
    window = Window.partitionBy("status").orderBy("created").rowsBetween(Window.unboundedPreceding, 0)
    transformed = transformed.withColumn("running_total_by_status", F.sum("price").over(window))
    transformed = transformed.withColumn(
        "amount_category",
        F.when(F.col("price") < 100, "low").when(F.col("price") < 300, "medium").otherwise("high"))
    transformed.show(5, truncate=False)
    transformed.write.mode("overwrite").parquet(str(out))
    output_count = spark.read.parquet(str(out)).count()
    stats = {"input_count": input_count, "clean_count": clean_count, "output_count": output_count}
    (work / "guide-stats.json").write_text(json.dumps(stats))
    return output_count


def run_duckdb(inputs: list[str], work: pathlib.Path) -> int:
    import duckdb

    out = work / "duckdb.parquet"
    if out.exists():
        out.unlink()
    con = duckdb.connect()
    con.execute("COPY (SELECT *, filename AS _source_file, now() AS _ingested_at "
                "FROM read_json_auto(?, filename=true, format='newline_delimited')) "
                "TO '" + str(out) + "' (FORMAT parquet, COMPRESSION snappy)", [inputs])
    return con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone()[0]


def timed(fn, repeat: int) -> tuple[float, int]:
    """Best wall time of ``fn`` over ``repeat`` calls; fn may report its own timed part."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        began = time.perf_counter()
        rows = fn()
        elapsed = getattr(fn, "seconds", None) or time.perf_counter() - began
        best = min(best, elapsed)
    return best, rows


class Own:
    """Times only the job run itself (the untimed seed run creates the table)."""

    def __init__(self, spark, inputs, work, seed=None, iceberg=False):
        self.args = (spark, inputs, work, seed, iceberg)
        self.seconds = None

    def __call__(self):
        rows = run_ours(*self.args)
        self.seconds = run_ours.seconds
        return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, default=7750, help="rows per file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 files x 2,000 rows, best of 1")
    parser.add_argument("--work", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.rows, args.repeat = 20, 2000, 1

    work = pathlib.Path(args.work)
    inputs, rows, size = generate(work / "burst", args.files, args.rows)
    seed = generate(work / "seed", 1, 50, seed=3)[0]
    print(f"burst: {args.files} JSON Lines files, {rows:,} rows, {size / 1e6:.0f} MB; best of {args.repeat}")
    spark = spark_session(work / "warehouse")
    warm = generate(work / "warmup", 2, 100)[0]
    with contextlib.redirect_stdout(io.StringIO()):  # JVM, code paths and JIT warm for every Spark job
        for iceberg in (False, True):
            run_ours(spark, warm, work / "warm", seed=seed, iceberg=iceberg)
        run_guide_style(spark, warm, work / "warm")
        run_bare(spark, warm, work / "warm")

    results = {}
    jobs = [
        ("guide-style job", lambda: run_guide_style(spark, inputs, work)),
        ("ours, first run", Own(spark, inputs, work)),
        ("ours", Own(spark, inputs, work, seed=seed)),
        ("ours, Iceberg", Own(spark, inputs, work, seed=seed, iceberg=True)),
        ("DuckDB COPY", lambda: run_duckdb(inputs, work)),
    ]
    for n in (1, 10):
        jobs += [(f"bare Spark, {n} file(s)", lambda n=n: run_bare(spark, inputs[:n], work)),
                 (f"ours, {n} file(s)", Own(spark, inputs[:n], work, seed=seed))]
    for name, fn in jobs:
        with contextlib.redirect_stdout(io.StringIO()):   # the guide's show() output, the job's log
            seconds, out_rows = timed(fn, args.repeat)
        results[name] = seconds
        unit = f"{out_rows / seconds:12,.0f} rows/s  ({out_rows:,} rows out)" if out_rows > 20 else ""
        print(f"{name:<24} {seconds:7.2f} s  {unit}")
    ours = results["ours"]
    print()
    print(f"guide-style / ours:        {results['guide-style job'] / ours:5.2f}x  (target >= 3)")
    print(f"ours vs DuckDB:            {results['DuckDB COPY'] / ours:5.2f}x  (DuckDB time / ours; target >= 0.3)")
    print(f"ours, first run / ours:    {results['ours, first run'] / ours:5.2f}x  (the inference pass a first run pays)")
    print(f"ours, Iceberg / ours:      {results['ours, Iceberg'] / ours:5.2f}x  (an Iceberg snapshot vs Hive Parquet)")
    for n in (1, 10):
        ratio = results[f"ours, {n} file(s)"] / results[f"bare Spark, {n} file(s)"]
        target = "  (target <= 1.3)" if n == 10 else ""
        print(f"ours / bare, {n:>2} file(s):   {ratio:5.2f}x{target}")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

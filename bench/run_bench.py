"""Benchmark: convert one burst of JSON files to Parquet, three ways, in one process.

    .venv/bin/python bench/run_bench.py            # 100 files x 7,750 rows (~3 MB each)
    .venv/bin/python bench/run_bench.py --quick    # 20 files x 2,000 rows

1. ours: the default job (assets/glue), replay mode, on local Spark 3.5, with
   quarantine, stats, metadata columns and exactly-once publishing;
2. guide-style: a job written like the S3 -> Lambda -> Glue guide's, with its
   repeated show()/count() actions and a window function, as the peer baseline;
3. DuckDB `COPY ... TO (FORMAT parquet)`, the single-node reference.

All three share one warmed-up SparkSession (JVM start is excluded for both Spark
jobs). Each is run `--repeat` times; the best time counts. Prints rows/s and the
ratios against our job.
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


def spark_session():
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("bench")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", "4g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_ours(spark, inputs: list[str], work: pathlib.Path) -> int:
    from glue_ingest.run import run

    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    stats = run(spark, {
        "JOB_NAME": "bench", "input_files": ",".join(inputs), "input_format": "JSON",
        "output_path": str(lake / "parquet") + "/", "rejected_path": str(lake / "rejected") + "/",
        "stats_path": str(lake / "stats") + "/", "state_path": str(lake / "_pipeline") + "/",
        "catalog_update": "false",
    })
    assert stats["rows_in"] == stats["rows_out"] + stats["rows_rejected"]
    return stats["rows_out"]


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
    best, rows = float("inf"), 0
    for _ in range(repeat):
        began = time.perf_counter()
        rows = fn()
        best = min(best, time.perf_counter() - began)
    return best, rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, default=7750, help="rows per file")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20 files x 2,000 rows, one repeat")
    parser.add_argument("--work", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.rows, args.repeat = 20, 2000, 1

    work = pathlib.Path(args.work)
    inputs, rows, size = generate(work / "burst", args.files, args.rows)
    print(f"burst: {args.files} JSON Lines files, {rows:,} rows, {size / 1e6:.0f} MB")
    spark = spark_session()
    warm = generate(work / "warmup", 2, 100)[0]
    with contextlib.redirect_stdout(io.StringIO()):  # JVM, code paths and JIT warm for both Spark jobs
        run_ours(spark, warm, work / "warm")
        run_guide_style(spark, warm, work / "warm")

    results = {}
    for name, fn in (("guide-style job", lambda: run_guide_style(spark, inputs, work)),
                     ("our job", lambda: run_ours(spark, inputs, work)),
                     ("DuckDB COPY", lambda: run_duckdb(inputs, work))):
        with contextlib.redirect_stdout(io.StringIO()):   # the guide's show() output
            seconds, out_rows = timed(fn, args.repeat)
        results[name] = seconds
        print(f"{name:<16} {seconds:7.2f} s  {out_rows / seconds:12,.0f} rows/s  ({out_rows:,} rows out)")
    ours = results["our job"]
    print(f"\nguide-style / ours: {results['guide-style job'] / ours:.2f}x  (goal >= 3x; higher is better for us)")
    print(f"DuckDB / ours:      {results['DuckDB COPY'] / ours:.2f}x  (below 1 means DuckDB is faster)")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

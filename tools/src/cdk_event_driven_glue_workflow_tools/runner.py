"""Local pipeline runner: the whole event-driven flow on one machine.

    python -m cdk_event_driven_glue_workflow_tools.runner --app examples/app.py --scenario demo

It synthesizes the CDK app with the cdk CLI, finds every EventDrivenGlueWorkflow
in the template, and replays an arrival trace on a virtual clock:

1. each new file is written under a local folder standing in for the bucket and
   becomes an S3 "Object Created" event;
2. the event is matched against the rule's real pattern (moto's EventBridge matcher);
3. matched events are batched with Glue's semantics (``cdk_event_driven_glue_workflow_tools.batching``)
   using the trigger's BatchSize / BatchWindow and the workflow's MaxConcurrentRuns;
4. every run sends the batch's events to an SQS ledger (moto) and runs the job
   script taken from the synthesized cloud assembly on local Spark 3.5, with the
   job arguments of the template, and a Glue Data Catalog (moto).

At the end it prints a table of runs and queries the Parquet output with DuckDB.
Production runs on AWS Glue; this is for development and tests.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import glob
import hashlib
import importlib.util
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import uuid
from typing import Any, Callable

from . import batching, scenario, template

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPO_JOB_FILES = ROOT / "assets" / "glue"
REGION = "us-east-1"


@dataclasses.dataclass
class Arrival:
    """One upload (or a re-delivered event) at a virtual time."""

    time: float
    key: str
    data: bytes | None      # None: the same event delivered again, no new upload
    note: str = ""


@dataclasses.dataclass
class RunRecord:
    pipeline: str
    run: batching.Run
    stats: dict[str, Any]
    wall_seconds: float


def synth(app: pathlib.Path, outdir: pathlib.Path) -> dict[str, Any]:
    """`cdk synth` of a Python CDK app with the project's interpreter; returns the (single) stack template."""
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_DISABLE_CLI_TELEMETRY="true")
    command = ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting",
               "--app", f"{sys.executable} {app}", "--output", str(outdir)]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    templates = sorted(outdir.glob("*.template.json"))
    if len(templates) != 1:
        raise SystemExit(f"expected one stack in {app}, found {[t.name for t in templates]}")
    return template.load(templates[0])


def asset_file(outdir: pathlib.Path, location: Any) -> pathlib.Path:
    """The staged file of an S3 asset URL such as s3://cdk-...-assets-.../<hash>.py."""
    match = re.search(r"([0-9a-f]{64})\.py", json.dumps(location))
    if not match:
        raise ValueError(f"not a CDK file asset: {location}")
    candidates = glob.glob(str(outdir / f"asset.{match.group(1)}*"))
    if not candidates:
        raise FileNotFoundError(f"asset {match.group(1)} is not in {outdir}")
    return pathlib.Path(candidates[0])


def load_job(outdir: pathlib.Path, pipeline: template.Pipeline, workdir: pathlib.Path):
    """Imports the job exactly as synthesized: its script and --extra-py-files assets.

    Staged assets lose their file names, so each module is named after the file of
    this repository's assets/glue/ with the same content; a job that matches none
    (a different version than this runner's) is an error.
    """
    known = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in REPO_JOB_FILES.glob("*.py")}
    moddir = workdir / "job"
    moddir.mkdir(parents=True, exist_ok=True)
    files = [pipeline.script_location]
    extra = pipeline.extra_py_files
    if extra:
        files.extend(re.findall(r"[0-9a-f]{64}\.py", json.dumps(extra)))
    names = []
    for location in files:
        staged = asset_file(outdir, location)
        name = known.get(hashlib.sha256(staged.read_bytes()).hexdigest())
        if name is None:
            raise SystemExit(f"the job file {staged.name} of {pipeline.name} differs from {REPO_JOB_FILES}: "
                             "rebuild the wheel (make demo) so app and runner use the same job")
        shutil.copyfile(staged, moddir / name)
        names.append(name)
    sys.path.insert(0, str(moddir))
    spec = importlib.util.spec_from_file_location("parquet_conversion_job_local", moddir / names[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spark_session():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("local-pipeline-runner")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def object_created_event(bucket: str, key: str, data: bytes, when: float) -> dict[str, Any]:
    """An S3 "Object Created" event as S3 sends it to EventBridge."""
    stamp = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=when)
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
        "account": "000000000000", "time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0", "bucket": {"name": bucket},
            "object": {"key": key, "size": len(data), "etag": hashlib.md5(data).hexdigest(),
                       "sequencer": f"{int(when * 1000):016X}"},
            "request-id": uuid.uuid4().hex[:16].upper(), "requester": "000000000000",
            "source-ip-address": "127.0.0.1", "reason": "PutObject",
        },
    }


def local_names(tpl: dict[str, Any]) -> dict[str, str]:
    """Local stand-ins for the names CloudFormation would generate."""
    names = {}
    for logical_id, resource in tpl["Resources"].items():
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::Glue::Database", "AWS::Glue::Workflow", "AWS::Glue::Job"):
            names[logical_id] = re.sub(r"[^a-z0-9-]", "-", logical_id.lower())[:60]
    return names


def demo_scenario(pipeline: template.Pipeline, offset: float) -> list[Arrival]:
    """The acceptance cases of the Lambda guide, on the bursty arrivals of the EventBridge post:

    one lone file; a burst of 10 files in 2 minutes; later a changed re-upload of the
    first file, the same event delivered twice, and a file the rule ignores.
    """
    prefix, suffix = key_shape(pipeline.pattern)
    csv_input = pipeline.job_arguments.get("--input_format") == "CSV" or suffix.startswith(".csv")
    suffix = suffix or (".csv" if csv_input else ".json")

    def content(index: int, version: int = 0) -> bytes:
        if csv_input:
            return scenario.customer_csv(index + version * 100, rows=25, bad_rows=(3,) if index % 3 == 0 else (),
                                         gz=suffix.endswith(".gz"))
        data = scenario.product_json(index + version * 100, rows=25)
        return __import__("gzip").compress(data) if suffix.endswith(".gz") else data

    first = f"{prefix}file-000{suffix}"
    arrivals = [Arrival(offset, first, content(0), "case 1: a lone file")]
    burst_start = offset + 3600.0
    for i in range(1, 11):
        arrivals.append(Arrival(burst_start + 12.0 * (i - 1), f"{prefix}burst/file-{i:03d}{suffix}", content(i),
                                "case 2: burst of 10 files in 2 minutes"))
    later = offset + 3 * 3600.0
    changed = content(0, version=1)
    arrivals.append(Arrival(later, first, changed, "case 3: changed re-upload of file-000"))
    arrivals.append(Arrival(later + 5.0, first, None, "the same event delivered twice"))
    arrivals.append(Arrival(later + 10.0, f"{prefix}notes.txt" if suffix else f"elsewhere/notes{suffix}",
                            b"not data", "a key the rule ignores"))
    return arrivals


def key_shape(pattern: dict[str, Any]) -> tuple[str, str]:
    """The input prefix and first suffix from the rule's key filter."""
    detail = pattern.get("detail", {})
    key_filter = (detail.get("object", {}) or {}).get("key") or detail.get("requestParameters", {}).get("key") or []
    for matcher in key_filter:
        if "wildcard" in matcher:
            prefix, _, suffix = matcher["wildcard"].partition("*")
            return prefix.replace("\\", ""), suffix.replace("\\", "")
        if "prefix" in matcher:
            return matcher["prefix"], ""
        if "suffix" in matcher:
            return "", matcher["suffix"]
    return "", ""


class LocalPipeline:
    """One pipeline of the template, wired to local files, moto SQS/Glue and local Spark."""

    def __init__(self, pipeline, names, outdir, workdir, spark, aws, progress):
        from moto.events.models import EventPattern

        self.pipeline = pipeline
        self.bucket = names.get(pipeline.bucket_logical_id, "landing-bucket")
        self.s3_root = workdir / "s3"
        self.matcher = EventPattern.load(json.dumps(template.resolve(pipeline.pattern, {
            pipeline.bucket_logical_id: self.bucket} if pipeline.bucket_logical_id else {})))
        self.job = load_job(outdir, pipeline, workdir / pipeline.name)
        self.spark = spark
        self.aws = aws
        self.progress = progress
        self.queue_url = aws["sqs"].create_queue(QueueName=f"{pipeline.name}-ledger")["QueueUrl"]
        refs = dict(names)
        for logical_id in _refs_in(pipeline.job_arguments):
            refs.setdefault(logical_id, self.queue_url if "ledger" in logical_id.lower() else logical_id.lower())
        arguments = template.resolve(pipeline.job_arguments, refs)
        self.args = {k[2:]: str(v) for k, v in arguments.items() if k.startswith("--")}
        self.args.update({"JOB_NAME": pipeline.name, "ledger_queue_url": self.queue_url,
                          "local_s3_root": str(self.s3_root), "receive_wait_seconds": "0"})
        if self.args.get("database_name"):
            try:
                aws["glue"].create_database(DatabaseInput={"Name": self.args["database_name"]})
            except aws["glue"].exceptions.AlreadyExistsException:
                pass
        self.ignored: list[Arrival] = []
        self.records: list[RunRecord] = []

    def put(self, arrival: Arrival) -> None:
        path = self.s3_root / self.bucket / arrival.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(arrival.data)

    def replay(self, arrivals: list[Arrival]) -> None:
        events, matched = [], []
        current: dict[str, bytes] = {}
        for arrival in sorted(arrivals, key=lambda a: a.time):
            data = arrival.data if arrival.data is not None else current[arrival.key]
            current[arrival.key] = data
            event = object_created_event(self.bucket, arrival.key, data, arrival.time)
            if self.matcher.matches_event(event):
                matched.append(arrival)
                events.append(event)
            else:
                self.ignored.append(arrival)
                self.put(arrival)

        def run(start: float, objects: list[int]) -> float:
            for i in objects:
                if matched[i].data is not None:
                    self.put(matched[i])
                self.aws["sqs"].send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(events[i]))
            began = time.perf_counter()
            stats = self.job.run(self.spark, dict(self.args), clients={"sqs": self.aws["sqs"], "glue": self.aws["glue"]})
            wall = time.perf_counter() - began
            self.records.append(RunRecord(self.pipeline.name, None, stats, wall))
            self.progress(len(objects))
            return wall

        schedule = batching.simulate([a.time for a in matched], self.pipeline.batch_size, self.pipeline.batch_window,
                                     run, self.pipeline.max_concurrent_runs,
                                     int(self.args.get("max_files_per_run", 1000)))
        for record, scheduled in zip(self.records, schedule.runs):
            record.run = scheduled
        self.schedule = schedule
        self.matched = matched


def _refs_in(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            found.add(value["Ref"])
        for v in value.values():
            found |= _refs_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= _refs_in(v)
    return found


def clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def report(pipelines: list[LocalPipeline]) -> None:
    print("\nRuns")
    print(f"{'pipeline':<12} {'run':>3} {'starts at':>9} {'trigger':<11} {'events':>6} {'files':>5} "
          f"{'rows in':>7} {'out':>5} {'rejected':>8} {'seconds':>7}")
    for lp in pipelines:
        for record in lp.records:
            s = record.stats
            print(f"{lp.pipeline.name:<12} {record.run.index:>3} {clock(record.run.start):>9} {record.run.reason:<11} "
                  f"{record.run.events:>6} {s['files_processed']:>5} {s['rows_in']:>7} {s['rows_out']:>5} "
                  f"{s['rows_rejected']:>8} {record.wall_seconds:>7.1f}")
        skipped = [f for f in lp.schedule.firings if not f.started]
        if skipped:
            print(f"{lp.pipeline.name:<12} {len(skipped)} firing(s) found MaxConcurrentRuns reached; "
                  "their files were taken by the next run")
        for arrival in lp.ignored:
            print(f"{lp.pipeline.name:<12} ignored by the rule: {arrival.key}")


def query(pipelines: list[LocalPipeline]) -> dict[str, int]:
    import duckdb

    counts = {}
    con = duckdb.connect()
    for lp in pipelines:
        output = lp.s3_root / lp.args["output_path"][len("s3://"):]
        files = sorted(str(p) for p in output.rglob("*.parquet"))
        print(f"\nDuckDB: {lp.pipeline.name} table {lp.args.get('database_name')}.{lp.args.get('table_name')} "
              f"({len(files)} Parquet files under {lp.args['output_path']})")
        if not files:
            counts[lp.pipeline.name] = 0
            continue
        con.read_parquet(files, hive_partitioning=True, union_by_name=True).create_view("t", replace=True)
        total = con.execute("SELECT count(*) FROM t").fetchone()[0]
        counts[lp.pipeline.name] = total
        print(f"  rows: {total}")
        per_file = con.execute(
            "SELECT regexp_extract(_source_file, '[^/]+/[^/]+$') AS file, count(*) AS rows, "
            "count(DISTINCT _ingested_at) AS ingestions FROM t GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 4").fetchall()
        for file, rows, ingestions in per_file:
            print(f"  {file:<40} {rows:>4} rows, ingested {ingestions}x")
        columns = [c for c in con.execute("SELECT * FROM t LIMIT 0").description]
        shown = [c[0] for c in columns if not c[0].startswith("_")][:5]
        print("  sample:", con.execute(f"SELECT {', '.join(shown)} FROM t ORDER BY 1 LIMIT 2").fetchall())
    return counts


def check_cases(pipelines: list[LocalPipeline]) -> list[tuple[str, bool, str]]:
    """The three acceptance cases of the Lambda guide, checked on what actually ran."""
    results = []
    for lp in pipelines:
        runs = lp.records
        if not runs:
            results.append((f"{lp.pipeline.name}: runs", False, "no run started"))
            continue
        first = runs[0]
        results.append((f"{lp.pipeline.name}: a lone file is processed", first.stats["files_processed"] == 1,
                        f"run 1 ({first.run.reason}) processed {first.stats['files_processed']} file"))
        burst = [r for r in runs if any(lp.matched[i].note.startswith("case 2") for i in r.run.objects)]
        expected = -(-10 // lp.pipeline.batch_size)
        results.append((f"{lp.pipeline.name}: a burst of 10 files is {expected} run(s), not 10", len(burst) == expected,
                        f"{len(burst)} run(s) for the burst, batch size {lp.pipeline.batch_size}"))
        last = runs[-1]
        reingested = [f for f in last.stats.get("files", []) if f.get("status") == "ok"]
        results.append((f"{lp.pipeline.name}: a changed re-upload is processed again", len(reingested) == 1,
                        f"last run ingested {len(reingested)} file(s); statuses "
                        f"{sorted({f.get('status') for f in last.stats.get('files', [])})}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", default="examples/app.py", help="the Python CDK app to synthesize")
    parser.add_argument("--scenario", default="demo", choices=["demo"],
                        help="the arrival trace: a lone file, a burst, a changed re-upload (default)")
    parser.add_argument("--work", default=".tmp/local-run", help="scratch folder (wiped first)")
    parser.add_argument("--cdk-out", help="an already synthesized cloud assembly of the app (skips cdk synth)")
    args = parser.parse_args(argv)

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION), ("SPARK_LOCAL_IP", "127.0.0.1")):
        os.environ[name] = value
    began = time.perf_counter()
    work = (ROOT / args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    if args.cdk_out:
        outdir = pathlib.Path(args.cdk_out).resolve()
        tpl = template.load(next(outdir.glob("*.template.json")))
    else:
        outdir = work / "cdk.out"
        print(f"synthesizing {args.app} ...", flush=True)
        tpl = synth(ROOT / args.app, outdir)
    found = template.pipelines(tpl)
    print(f"found {len(found)} pipeline(s): " + ", ".join(
        f"{p.name} (batch {p.batch_size} / {p.batch_window} s, max {p.max_concurrent_runs} run)" for p in found))

    import boto3
    from moto import mock_aws
    from tqdm import tqdm

    names = local_names(tpl)
    with mock_aws():
        aws = {"sqs": boto3.client("sqs", region_name=REGION), "glue": boto3.client("glue", region_name=REGION)}
        print("starting local Spark 3.5 ...", flush=True)
        spark = spark_session()
        traces = {p.name: demo_scenario(p, offset=i * 600.0) for i, p in enumerate(found)}
        total = sum(1 for t in traces.values() for a in t if not a.note.startswith("a key the rule"))
        with tqdm(total=total, unit="event", desc="replaying", file=sys.stdout) as bar:
            local = []
            for pipeline in found:
                lp = LocalPipeline(pipeline, names, outdir, work / pipeline.name, spark, aws, bar.update)
                lp.replay(traces[pipeline.name])
                local.append(lp)
        report(local)
        counts = query(local)
        tables = [f"{lp.args['database_name']}.{t['Name']}" for lp in local if lp.args.get("database_name")
                  for t in aws["glue"].get_tables(DatabaseName=lp.args["database_name"])["TableList"]]
        spark.stop()
    print("\nAcceptance cases")
    results = check_cases(local)
    for title, ok, detail in results:
        print(f"  [{'ok' if ok else 'FAILED'}] {title}: {detail}")
    print(f"\ncatalog tables created by the job (moto Glue): {tables}; rows: {counts}")
    print(f"wall time: {time.perf_counter() - began:.0f} s")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

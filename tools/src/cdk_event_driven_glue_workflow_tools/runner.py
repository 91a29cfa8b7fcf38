"""Local pipeline runner: the whole event-driven flow on one machine, the way AWS runs it.

    cdk-glue-pipeline run --app "python app.py"

It synthesizes the CDK app (the cdk CLI when it is installed), finds every
EventDrivenGlueWorkflow in the template, and replays an arrival trace on a
virtual clock against a local AWS endpoint (moto's server on 127.0.0.1):

1. each file is uploaded through the S3 API and becomes an S3 "Object Created"
   event, matched against the rule's real pattern (moto's EventBridge matcher);
2. matched events go to the SQS event ledger, as the rule's second target sends
   them, and are batched with Glue's semantics (``batching``): the trigger's
   BatchSize / BatchWindow, the workflow's MaxConcurrentRuns, the drain loop and
   the ledger sweep;
3. each run is a Glue workflow run (moto) whose job is launched from the cloud
   assembly exactly as Glue launches it (``launcher``): the staged script and zip
   under their object keys, the template's arguments, Spark reading and writing
   ``s3://`` through Hadoop's S3A connector, and every AWS call made under the
   job role's policy from the template, with IAM enforcement on.

At the end it prints a table of runs, reads the table back (DuckDB over the
Parquet, or Spark through the Iceberg catalog) and checks the acceptance cases.
Production runs on AWS Glue; this is for development and tests.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import gzip
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from . import acceptance, batching, runtimes, scenario, sparkconf, template, venvs
from .launcher import Assembly, GlueLauncher, glue_spark_conf, local_endpoint_conf
from .localaws import Credentials, LocalAws
from .policy import resolve_policy, without_conditions


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
    run: Any                # the batching model's run
    stats: dict[str, Any]
    wall_seconds: float


def find_cdk() -> list[str] | None:
    """The cdk CLI: on PATH, or installed in a node_modules above the working folder."""
    if shutil.which("cdk"):
        return ["cdk"]
    here = pathlib.Path.cwd()
    for folder in [here, *here.parents]:
        if (folder / "node_modules" / ".bin" / "cdk").exists():
            return [str(folder / "node_modules" / ".bin" / "cdk")]
    return None


def synth(app: str, outdir: pathlib.Path, cwd: pathlib.Path | None = None) -> Assembly:
    """Synthesizes a CDK app into ``outdir``; ``app`` is a command, like cdk's ``--app``.

    With the cdk CLI (``cdk synth``), context from ``cdk.json`` applies as in a
    deploy. Without it, the app runs with ``CDK_OUTDIR`` set, which is what the
    CLI does too, minus ``cdk.json``'s context.
    """
    if app.endswith(".py") and " " not in app.strip():
        app = f"{sys.executable} {app}"
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_DISABLE_CLI_TELEMETRY="true")
    shutil.rmtree(outdir, ignore_errors=True)
    cdk = find_cdk()
    if cdk:
        command = cdk + ["synth", "--quiet", "--no-notices", "--no-version-reporting", "--app", app,
                         "--output", str(outdir)]
        subprocess.run(command, cwd=cwd, env=env, check=True)
    else:
        print("cdk CLI not found: running the app with CDK_OUTDIR (cdk.json context is not applied)")
        subprocess.run(app, shell=True, cwd=cwd, env=dict(env, CDK_OUTDIR=str(outdir)), check=True)
    return Assembly(outdir)


def object_created_event(bucket: str, key: str, size: int, etag: str, when: float = 0.0,
                         region: str = "us-east-1", account: str = "123456789012",
                         event_id: str | None = None) -> dict[str, Any]:
    """An S3 "Object Created" event as S3 sends it to EventBridge (the key as is, not
    URL-encoded), ``when`` seconds after 2026-11-22T00:00:00Z. The one event builder of
    the runner, the construct tests and the job tests."""
    stamp = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=when)
    return {
        "version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
        "account": account, "time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0", "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag, "sequencer": f"{int(when * 1000):016X}"},
            "request-id": uuid.uuid4().hex[:16].upper(), "requester": account,
            "source-ip-address": "127.0.0.1", "reason": "PutObject",
        },
    }


def physical_names(tpl: dict[str, Any], prefix: str) -> dict[str, str]:
    """Local stand-ins for the names CloudFormation would generate, for every resource:
    lower case, digits and '-', starting with ``prefix`` (valid bucket and queue names)."""
    prefix = re.sub(r"[^a-z0-9-]", "-", prefix.lower()).strip("-")[:24].strip("-") or "local"
    names = {}
    for logical_id in tpl["Resources"]:
        base = re.sub(r"[^a-z0-9-]", "-", logical_id.lower())
        names[logical_id] = f"{prefix}-{base}"[:63].rstrip("-")
    return names


def demo_scenario(pipeline: template.Pipeline, offset: float) -> list[Arrival]:
    """The acceptance cases of the Lambda guide, on the bursty arrivals of the EventBridge post:

    one lone file; a burst of 10 files in 2 minutes; later a changed re-upload of the
    first file, the same event delivered twice, and a file the rule ignores.
    """
    prefix, filtered_suffix = key_shape(pipeline.pattern)
    suffix = filtered_suffix
    csv_input = pipeline.job_arguments.get("--input_format") == "CSV" or suffix.lower().startswith(".csv")
    suffix = suffix or (".csv" if csv_input else ".json")

    def content(index: int, version: int = 0) -> bytes:
        if csv_input:
            return scenario.customer_csv(index + version * 100, rows=25, bad_rows=(3,) if index % 3 == 0 else (),
                                         gz=suffix.endswith(".gz"))
        data = scenario.product_json(index + version * 100, rows=25)
        return gzip.compress(data) if suffix.endswith(".gz") else data

    first = f"{prefix}file-000{suffix}"
    arrivals = [Arrival(offset, first, content(0), "case 1: a lone file")]
    burst_start = offset + 3600.0
    for i in range(1, 11):
        arrivals.append(Arrival(burst_start + 12.0 * (i - 1), f"{prefix}burst/file-{i:03d}{suffix}", content(i),
                                "case 2: burst of 10 files in 2 minutes"))
    later = offset + 3 * 3600.0
    arrivals.append(Arrival(later, first, content(0, version=1), "case 3: changed re-upload of file-000"))
    arrivals.append(Arrival(later + 5.0, first, None, "the same event delivered twice"))
    # A key the rule ignores: another suffix under the prefix, or a key outside the prefix;
    # a rule with neither filter ignores no key, and the trace has none.
    if filtered_suffix:
        arrivals.append(Arrival(later + 10.0, f"{prefix}notes.txt", b"not data", "a key the rule ignores"))
    elif prefix:
        arrivals.append(Arrival(later + 10.0, f"elsewhere-{prefix.strip('/').replace('/', '-')}/notes{suffix}",
                                b"not data", "a key the rule ignores"))
    return arrivals


def pick_pipeline(found: list[template.Pipeline], name: str | None) -> template.Pipeline:
    """The pipeline --files go to: the one named, or the app's only one."""
    names = [p.name for p in found]
    if name is None and len(found) == 1:
        return found[0]
    if name in names:
        return found[names.index(name)]
    raise SystemExit(f"--files needs --pipeline with one of: {', '.join(names)}" if name is None
                     else f"--pipeline {name!r} is not a pipeline of the app; it has: {', '.join(names)}")


def user_trace(pipeline: template.Pipeline, given: list[str]) -> list[Arrival]:
    """The user's files, one a second, under the pipeline's input prefix (their names kept)."""
    import glob

    prefix, _ = key_shape(pipeline.pattern)
    paths: list[pathlib.Path] = []
    for item in given:
        path = pathlib.Path(item)
        if path.is_dir():
            paths += sorted(p for p in path.rglob("*") if p.is_file())
        else:
            paths += sorted(pathlib.Path(p) for p in glob.glob(item, recursive=True) if pathlib.Path(p).is_file())
    if not paths:
        raise SystemExit(f"--files {' '.join(given)}: no file found")
    return [Arrival(float(i), f"{prefix}{path.name}", path.read_bytes(), f"your file {path}")
            for i, path in enumerate(paths)]


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


def deploy(aws: LocalAws, tpl: dict[str, Any], prefix: str) -> dict[str, str]:
    """Creates what the jobs of a template touch (buckets, ledgers and their DLQs, databases,
    workflows, sweep alarms) on the local endpoint, each once, named ``<prefix>-<logical id>``;
    returns the logical ID -> physical name map."""
    resources = tpl["Resources"]
    names = physical_names(tpl, prefix.lower())
    names.update({"AWS::Region": aws.region, "AWS::AccountId": aws.account_id})
    s3, sqs, glue = aws.client("s3"), aws.client("sqs"), aws.client("glue")
    cloudwatch = aws.client("cloudwatch")
    for logical_id, resource in resources.items():
        kind, name = resource["Type"], names[logical_id]
        if kind == "AWS::S3::Bucket":
            s3.create_bucket(Bucket=name)
            names[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"
        elif kind == "AWS::SQS::Queue":
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            names[logical_id] = url
            names[f"{logical_id}.QueueUrl"] = url
            names[f"{logical_id}.QueueName"] = name
            names[f"{logical_id}.Arn"] = f"arn:aws:sqs:{aws.region}:{aws.account_id}:{name}"
        elif kind == "AWS::Glue::Database":
            glue.create_database(DatabaseInput={"Name": name.replace("-", "_")})
            names[logical_id] = name.replace("-", "_")
        elif kind == "AWS::Glue::Workflow":
            glue.create_workflow(Name=name)
        elif kind == "AWS::CloudWatch::Alarm":
            props = resource["Properties"]
            if props.get("MetricName"):
                cloudwatch.put_metric_alarm(
                    AlarmName=name, Namespace=props["Namespace"], MetricName=props["MetricName"],
                    Statistic=props.get("Statistic", "Maximum"), Period=int(props.get("Period", 60)),
                    EvaluationPeriods=int(props["EvaluationPeriods"]), Threshold=float(props["Threshold"]),
                    ComparisonOperator=props["ComparisonOperator"])
            names[f"{logical_id}.Arn"] = (f"arn:aws:cloudwatch:{aws.region}:{aws.account_id}:"
                                          f"alarm:{name}")
        elif kind == "AWS::IAM::Role":
            names[f"{logical_id}.Arn"] = f"arn:aws:iam::{aws.account_id}:role/{name}"
        elif kind == "AWS::KMS::Key":
            names[f"{logical_id}.Arn"] = (f"arn:aws:kms:{aws.region}:{aws.account_id}:"
                                          f"key/{uuid.uuid5(uuid.NAMESPACE_URL, name)}")
    # The ledger's dead-letter queue, as the template wires it.
    for logical_id, resource in resources.items():
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if resource["Type"] == "AWS::SQS::Queue" and redrive:
            target = template.resolve(redrive["deadLetterTargetArn"], names)
            sqs.set_queue_attributes(QueueUrl=names[logical_id], Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive["maxReceiveCount"])})})
    return names


class LocalPipeline:
    """One pipeline of the template, deployed on the local endpoint and run the way AWS runs it."""

    def __init__(self, pipeline: template.Pipeline, assembly: Assembly, aws: LocalAws, work: pathlib.Path,
                 liveness: dict[str, Any], progress, names: dict[str, str] | None = None,
                 without_statements: tuple[str, ...] = ()):
        """``names``: the template already deployed on ``aws`` (:func:`deploy`), shared by every
        pipeline of the app, so two pipelines in one bucket share it as they do on AWS; by
        default the template is deployed for this pipeline alone, its names prefixed with it.
        ``without_statements``: Sids of the job role's policy to leave out (what the job then lacks)."""
        from moto.events.models import EventPattern

        self.pipeline = pipeline
        self.assembly = assembly
        self.aws = aws
        self.work = work
        self.liveness = liveness
        self.progress = progress
        tpl = assembly.template()
        self.names = names if names is not None else deploy(aws, tpl, pipeline.name)
        self.bucket = self.names.get(pipeline.bucket_logical_id, "landing-bucket")
        self.matcher = EventPattern.load(json.dumps(template.resolve(pipeline.pattern, self.names)))
        self.args = {k[2:]: str(v) for k, v in template.resolve(pipeline.job_arguments, self.names).items()
                     if k.startswith("--")}
        policy, self.rewritten = without_conditions(resolve_policy(
            tpl, pipeline.role_logical_id, self.names, region=aws.region, account_id=aws.account_id))
        self.left_out = [s.get("Sid") for s in policy["Statement"] if s.get("Sid") in without_statements]
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") not in without_statements]
        user = f"{self.names[pipeline.role_logical_id]}-user"
        if without_statements:  # another principal of the same role, with less
            user += "-" + hashlib.sha256(",".join(sorted(without_statements)).encode()).hexdigest()[:6]
        self.credentials = aws.principal(user, policy)
        self.launcher = self.launcher_for(self.credentials)
        self.ignored: list[Arrival] = []
        self.records: list[RunRecord] = []
        self.failures: list[str] = []
        self.uploads: list[acceptance.Upload] = []
        self.logs = work / "logs"
        self.events_by_time: list[tuple[float, dict[str, Any]]] = []

    def launcher_for(self, credentials: Credentials, work: pathlib.Path | None = None) -> GlueLauncher:
        """A launcher of the pipeline's job whose process and Spark act as ``credentials``
        (the job role's principal by default; another principal to show what a policy lacks)."""
        return GlueLauncher(self.assembly, self.pipeline.job_logical_id, self.names, work or self.work / "glue",
                            env=self.aws.env(credentials), spark_conf=self.spark_conf(credentials, self.runtime))

    @property
    def runtime(self) -> runtimes.GlueRuntime:
        """The Glue runtime of the pipeline's job (its template's ``GlueVersion``)."""
        properties = self.assembly.template()["Resources"][self.pipeline.job_logical_id]["Properties"]
        return runtimes.for_glue_version(properties.get("GlueVersion", runtimes.DEFAULT_GLUE_VERSION))

    def spark_conf(self, credentials: Credentials, runtime: runtimes.GlueRuntime) -> dict[str, str]:
        """The Spark configuration of the job as Glue starts it, on ``runtime``'s jars, with S3A
        and the Iceberg catalogs pointed at the local endpoint as ``credentials``."""
        tpl = self.assembly.template()
        default_arguments = template.resolve(tpl["Resources"][self.pipeline.job_logical_id]["Properties"]
                                             .get("DefaultArguments", {}), self.names)
        glue_conf = glue_spark_conf({k: str(v) for k, v in default_arguments.items()}, runtime)
        return sparkconf.merge(
            sparkconf.base_conf(self.pipeline.name),
            sparkconf.s3_conf(self.aws.endpoint, credentials.access_key_id,
                              credentials.secret_access_key, self.aws.region, runtime),
            glue_conf, local_endpoint_conf(glue_conf, self.aws.endpoint, self.aws.region))

    def put(self, arrival: Arrival) -> tuple[int, str]:
        """Uploads through the S3 API; returns (size, ETag) as S3 reports them."""
        s3 = self.aws.client("s3")
        etag = s3.put_object(Bucket=self.bucket, Key=arrival.key, Body=arrival.data)["ETag"].strip('"')
        return len(arrival.data), etag

    def replay(self, arrivals: list[Arrival]) -> None:
        """Uploads and events on a virtual clock; each run drains the ledger through the real job."""
        matched, events = [], []
        current: dict[str, tuple[int, str]] = {}
        sqs = self.aws.client("sqs")
        ledger = self.names[self.ledger_logical_id()]
        pending: list[tuple[float, Arrival, dict[str, Any] | None]] = []
        for arrival in sorted(arrivals, key=lambda a: a.time):
            pending.append((arrival.time, arrival, None))
        sent = 0

        def deliver_until(t: float) -> None:
            """Uploads and ledger messages up to virtual time t, in order."""
            nonlocal sent
            while sent < len(pending) and pending[sent][0] <= t:
                when, arrival, _ = pending[sent]
                if arrival.data is not None:
                    current[arrival.key] = self.put(arrival)
                size, etag = current[arrival.key]
                event = object_created_event(self.bucket, arrival.key, size, etag, when, self.aws.region,
                                             self.aws.account_id)
                if self.matcher.matches_event(event):
                    sqs.send_message(QueueUrl=ledger, MessageBody=json.dumps(event))
                    events.append(event)
                    if arrival.data is not None:
                        self.uploads.append(acceptance.Upload(arrival.key, f"s3://{self.bucket}/{arrival.key}", etag,
                                                              arrival.data, arrival.note))
                sent += 1

        for arrival in sorted(arrivals, key=lambda a: a.time):
            probe = object_created_event(self.bucket, arrival.key, 1, "0", arrival.time, self.aws.region,
                                         self.aws.account_id)
            if self.matcher.matches_event(probe):
                matched.append(arrival)
            else:
                self.ignored.append(arrival)

        glue = self.aws.client("glue")
        workflow = self.names[self.pipeline.workflow_logical_id]

        def start_run(start: float) -> float:
            """A workflow run starts: the real job drains the ledger (all its rounds) now."""
            deliver_until(start)
            run_id = glue.start_workflow_run(Name=workflow)["RunId"]
            glue.put_workflow_run_properties(Name=workflow, RunId=run_id, RunProperties={
                "aws:eventIds": json.dumps([e["id"] for e in events[-self.pipeline.batch_size:]])})
            began = time.perf_counter()
            with self.aws.enforcing():
                job = self.launcher.launch(workflow_name=workflow, workflow_run_id=run_id)
            wall = time.perf_counter() - began
            log = self.write_log(len(self.records) + 1, job)
            if job.returncode != 0:
                self.failures.append(f"run {len(self.records) + 1}: {error_line(job.stderr)} (log: {log})")
                stats = {"files_processed": 0, "rows_in": 0, "rows_out": 0, "rows_rejected": 0, "files": [],
                         "rounds": 0, "failed": True}
            else:
                stats = self.read_stats(job.summary)
            self.records.append(RunRecord(self.pipeline.name, None, stats, wall))
            self.progress(stats["files_processed"])
            return wall

        # The model decides when runs start (batching, dropped firings, the sweep); each run
        # is the real job, whose wall time becomes the run's start cost; the model's rounds
        # then only book which objects the run took.
        schedule = batching.simulate(
            [a.time for a in matched], self.pipeline.batch_size, self.pipeline.batch_window,
            lambda _start, _objects: 0.0, self.pipeline.max_concurrent_runs,
            int(self.args.get("max_files_per_run", 1000)), run_start=start_run, **self.liveness)
        deliver_until(float("inf"))
        for record, scheduled in zip(self.records, schedule.runs):
            record.run = scheduled
        self.schedule = schedule
        self.matched = matched

    def write_log(self, number: int, job: Any) -> pathlib.Path:
        """The run's whole output (Ivy's resolution, Spark's log, the job's lines) in a file of its own."""
        self.logs.mkdir(parents=True, exist_ok=True)
        path = self.logs / f"run-{number:03d}.log"
        path.write_text(f"$ {' '.join(job.argv)}\nexit code {job.returncode}\n\n--- stdout\n{job.stdout}\n"
                        f"--- stderr\n{job.stderr}\n", encoding="utf-8")
        return path

    def outcome(self, table: list[dict[str, Any]] | None, table_error: str | None) -> acceptance.Outcome:
        """What this pipeline was given and left behind, for the acceptance cases."""
        s3 = self.aws.client("s3")
        bucket, _, rejected = self.args["rejected_path"][len("s3://"):].partition("/")
        quarantined, rejected_sources = [], set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=rejected):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.startswith(f"{rejected}quarantine/") and key.endswith(".reason.json"):
                    quarantined.append(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
                elif key.startswith(f"{rejected}records/") and key.endswith(".jsonl"):
                    for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines():
                        if line.strip():
                            rejected_sources.add(json.loads(line).get("source_file"))
        sqs = self.aws.client("sqs")
        left = 0
        for logical_id in self.ledger_queues():
            attributes = sqs.get_queue_attributes(QueueUrl=self.names[logical_id], AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            left += sum(int(v) for v in attributes.values())
        csv_options = {"delimiter": self.args.get("csv_delimiter", ","), "quote": self.args.get("csv_quote", '"'),
                       "encoding": self.args.get("csv_encoding", "utf-8")}
        return acceptance.Outcome(
            name=self.pipeline.name, uploads=self.uploads, runs=[r.stats for r in self.records if not
                                                                  r.stats.get("failed")],
            failures=self.failures, table=table, table_error=table_error, quarantined=quarantined,
            rejected_sources=rejected_sources, ledger_left=left, batch_size=self.pipeline.batch_size,
            input_format=self.args.get("input_format", "AUTO").upper(), csv=csv_options,
            cleaned=any(k in self.args for k in ("transform_sql", "transform_python", "row_rules")))

    def ledger_queues(self) -> list[str]:
        """The ledger's logical ID and, when the job parks messages there, its dead-letter queue's."""
        found = [self.ledger_logical_id()]
        dlq = template.refs_in(self.pipeline.job_arguments.get("--ledger_dlq_url"))
        return found + sorted(dlq)

    def ledger_logical_id(self) -> str:
        url = self.pipeline.job_arguments.get("--ledger_queue_url")
        refs = template.refs_in(url)
        if len(refs) != 1:
            raise ValueError(f"{self.pipeline.name}: the job has no --ledger_queue_url; the runner needs the ledger")
        return next(iter(refs))

    def read_stats(self, summary: dict[str, Any] | None) -> dict[str, Any]:
        """The run's stats documents (one per round) from the stats prefix, combined."""
        if not summary:
            raise RuntimeError(f"{self.pipeline.name}: the job printed no summary")
        s3 = self.aws.client("s3")
        bucket, _, prefix = self.args["stats_path"][len("s3://"):].partition("/")
        docs = []
        for run_id in summary.get("round_ids") or [summary["run_id"]]:
            body = s3.get_object(Bucket=bucket, Key=f"{prefix}{run_id}.json")["Body"].read()
            docs.append(json.loads(body))
        combined = dict(docs[0])
        for key in ("files_processed", "rows_in", "rows_out", "rows_rejected"):
            combined[key] = sum(d[key] for d in docs)
        combined["files"] = [f for d in docs for f in d["files"]]
        combined["rounds"] = len(docs)
        return combined


def enforcement_refuses(aws: LocalAws) -> bool:
    """Whether the endpoint, as the job runs meet it, refuses a request outside the caller's policy."""
    import botocore.exceptions

    nobody = aws.principal(f"enforcement-probe-{uuid.uuid4().hex[:8]}", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::enforcement-probe/*"}]})
    with aws.enforcing():
        try:
            aws.client("s3", nobody).list_buckets()
        except botocore.exceptions.ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def error_line(stderr: str) -> str:
    """The line that says why a run failed: the exception of the last traceback, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Crash)\b", line) or line.startswith("py4j.protocol."):
            return line[:400]
    return lines[-1][:400] if lines else "no output"


def clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def report(pipelines: list[LocalPipeline]) -> None:
    print("\nRuns")
    print(f"{'pipeline':<12} {'run':>3} {'starts at':>9} {'trigger':<11} {'events':>6} {'files':>5} "
          f"{'rows in':>7} {'out':>5} {'rejected':>8} {'rounds':>6} {'seconds':>7}")
    for lp in pipelines:
        for record in lp.records:
            s, run = record.stats, record.run
            print(f"{lp.pipeline.name:<12} {run.index:>3} {clock(run.start):>9} {run.reason:<11} "
                  f"{run.events:>6} {s['files_processed']:>5} {s['rows_in']:>7} {s['rows_out']:>5} "
                  f"{s['rows_rejected']:>8} {s.get('rounds', 1):>6} {record.wall_seconds:>7.1f}")
        dropped = [f for f in lp.schedule.firings if not f.started]
        if dropped:
            print(f"{lp.pipeline.name:<12} {len(dropped)} firing(s) started no run (MaxConcurrentRuns reached "
                  "or dropped); their files were taken by a later run")
        sweeps = [e for e in getattr(lp.schedule, "alarm_events", [])]
        if sweeps:
            print(f"{lp.pipeline.name:<12} {len(sweeps)} notification(s) by the ledger sweep alarm")
        worst = lp.schedule.worst_latency() if hasattr(lp.schedule, "worst_latency") else None
        if worst is not None:
            print(f"{lp.pipeline.name:<12} worst latency from upload to table: {clock(worst)}")
        for arrival in lp.ignored:
            print(f"{lp.pipeline.name:<12} ignored by the rule: {arrival.key}")
        if lp.left_out:
            print(f"{lp.pipeline.name:<12} job policy statements left out (--without-statement): {', '.join(lp.left_out)}")
        if lp.rewritten:
            print(f"{lp.pipeline.name:<12} job policy statements run without their Condition (moto evaluates "
                  f"none): {', '.join(lp.rewritten)}")
        for failure in lp.failures:
            print(f"{lp.pipeline.name:<12} a job run FAILED: {failure}")
        print(f"{lp.pipeline.name:<12} job run logs (Ivy, Spark and the job's output): {lp.logs}")


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


def check_cases(pipelines: list[LocalPipeline],
                tables: dict[str, tuple[list[dict[str, Any]] | None, str | None]]) -> list[acceptance.Case]:
    """The acceptance cases of every pipeline, judged from what was uploaded and what it left."""
    cases = []
    for lp in pipelines:
        rows, error = tables.get(lp.pipeline.name, (None, "not read"))
        cases += acceptance.check(lp.outcome(rows, error))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", default="app.py",
                        help='the CDK app: a command like cdk\'s --app ("python app.py") (default: %(default)s)')
    parser.add_argument("--scenario", default="demo", choices=["demo"],
                        help="the arrival trace: a lone file, a burst, a changed re-upload (default)")
    parser.add_argument("--work", default=".cdk-glue-pipeline", help="scratch folder, wiped first (default: %(default)s)")
    parser.add_argument("--cdk-out", help="an already synthesized cloud assembly of the app (skips the synth)")
    parser.add_argument("--drop-firings-during-runs", action="store_true",
                        help="Glue's pessimistic case: every firing while a run is in progress starts no run "
                             "(default: off)")
    parser.add_argument("--files", action="append", default=[], metavar="FOLDER_OR_GLOB",
                        help="run on your own files instead of the built-in trace: a folder (every file in it) or a "
                             "glob, uploaded under the pipeline's input prefix; prints the table's first rows, the "
                             "rejected rows with their reasons and each row rule's failures (repeatable; default: "
                             "the built-in trace)")
    parser.add_argument("--pipeline", metavar="NAME",
                        help="the pipeline --files go to (default: the app's only pipeline)")
    parser.add_argument("--without-statement", action="append", default=[], metavar="SID",
                        help="leave the statement with this Sid out of every job role's policy, to see that the job "
                             "needs it (repeatable; default: none)")
    args = parser.parse_args(argv)

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    began = time.perf_counter()
    work = pathlib.Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if args.cdk_out:
        assembly = Assembly(pathlib.Path(args.cdk_out).resolve())
    else:
        print(f"synthesizing {args.app} ...", flush=True)
        assembly = synth(args.app, work / "cdk.out")
    found = template.pipelines(assembly.template())
    print(f"found {len(found)} pipeline(s): " + ", ".join(
        f"{p.name} (batch {p.batch_size} / {p.batch_window} s, max {p.max_concurrent_runs} run)" for p in found))
    resources = assembly.template()["Resources"]
    for p in found:
        runtime = runtimes.for_glue_version(resources[p.job_logical_id]["Properties"].get(
            "GlueVersion", runtimes.DEFAULT_GLUE_VERSION))
        note = venvs.python_note(runtime)
        print(f"  {p.name}: Glue {runtime.glue_version} runtime: Spark {runtime.spark}, Python {runtime.python}, "
              f"boto3 {runtime.boto3}, Iceberg {runtime.iceberg}, S3A of Hadoop {runtime.hadoop}"
              + (f" ({note})" if note else ""), flush=True)

    from tqdm import tqdm

    liveness_base = {"drop": batching.drop_during_runs if args.drop_firings_during_runs else None}
    with LocalAws() as aws:
        print(f"local AWS endpoint {aws.endpoint} (S3, SQS, Glue, IAM, CloudWatch)", flush=True)
        if not enforcement_refuses(aws):
            print("[FAILED] IAM enforcement is not in effect: a principal without a statement for it was allowed "
                  "s3:ListAllMyBuckets; the runs would prove nothing about the job's policy")
            return 1
        print("jobs run under their role's policy with IAM enforcement on (checked: a principal without a "
              "statement for it was refused s3:ListAllMyBuckets)", flush=True)
        if args.files:
            target = pick_pipeline(found, args.pipeline)
            found = [target]
            traces = {target.name: user_trace(target, args.files)}
        else:
            traces = {p.name: demo_scenario(p, offset=i * 600.0) for i, p in enumerate(found)}
        total = sum(1 for t in traces.values() for a in t if not a.note.startswith("a key the rule"))
        local = []
        # One deployment of the template: pipelines that share a bucket share it here too.
        names = deploy(aws, assembly.template(), "local")
        with tqdm(total=total, unit="event", desc="replaying", file=sys.stdout) as bar:
            for pipeline in found:
                liveness = dict(liveness_base, **batching_liveness(pipeline))
                lp = LocalPipeline(pipeline, assembly, aws, work / pipeline.name, liveness, bar.update, names=names,
                                   without_statements=tuple(args.without_statement))
                lp.replay(traces[pipeline.name])
                local.append(lp)
        report(local)
        tables = query(local)
        if args.files:
            for lp in local:
                show_results(lp, tables.get(lp.pipeline.name, (None, "not read"))[0])
        print("\nAcceptance cases" + (" (your files: the built-in trace's cases are not run)" if args.files else ""))
        results = check_cases(local, tables)
    for case in results:
        print(f"  [{case.status}] {case.title}: {case.detail}")
    print(f"\nwall time: {time.perf_counter() - began:.0f} s")
    failed = [case for case in results if case.status == acceptance.FAILED]
    checked = [case for case in results if case.status == acceptance.OK]
    return 0 if checked and not failed else 1


def batching_liveness(pipeline: template.Pipeline) -> dict[str, Any]:
    """The drain loop and sweep settings of the pipeline, from its job arguments."""
    arguments = pipeline.job_arguments
    out: dict[str, Any] = {}
    if "--drain_time_budget_seconds" in arguments:
        out["drain_budget"] = float(arguments["--drain_time_budget_seconds"])
    if "--sweep_after_seconds" in arguments:
        out["sweep_after"] = float(arguments["--sweep_after_seconds"])
    return out


if __name__ == "__main__":
    sys.exit(main())

"""One pipeline of a synthesized app, deployed on the local endpoint and run the way AWS runs it.

:func:`deploy` creates what the template's jobs touch (buckets, ledgers, databases, workflows,
alarms) on the endpoint once; :class:`LocalPipeline` replays uploads through the pipeline's real
rule pattern and batching, launching its job from the assembly (``launcher``) under its role's
policy with IAM enforced, and says what it left behind (:meth:`LocalPipeline.outcome`).
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import pathlib
import re
import time
import uuid
from typing import Any

from . import acceptance, batching, runtimes, sparkconf, template
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


def error_line(stderr: str) -> str:
    """The line that says why a run failed: the exception of the last traceback, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Crash)\b", line) or line.startswith("py4j.protocol."):
            return line[:400]
    return lines[-1][:400] if lines else "no output"

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
import datetime
import os
import pathlib
import shutil
import subprocess
import sys
import time
import uuid
from typing import Any

from . import acceptance, batching, runtimes, template, venvs
from .launcher import Assembly
from .local_pipeline import LocalPipeline, deploy
from .localaws import LocalAws
from .readback import query, show_results
from .traces import demo_scenario, pick_pipeline, user_trace


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

"""The README's demo.

1. Synthesize examples/app.py with the real cdk CLI and show what each
   EventDrivenGlueWorkflow created: resources, rule pattern, batching, job, alarms.
2. Run the whole flow locally with that template (cdk-glue-pipeline run): sample files
   arrive in bursts, the real rule pattern and batching start runs, and the real
   job converts them on local Spark; then query the Parquet with DuckDB.
3. Run the guide's cleaning (pipeline GuideCustomers) on the guide's sample and a messier
   file (examples/data/): the cleaned rows, the flagged email and the rejected row without id.

Run through `make demo` (which builds and installs the wheel first).
"""
from __future__ import annotations

import collections
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

from cdk_event_driven_glue_workflow_tools import runner  # noqa: E402
OUT = ROOT / "cdk.out" / "demo"


def synth() -> dict:
    print("$ cdk synth --app 'python examples/app.py'", flush=True)
    return runner.synth(f"{sys.executable} examples/app.py", OUT, cwd=ROOT).template()


def pipelines(template: dict) -> dict[str, dict[str, dict]]:
    """Groups resources by the pipeline construct that owns them (from aws:cdk:path)."""
    grouped: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for logical_id, resource in template["Resources"].items():
        path = resource.get("Metadata", {}).get("aws:cdk:path", "")
        parts = path.split("/")
        if len(parts) > 2:
            grouped[parts[1]][logical_id] = resource
    return grouped


def show(name: str, resources: dict[str, dict]) -> None:
    print(f"\n== EventDrivenGlueWorkflow '{name}' ==")
    counts = collections.Counter(r["Type"] for r in resources.values())
    for cfn_type, count in sorted(counts.items()):
        print(f"  {count} x {cfn_type}")
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Events::Rule" and props.get("EventPattern", {}).get("source") == ["aws.s3"]:
            print("  rule pattern:", json.dumps(props["EventPattern"]["detail"].get("object", {})))
            print("  rule targets:", ", ".join(describe_target(t) for t in props["Targets"]))
        if resource["Type"] == "AWS::Glue::Trigger":
            batching = props["EventBatchingCondition"]
            print(f"  trigger: {props['Type']}, fires at {batching['BatchSize']} events"
                  f" or {batching['BatchWindow']} s after the first")
        if resource["Type"] == "AWS::Glue::Job":
            args = props["DefaultArguments"]
            print(f"  job: Glue {props['GlueVersion']}, {props['NumberOfWorkers']} x {props['WorkerType']},"
                  f" input {args['--input_format']}, output {render(args['--output_path'])}")
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            print(f"  alarm: {props['AlarmDescription']}")


def describe_target(target: dict) -> str:
    arn = json.dumps(target["Arn"])
    kind = "Glue workflow (glue:NotifyEvent)" if ":workflow/" in arn else "SQS event ledger"
    return f"{kind}, {target['RetryPolicy']['MaximumRetryAttempts']} retries, DLQ"


def render(value) -> str:
    """Shows an Fn::Join of literals and refs as text, e.g. s3://${Bucket}/parquet/."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(p if isinstance(p, str) else "${" + next(iter(p.values())) + "}" for p in value["Fn::Join"][1])
    return str(value)


def main() -> int:
    template = synth()
    grouped = pipelines(template)
    for name, resources in sorted(grouped.items()):
        show(name, resources)
    print(f"\n{len(template['Resources'])} resources in EventDrivenGlueDemo; template: {OUT / 'EventDrivenGlueDemo.template.json'}")
    print("\n== Running the pipelines locally (cdk-glue-pipeline run) ==", flush=True)
    status = runner.main(["--cdk-out", str(OUT), "--work", str(ROOT / ".tmp" / "demo-run")])
    if status != 0:
        return status
    # As a user runs it: the command, in a process of its own (the local endpoint's state is
    # the process's, and the first run's pipelines are deployed in it already).
    command = [str(pathlib.Path(sys.executable).parent / "cdk-glue-pipeline"), "run", "--cdk-out", str(OUT),
               "--work", str(ROOT / ".tmp" / "demo-guide"), "--pipeline", "GuideCustomers",
               "--files", str(ROOT / "examples" / "data")]
    print(f"\n== The guide's cleaning on examples/data/ ==\n$ cdk-glue-pipeline {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())

"""``cdk-glue-pipeline``: plan the batching of a pipeline, or run it on this machine.

    cdk-glue-pipeline plan --scenario bursty
    cdk-glue-pipeline plan --trace arrivals.csv --sizes 5,20,100 --windows 60,300,900
    cdk-glue-pipeline run --app "python app.py"
    cdk-glue-pipeline --version

``cdk-glue-pipeline COMMAND --help`` lists the options of a command.

``plan`` needs only this package; ``run`` also needs Java 17 (for Spark 3.5) and
reaches Maven Central once for the S3A connector (and Iceberg) jars, cached in
``~/.cache/cdk-event-driven-glue-workflow``.
"""
from __future__ import annotations

import sys

DISTRIBUTION = "cdk-event-driven-glue-workflow-tools"
COMMANDS = {
    "plan": ("planner", "compare batch sizes and windows for an arrival trace"),
    "run": ("runner", "run every pipeline of a CDK app locally, the way AWS runs it"),
}


def version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-V", "--version"):
        print(f"cdk-glue-pipeline {version()}")
        return 0
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        print("\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<5} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module_name, _ = COMMANDS[argv[0]]
    module = __import__(f"{__package__}.{module_name}", fromlist=["main"])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())

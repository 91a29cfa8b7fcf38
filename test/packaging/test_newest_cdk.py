"""The library on the newest aws-cdk-lib users can get, not only on the floor the suite runs on.

The wheel declares ``aws-cdk-lib>=2.270.0,<3``: the rest of the suite proves the floor
(requirements-dev.lock holds aws-cdk-lib 2.270.0), and this module the newest release at lock
time (requirements-newest.lock, moved by ``make upgrade``). A venv outside the repository gets
that lock, with hashes, and the built wheel; a small app synthesizes the default pipeline, an
Iceberg pipeline and one on the newest Glue version, with cdk-nag's AWS Solutions rules, and
prints what the assertions below check.
"""
from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from dist_helpers import DIST, ROOT, VERSION

NEWEST_LOCK = ROOT / "requirements-newest.lock"

APP = textwrap.dedent("""\
    import sys
    import aws_cdk as cdk
    from aws_cdk import Validations, aws_glue as glue
    from cdk_nag import AwsSolutionsChecks
    from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow, TableFormat

    app = cdk.App(outdir=sys.argv[1])
    # cdk-nag 3 is a validation plugin: synth fails on any finding left unacknowledged.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Newest")
    EventDrivenGlueWorkflow(stack, "Default")
    EventDrivenGlueWorkflow(stack, "Orders", input_prefix="orders/", output_prefix="orders-table/",
                            table_format=TableFormat.ICEBERG)
    EventDrivenGlueWorkflow(stack, "Latest", input_prefix="latest/", output_prefix="latest-table/",
                            glue_version=glue.GlueVersion.V6_0)
    app.synth()
    """)


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} exited {result.returncode}\n"
                                    f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def locked(name: str, lock: pathlib.Path) -> str:
    found = re.search(rf"^{re.escape(name)}==(\S+)", lock.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert found, f"{name} is not in {lock.name}: run `make lock`"
    return found.group(1)


@pytest.fixture(scope="module")
def newest(tmp_path_factory) -> pathlib.Path:
    """A venv with the newest-CDK lock and the library's wheel (its dependencies from the lock)."""
    (library,) = sorted((DIST / "python").glob(f"cdk_event_driven_glue_workflow-{VERSION}-*.whl"))[-1:] or [None]
    assert library, "dist/python has no library wheel: run `npx projen package-local` (make test does)"
    home = tmp_path_factory.mktemp("newest-cdk")
    run([sys.executable, "-m", "venv", str(home)], timeout=120)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(pip + ["--require-hashes", "-r", str(NEWEST_LOCK)], timeout=900)
    run(pip + ["--no-deps", str(library)], timeout=300)
    return home


def test_the_newest_lock_is_newer_than_the_floor():
    floor = locked("aws-cdk-lib", ROOT / "requirements-dev.lock")
    newest = locked("aws-cdk-lib", NEWEST_LOCK)
    assert floor == json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk-lib"]
    assert tuple(map(int, newest.split("."))) >= tuple(map(int, floor.split("."))), (floor, newest)


def test_default_iceberg_and_newest_glue_pipelines_synthesize_nag_clean_on_the_newest_cdk(newest, tmp_path):
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    out = tmp_path / "cdk.out"
    run([str(newest / "bin" / "python"), "app.py", str(out)], timeout=600, cwd=tmp_path)
    installed = run([str(newest / "bin" / "python"), "-c", "import importlib.metadata as m; "
                     "print(m.version('aws-cdk-lib'))"], timeout=60).stdout.strip()
    assert installed == locked("aws-cdk-lib", NEWEST_LOCK)
    template = json.loads((out / "Newest.template.json").read_text(encoding="utf-8"))
    jobs = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::Glue::Job"}
    assert sorted(job["GlueVersion"] for job in jobs.values()) == ["5.1", "5.1", "6.0"]
    assert sum(job["DefaultArguments"].get("--table_format") == "ICEBERG" for job in jobs.values()) == 1
    triggers = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Trigger"]
    assert [t["EventBatchingCondition"] for t in triggers] == [{"BatchSize": 100, "BatchWindow": 900}] * 3

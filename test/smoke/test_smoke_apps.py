"""A small app in each of TypeScript, Java and Go, built against the package that
`npx projen package-local` produced for that language, synthesized with the real cdk
CLI. Each sets its own batching, which must reach the EVENT trigger, and the job's
PySpark files must travel inside each package to the cloud assembly.

These are the slowest tests: run them alone with `.venv/bin/python -m pytest -m smoke`.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

from dist_helpers import MAVEN_REPO, ROOT, VERSION, built, go_module_dir, npm_tarball

pytestmark = pytest.mark.smoke

SMOKE = pathlib.Path(__file__).resolve().parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"
JOB_FILES = sorted((ROOT / "assets" / "glue").glob("*.py"))
JOB_PACKAGE = ROOT / "assets" / "glue" / "python"
JOB_JAR = ROOT / "assets" / "glue" / "lib" / "glue-ingest-jvm.jar"


def run(command: list[str], cwd: pathlib.Path, timeout: int = 900) -> str:
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "true", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
    return result.stdout


def synth(app_dir: pathlib.Path, app_command: str, out: pathlib.Path, stack: str) -> dict:
    """`cdk synth` of one app; returns its stack's template and checks the staged job files."""
    run([str(built(CDK)), "synth", "--app", app_command, "--output", str(out), "--quiet", "--no-notices"], app_dir)
    assert_job_files_staged(out, stack)
    return json.loads((out / f"{stack}.template.json").read_text(encoding="utf-8"))


def files_under(folder: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def assert_job_files_staged(out: pathlib.Path, stack: str) -> None:
    """The cloud assembly holds everything the job needs, exactly as in assets/glue/, from the
    language's package: the entry script, the glue_ingest package (the zip asset's folder on
    --extra-py-files) and the JVM helper (the jar on --extra-jars)."""
    manifest = json.loads((out / f"{stack}.assets.json").read_text(encoding="utf-8"))
    sources = [asset["source"] for asset in manifest["files"].values()]
    staged = [out / s["path"] for s in sources if s["path"].endswith(".py")]
    assert sorted(p.read_bytes() for p in staged) == sorted(p.read_bytes() for p in JOB_FILES)
    packages = [out / s["path"] for s in sources if s.get("packaging") == "zip" and (out / s["path"] / "glue_ingest").is_dir()]
    assert len(packages) == 1, sources
    assert files_under(packages[0]) == files_under(JOB_PACKAGE)
    jars = [out / s["path"] for s in sources if s["path"].endswith(".jar")]
    assert [p.read_bytes() for p in jars] == [JOB_JAR.read_bytes()]


def assert_batched_event_trigger(template: dict, batch_size: int, batch_window: int) -> None:
    triggers = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Trigger"]
    assert len(triggers) == 1, triggers
    trigger = triggers[0]
    assert trigger["Type"] == "EVENT"
    assert trigger["EventBatchingCondition"] == {"BatchSize": batch_size, "BatchWindow": batch_window}
    jobs = {logical_id for logical_id, r in template["Resources"].items() if r["Type"] == "AWS::Glue::Job"}
    assert len(jobs) == 1
    assert trigger["Actions"][0]["JobName"] == {"Ref": jobs.pop()}


def test_typescript_app_on_the_npm_tarball(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(SMOKE / "typescript", app, ignore=shutil.ignore_patterns("node_modules", "*.js", "*.d.ts"))
    run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--no-save", str(npm_tarball())], app)
    run([str(app / "node_modules" / ".bin" / "tsc"), "-p", "."], app)  # strict type-check against our .d.ts
    template = synth(app, "node app.js", tmp_path / "cdk.out", "SmokeTypeScript")
    assert_batched_event_trigger(template, batch_size=7, batch_window=120)


def test_java_app_on_the_maven_artifact(tmp_path):
    maven = (f"mvn --batch-mode --quiet -Dstyle.color=never -Dmaven.repo.local={built(MAVEN_REPO)} "
             f"-Dglue-workflow.version={VERSION} compile exec:java")
    template = synth(SMOKE / "java", maven, tmp_path / "cdk.out", "SmokeJava")
    assert_batched_event_trigger(template, batch_size=8, batch_window=240)


def test_go_app_on_the_go_module(tmp_path):
    go_module_dir()  # go.mod replaces the published module with this one
    template = synth(SMOKE / "go", "go run .", tmp_path / "cdk.out", "SmokeGo")
    assert_batched_event_trigger(template, batch_size=9, batch_window=360)

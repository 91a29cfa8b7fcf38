"""The companion package cdk-event-driven-glue-workflow-tools as a user gets it.

Both wheels of dist/python (built by `npx projen package-local`, `package:python` or
`wheel`; `make test` runs the first) are installed into a fresh venv outside the
repository, their dependencies from the package index. A small CDK app in a folder
outside the repository is then planned and run with the `cdk-glue-pipeline` command
of that venv: what a user who runs `pip install cdk-event-driven-glue-workflow-tools`
gets, with nothing of the repository on the Python path.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from dist_helpers import DIST, ROOT, VERSION

PACKAGE = "cdk_event_driven_glue_workflow_tools"
SOURCES = ROOT / "tools" / "src" / PACKAGE
MODULES = sorted(p.stem for p in SOURCES.glob("*.py") if p.stem != "__init__")
TASKS = json.loads((ROOT / ".projen" / "tasks.json").read_text(encoding="utf-8"))["tasks"]


def wheel(dist_name: str) -> pathlib.Path:
    """dist/python/<dist_name>-<VERSION>-*.whl, or a failure that says how to build it."""
    found = sorted((DIST / "python").glob(f"{dist_name}-{VERSION}-*.whl"))
    assert found, (f"dist/python/{dist_name}-{VERSION}-*.whl is missing: run `npx projen package-local` "
                   "(make test does) or `npx projen wheel`")
    return found[-1]


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (f"{' '.join(command)} exited {result.returncode}\n"
                                    f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}")
    return result


# --- the wheel itself -------------------------------------------------------------------------

def test_tools_wheel_holds_every_module_and_the_command():
    with zipfile.ZipFile(wheel(PACKAGE)) as whl:
        names = set(whl.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = whl.read(entry_points).decode()
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = whl.read(meta).decode()
    missing = [m for m in ["__init__", *MODULES] if f"{PACKAGE}/{m}.py" not in names]
    assert missing == [], f"the tools wheel lacks the modules {missing} of tools/src/{PACKAGE}/"
    assert f"cdk-glue-pipeline = {PACKAGE}.cli:main" in scripts
    assert re.search(rf"^Version: {re.escape(VERSION)}$", metadata, flags=re.MULTILINE)
    # Released together: the tools require exactly the library of the same release.
    assert re.search(rf"^Requires-Dist: cdk-event-driven-glue-workflow==\s*{re.escape(VERSION)}$", metadata,
                     flags=re.MULTILINE), metadata
    # Its PyPI page is tools/README.md.
    assert "cdk-glue-pipeline plan" in metadata and "cdk-glue-pipeline run" in metadata


def requires_python(path: pathlib.Path) -> str:
    with zipfile.ZipFile(path) as whl:
        (meta,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        found = re.findall(r"^Requires-Python: (.*)$", whl.read(meta).decode(), flags=re.MULTILINE)
    assert len(found) == 1, f"{path.name} declares Requires-Python {len(found)} times"
    return found[0].strip()


def test_the_readmes_state_the_python_floor_the_wheels_declare():
    declared = {name: requires_python(wheel(name)) for name in ("cdk_event_driven_glue_workflow", PACKAGE)}
    assert declared == {"cdk_event_driven_glue_workflow": ">=3.10", PACKAGE: ">=3.10"}
    stated = {name: re.findall(r"Python\s+(3\.\d+)\s+or\s+later", (ROOT / name).read_text(encoding="utf-8"))
              for name in ("README.md", "tools/README.md")}
    assert stated == {"README.md": ["3.10"], "tools/README.md": ["3.10"]}


def test_the_pypi_release_builds_the_tools_wheel_next_to_the_library():
    # release.yml's release_pypi job runs `npx projen package:python`, then publib-pypi,
    # which uploads every wheel in dist/python (test_packages.py checks the job's steps).
    steps = TASKS["package:python"]["steps"]
    assert steps[0]["exec"].startswith("jsii-pacmak") and {"spawn": "package:tools"} in steps[1:]
    assert TASKS["package:tools"]["steps"] == [{"exec": "scripts/build-tools-wheel.sh"}]
    assert {"spawn": "package:tools"} in TASKS["package-local"]["steps"]


# --- a fresh venv, as a user has it ---------------------------------------------------------

@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> pathlib.Path:
    """A new venv outside the repository with both wheels and their dependencies from the index."""
    library, tools = wheel("cdk_event_driven_glue_workflow"), wheel(PACKAGE)
    home = tmp_path_factory.mktemp("fresh-venv")
    assert ROOT not in home.parents
    run([sys.executable, "-m", "venv", str(home)], timeout=120)
    run([str(home / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         "--quiet", str(library), str(tools)], timeout=900, cwd=home)
    return home


@pytest.fixture(scope="module")
def user_app(tmp_path_factory) -> pathlib.Path:
    """A user's CDK app in Python: one EventDrivenGlueWorkflow with a prefix and no suffix
    filter (the demo trace's key the rule ignores is then one outside the prefix)."""
    folder = tmp_path_factory.mktemp("user-app")
    (folder / "app.py").write_text(textwrap.dedent("""\
        import aws_cdk as cdk
        from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow

        app = cdk.App()
        stack = cdk.Stack(app, "Shop")
        EventDrivenGlueWorkflow(stack, "Orders", input_prefix="orders/", batch_size=5)
        app.synth()
        """), encoding="utf-8")
    (folder / "cdk.json").write_text(json.dumps({"app": "python app.py"}), encoding="utf-8")
    return folder


def user_env(venv: pathlib.Path) -> dict[str, str]:
    """The venv first on PATH (its `python` runs the app), then the repository's cdk CLI
    (node_modules/.bin, installed by bootstrap here and on CI), as a user's global one."""
    path = os.pathsep.join([str(venv / "bin"), str(ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return dict(env, PATH=path, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", SPARK_LOCAL_IP="127.0.0.1")


def test_every_module_imports_in_the_fresh_venv(venv, tmp_path):
    code = (f"import importlib, {PACKAGE} as p; "
            f"[importlib.import_module(p.__name__ + '.' + m) for m in {MODULES!r}]; print(p.__file__)")
    result = run([str(venv / "bin" / "python"), "-c", code], timeout=120, cwd=tmp_path, env=user_env(venv))
    installed = pathlib.Path(result.stdout.strip())
    assert venv in installed.parents and ROOT not in installed.parents, installed


def test_plan_prints_the_table_and_the_worst_latencies(venv, tmp_path):
    command = [str(venv / "bin" / "cdk-glue-pipeline"), "plan", "--sizes", "10,100", "--windows", "300,900",
               "--out", str(tmp_path / "planner")]
    out = run(command, timeout=300, cwd=tmp_path, env=user_env(venv)).stdout
    assert "| strategy | runs | p50 latency (s) | p95 latency (s) | worst latency (s) |" in out
    assert "| batch 100 / 900 s |" in out and "| Lambda per file |" in out
    assert re.search(r"cheapest batching: batch \d+ / \d+ s: \d+ runs, p95 \d+ s, worst latency \d+ s", out), out
    assert (tmp_path / "planner" / "table.md").is_file() and (tmp_path / "planner" / "runs_vs_p95.png").is_file()


def test_plan_prints_the_lost_firing_bound_the_readme_quotes_for_the_defaults(venv, tmp_path):
    # README "Worst-case latency": batch 100 / 900 s (the construct's defaults).
    command = [str(venv / "bin" / "cdk-glue-pipeline"), "plan", "--sizes", "100", "--windows", "900",
               "--out", str(tmp_path / "planner")]
    out = run(command, timeout=300, cwd=tmp_path, env=user_env(venv)).stdout
    assert ("a lone file whose firing is lost: up to 5506 s, each further lost firing (the sweep's too): "
            "up to +4560 s") in out, out


def test_version_prints_the_installed_version(venv, tmp_path):
    out = run([str(venv / "bin" / "cdk-glue-pipeline"), "--version"], timeout=120, cwd=tmp_path,
              env=user_env(venv)).stdout
    assert out == f"cdk-glue-pipeline {VERSION}\n"


def test_plan_skips_a_header_row_and_writes_to_a_folder_of_the_current_directory(venv, tmp_path):
    (tmp_path / "arrivals.csv").write_text("arrival,size\n2026-11-22T10:00:00Z,10\n2026-11-22T10:00:30Z,5\n"
                                           "2026-11-22T10:15:00Z,1\n", encoding="utf-8")
    command = [str(venv / "bin" / "cdk-glue-pipeline"), "plan", "--trace", "arrivals.csv", "--sizes", "10",
               "--windows", "300"]
    out = run(command, timeout=300, cwd=tmp_path, env=user_env(venv)).stdout
    assert "trace: 3 files over 0.2 h (arrivals.csv)" in out, out
    assert "wrote cdk-glue-pipeline-plan/table.md and cdk-glue-pipeline-plan/runs_vs_p95.png" in out, out
    assert sorted(p.name for p in (tmp_path / "cdk-glue-pipeline-plan").iterdir()) == ["runs_vs_p95.png",
                                                                                        "table.md"]


def test_plan_names_the_line_and_value_of_a_row_that_is_not_a_time(venv, tmp_path):
    (tmp_path / "arrivals.csv").write_text("arrival\n0\n30\nsoon\n", encoding="utf-8")
    result = subprocess.run([str(venv / "bin" / "cdk-glue-pipeline"), "plan", "--trace", "arrivals.csv"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path, env=user_env(venv))
    assert result.returncode == 2, result
    assert result.stderr.endswith("cdk-glue-pipeline plan: error: --trace: arrivals.csv, line 4: 'soon' is "
                                  "neither seconds nor an ISO-8601 time\n"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cdk-glue-pipeline-plan").exists()


def option_help(text: str) -> dict[str, str]:
    """Each option of an argparse --help, with its help text on one line."""
    options = text.split("\noptions:\n", 1)[1]
    found = re.findall(r"^  (-[^\n]*?)(?:  +|\n)(.*?)(?=^  -|\Z)", options, flags=re.MULTILINE | re.DOTALL)
    return {re.findall(r"--[\w-]+", flags)[-1]: " ".join(helptext.split()) for flags, helptext in found}


def test_plan_help_shows_the_default_of_every_option(venv, tmp_path):
    out = run([str(venv / "bin" / "cdk-glue-pipeline"), "plan", "--help"], timeout=120, cwd=tmp_path,
              env=dict(user_env(venv), COLUMNS="250")).stdout   # no wrapping
    helps = option_help(out)
    assert len(helps) == 18, helps
    assert [name for name, text in helps.items() if name != "--help" and "(default: " not in text] == []
    assert helps["--sizes"].endswith("(default: 1,5,10,25,50,100)")
    assert helps["--windows"].endswith("(default: 60,300,600,900)")
    assert helps["--out"].endswith("(default: cdk-glue-pipeline-plan, in the current folder)")
    assert helps["--trace"].endswith("(default: none, the --scenario trace)")


def test_run_help_names_its_options(venv, tmp_path):
    out = run([str(venv / "bin" / "cdk-glue-pipeline"), "run", "--help"], timeout=120, cwd=tmp_path,
              env=user_env(venv)).stdout
    for option in ("--app", "--cdk-out", "--work", "--drop-firings-during-runs"):
        assert option in out, out


def test_run_synthesizes_the_user_app_and_passes_every_acceptance_case(venv, user_app):
    env = user_env(venv)
    assert shutil.which("cdk", path=env["PATH"]), "the cdk CLI is missing: run `make bootstrap` (npm install)"
    assert shutil.which("java", path=env["PATH"]), "`cdk-glue-pipeline run` needs Java 17 for Spark 3.5"
    result = run([str(venv / "bin" / "cdk-glue-pipeline"), "run", "--app", "python app.py"], timeout=600,
                 cwd=user_app, env=env)
    out = result.stdout
    assert "found 1 pipeline(s): Orders (batch 5 / 900 s, max 1 run)" in out, out
    cases = re.findall(r"^  \[(ok|FAILED)\] (.*)$", out, flags=re.MULTILINE)
    assert len(cases) == 6 and all(status == "ok" for status, _ in cases), out
    assert "ignored by the rule: elsewhere-orders/notes.json" in out, out
    assert (user_app / ".cdk-glue-pipeline" / "cdk.out" / "manifest.json").is_file()


def test_run_on_a_users_own_files_shows_their_rows_rejects_and_rule_counts(venv, tmp_path_factory):
    """`run --files`: a user's folder as the uploads, through their transform and rules."""
    folder = tmp_path_factory.mktemp("user-files-app")
    (folder / "app.py").write_text(textwrap.dedent("""\
        import aws_cdk as cdk
        from cdk_event_driven_glue_workflow import (
            EventDrivenGlueWorkflow, InputFormat, RowRule, RuleAction, Transform)

        app = cdk.App()
        stack = cdk.Stack(app, "Shop")
        EventDrivenGlueWorkflow(
            stack, "Customers", input_prefix="customers/", input_format=InputFormat.CSV,
            transform=Transform.sql("SELECT *, upper(trim(status)) AS status_uc FROM input WHERE status <> 'gone'"),
            row_rules=[RowRule.matches("email", "@", name="Invalid email", action=RuleAction.FLAG),
                       RowRule.not_null("amount", name="missing amount")])
        app.synth()
        """), encoding="utf-8")
    (folder / "cdk.json").write_text(json.dumps({"app": "python app.py"}), encoding="utf-8")
    data = folder / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,name,email,amount,status\n1,ann,ann@x.com,10,active\n2,bob,bob,20,pending\n"
                                "4,di,di@x.com,,active\n", encoding="utf-8")
    (data / "b.csv").write_text("id,name,email,amount,status\n5,ed,ed@x.com,5,gone\n", encoding="utf-8")
    result = run([str(venv / "bin" / "cdk-glue-pipeline"), "run", "--app", "python app.py", "--files", "data"],
                 timeout=600, cwd=folder, env=user_env(venv))
    out = result.stdout
    assert "the table's first 2 of 2 rows:" in out, out
    assert re.search(r"^    1(\.0)? \| ann \| ann@x\.com \| 10\.0 \| active \| ACTIVE \|  \|", out, flags=re.MULTILINE), out
    assert re.search(r"^    2(\.0)? \| bob \| bob \| 20\.0 \| pending \| PENDING \| Invalid email \|", out,
                     flags=re.MULTILINE), out
    assert "flagged rows (kept, with the FLAG rules they failed in data_quality_issues): 1" in out, out
    assert re.search(r"^    a\.csv: Invalid email: id=2(\.0)?, name=bob, email=bob, ", out, flags=re.MULTILINE), out
    assert "rejected rows: 1" in out and "a.csv:?: rule missing amount failed (amount = null)" in out, out
    assert "rows the transform filtered out: 1" in out
    assert "rule Invalid email (FLAG): 1 row(s) failed" in out and "rule missing amount (REJECT): 1 row(s) failed" in out
    assert "[FAILED]" not in out and "[ok] Customers: no uploaded version is left waiting" in out, out

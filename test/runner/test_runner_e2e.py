"""End to end: the runner drives the real job with the synthesized pattern and batching."""
import json
import os
import pathlib
import re
import subprocess
import sys

import duckdb
import pytest

from cdk_event_driven_glue_workflow_tools import scenario

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("runner")
    # A caller's own AWS session must not reach the job's process next to the local keys
    # (it once did: every run failed with InvalidToken under pytest).
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", AWS_SESSION_TOKEN="the-callers-token")
    done = subprocess.run(
        [sys.executable, "-m", "cdk_event_driven_glue_workflow_tools.runner", "--app", "test/runner/small_app.py", "--work", str(work)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return done, work


def output_rows(work):
    # The runner downloads the table's objects from the local S3 endpoint to read them back.
    files = [str(p) for p in (work / "Items").glob("table-*/**/*.parquet")]
    assert files, "no Parquet output"
    return duckdb.connect().execute(
        "SELECT product_id, _source_file, _ingested_at FROM read_parquet(?, hive_partitioning=true, union_by_name=true)",
        [files]).fetchall()


def test_runner_succeeds_and_reports_every_acceptance_case(run):
    done, _ = run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("[ok]") == 6
    assert "[FAILED]" not in done.stdout
    assert "jobs run under their role's policy with IAM enforcement on" in done.stdout
    assert "ignored by the rule: in/notes.txt" in done.stdout


def test_burst_of_ten_is_at_most_three_runs_with_batch_size_four(run):
    """The lone file's window, then the burst in batches of 4 (3 runs while each run ends
    before the next batch fills, fewer when a slow run drains the next batch), then the
    re-upload's window."""
    done, _ = run
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("Items ") and line.split()[1].isdigit()]
    reasons = [r[3] for r in rows]
    assert reasons[0] == "BatchWindow" and reasons[-1] == "BatchWindow"
    burst = reasons[1:-1]
    assert 1 <= len(burst) <= 3 and burst[0] == "BatchSize", reasons


def test_output_has_every_input_row_exactly_once_per_object_version(run):
    _, work = run
    expected = []
    for index, version in [(0, 0)] + [(i, 0) for i in range(1, 11)] + [(0, 1)]:
        expected += [json.loads(line)["product_id"] for line in
                     scenario.product_json(index + version * 100, rows=25).decode().splitlines()]
    got = sorted(r[0] for r in output_rows(work))
    assert got == sorted(expected)
    assert len(got) == 12 * 25


def test_changed_reupload_is_a_second_ingestion_of_the_same_key(run):
    _, work = run
    ingestions = {r[2] for r in output_rows(work) if r[1].endswith("in/file-000.json")}
    assert len(ingestions) == 2


@pytest.fixture(scope="module")
def denied(tmp_path_factory):
    """The same app with DrainLedger (sqs:ReceiveMessage ...) left out of the job role's policy."""
    work = tmp_path_factory.mktemp("runner-denied")
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run(
        [sys.executable, "-m", "cdk_event_driven_glue_workflow_tools.runner", "--app", "test/runner/small_app.py",
         "--work", str(work), "--without-statement", "DrainLedger"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_enforcement_is_proven_by_a_denial_not_a_banner(denied):
    """Without the statement the job needs, its runs are refused and the runner says so."""
    out = denied.stdout
    assert denied.returncode == 1, out[-3000:] + denied.stderr[-3000:]
    assert "job policy statements left out (--without-statement): DrainLedger" in out
    assert "[FAILED] Items: every job run succeeded" in out or re.search(
        r"\[FAILED\] \S+: every job run succeeded", out), out
    assert re.search(r"a job run FAILED: run 1: botocore.exceptions.ClientError: An error occurred \(403\) when "
                     r"calling the ReceiveMessage operation", out), out
    assert "[ok]" not in out.split("Acceptance cases")[1]


def test_the_enforcement_probe_fails_when_enforcement_is_off(monkeypatch):
    import contextlib

    from cdk_event_driven_glue_workflow_tools.localaws import LocalAws
    from cdk_event_driven_glue_workflow_tools.runner import enforcement_refuses

    with LocalAws() as aws:
        assert enforcement_refuses(aws) is True
        monkeypatch.setattr(aws, "enforcing", contextlib.nullcontext)
        assert enforcement_refuses(aws) is False

"""The runner's acceptance cases fail on wrong outcomes and never pass on nothing.

Each case is fed a right outcome (every case ok) and wrong ones: a changed re-upload
ingested twice, every burst file quarantined with no row written, a version left waiting,
a missing table, too many burst runs, and an empty run.
"""
import copy
import json

import pytest

from cdk_event_driven_glue_workflow_tools import acceptance
from cdk_event_driven_glue_workflow_tools.acceptance import FAILED, NOT_RUN, OK, Outcome, Upload

BUCKET = "s3://landing/"


def body(index, version=0, rows=3):
    return "".join(json.dumps({"id": index * 100 + version * 10 + i, "name": f"n{index}-{version}-{i}"}) + "\n"
                   for i in range(rows)).encode()


def upload(key, note, index, version=0):
    return Upload(key, BUCKET + key, f"etag-{index}-{version}", body(index, version), note)


def rows_of(up, ingested="t1"):
    return [dict(json.loads(line), _source_file=up.uri, _ingested_at=ingested)
            for line in up.body.decode().splitlines()]


def run_stats(*ups, status="ok"):
    return {"files": [{"key": u.key, "etag": u.etag, "status": status} for u in ups]}


@pytest.fixture
def right():
    """A lone file, a burst of 4 in batches of 2 (2 runs), a changed re-upload: all as it should be."""
    lone = upload("in/file-000.json", "case 1: a lone file", 0)
    burst = [upload(f"in/burst/{i}.json", "case 2: burst", i) for i in range(1, 5)]
    changed = upload("in/file-000.json", "case 3: changed re-upload of file-000", 0, version=1)
    runs = [run_stats(lone), run_stats(*burst[:2]), run_stats(*burst[2:]), run_stats(changed)]
    # each run stamps its rows with its own ingestion time
    table = (rows_of(lone, "t1") + [row for u in burst[:2] for row in rows_of(u, "t2")]
             + [row for u in burst[2:] for row in rows_of(u, "t3")] + rows_of(changed, "t4"))
    return Outcome(name="P", uploads=[lone, *burst, changed], runs=runs, failures=[], table=table, batch_size=2)


def statuses(outcome):
    return {case.title.split(": ", 1)[1]: case.status for case in acceptance.check(outcome)}


def test_the_right_outcome_passes_every_case(right):
    assert set(statuses(right).values()) == {OK}
    assert len(statuses(right)) == 6


def test_a_changed_reupload_ingested_twice_fails_exactly_once(right):
    twice = copy.deepcopy(right)
    twice.table += rows_of(right.uploads[-1], ingested="t2")
    result = statuses(twice)
    assert result["the table holds every accepted record of every uploaded version exactly once"] == FAILED
    case = [c for c in acceptance.check(twice) if "exactly once" in c.title][0]
    assert "3 more than once" in case.detail


def test_every_burst_file_quarantined_with_no_rows_fails(right):
    bad = copy.deepcopy(right)
    burst = [u for u in bad.uploads if u.note.startswith("case 2")]
    bad.runs[1:3] = [run_stats(*burst[:2], status="quarantined"), run_stats(*burst[2:], status="quarantined")]
    bad.quarantined = [{"source_file": u.uri, "etag": u.etag, "reason": "unreadable"} for u in burst]
    bad.table = [row for row in bad.table if not row["_source_file"].startswith(BUCKET + "in/burst/")]
    result = statuses(bad)
    assert result["a burst of 4 files is at most 2 run(s), not 4"] == FAILED
    assert result["the table holds every accepted record of every uploaded version exactly once"] == FAILED
    waiting = [c for c in acceptance.check(bad) if "left waiting" in c.title][0]
    assert "4 quarantined" in waiting.detail  # reported as quarantined, not as taken


def test_the_reupload_case_checks_the_new_etags_rows_not_just_a_count(right):
    wrong = copy.deepcopy(right)
    changed = wrong.uploads[-1]
    wrong.table = [row for row in wrong.table if row["name"].split("-")[1] != "1" or row["id"] >= 100]
    wrong.runs[-1] = run_stats(changed)  # the job says it took it; its rows are not there
    assert statuses(wrong)["a changed re-upload is processed again, the earlier version's rows kept"] == FAILED


def test_a_version_left_waiting_is_counted_per_version(right):
    wrong = copy.deepcopy(right)
    changed = wrong.uploads[-1]
    wrong.table = [row for row in wrong.table if not (row["_source_file"] == changed.uri and row["id"] < 100
                                                      and row["name"].endswith(tuple(f"-1-{i}" for i in range(3))))]
    case = [c for c in acceptance.check(wrong) if "left waiting" in c.title][0]
    assert case.status == FAILED and "waiting: in/file-000.json" in case.detail


def test_messages_left_in_the_ledger_fail_the_waiting_case(right):
    wrong = copy.deepcopy(right)
    wrong.ledger_left = 1
    assert statuses(wrong)["no uploaded version is left waiting"] == FAILED


def test_too_many_burst_runs_fail(right):
    wrong = copy.deepcopy(right)
    burst = [u for u in wrong.uploads if u.note.startswith("case 2")]
    wrong.runs[1:3] = [run_stats(u) for u in burst]
    assert statuses(wrong)["a burst of 4 files is at most 2 run(s), not 4"] == FAILED


def test_a_table_that_cannot_be_read_fails_every_case_that_needs_it(right):
    wrong = copy.deepcopy(right)
    wrong.table, wrong.table_error = None, "[TABLE_OR_VIEW_NOT_FOUND] glue_catalog.db.orders"
    cases = {c.title.split(": ", 1)[1]: c for c in acceptance.check(wrong)}
    for title in ("a lone file is processed by the first run",
                  "the table holds every accepted record of every uploaded version exactly once",
                  "no uploaded version is left waiting"):
        assert cases[title].status == FAILED
        assert "TABLE_OR_VIEW_NOT_FOUND" in cases[title].detail


def test_a_failed_run_fails_its_case(right):
    wrong = copy.deepcopy(right)
    wrong.failures = ["run 2: ValueError: boom (log: /tmp/run-002.log)"]
    assert statuses(wrong)["every job run succeeded"] == FAILED


def test_nothing_to_check_is_never_ok():
    empty = Outcome(name="P", uploads=[], runs=[], failures=[], table=[])
    assert set(statuses(empty).values()) == {NOT_RUN}


def test_zero_rows_in_the_table_and_zero_claimed_is_not_exactly_once(right):
    """The old check compared the table's count with the job's own claims: 0 == 0 passed."""
    wrong = copy.deepcopy(right)
    wrong.table = []
    assert statuses(wrong)["the table holds every accepted record of every uploaded version exactly once"] == FAILED


def test_csv_records_are_read_with_the_header_and_bad_rows_left_out():
    up = Upload("in/c.csv", BUCKET + "in/c.csv", "e", b"id,name,amount\n1,Ann,10.50\n2,\"Broken, Row\"\n3,Cy,7\n")
    assert acceptance.records(up) == [{"id": "1", "name": "Ann", "amount": "10.50"},
                                      {"id": "3", "name": "Cy", "amount": "7"}]
    table_row = {"id": 1.0, "name": "Ann", "amount": 10.5, "_source_file": up.uri}
    assert acceptance.fingerprint(table_row, ["id", "name", "amount"]) == acceptance.fingerprint(
        acceptance.records(up)[0])


# --- the runner reports whatever failed ---------------------------------------------------

def test_a_table_that_cannot_be_read_is_reported_not_raised(monkeypatch, capsys):
    """An Iceberg pipeline whose runs all failed has no table: the runner says so and goes on."""
    from types import SimpleNamespace

    from cdk_event_driven_glue_workflow_tools import readback

    def missing(lp, holder):
        raise RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] The table or view `glue_catalog`.`db`.`orders` cannot be found.")

    monkeypatch.setattr(readback, "read_table", missing)
    lp = SimpleNamespace(args={"table_format": "ICEBERG", "database_name": "db", "table_name": "orders"},
                         pipeline=SimpleNamespace(name="Orders"))
    tables = readback.query([lp])
    rows, reason = tables["Orders"]
    assert rows is None and reason.startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert "Orders: table db.orders (ICEBERG) could not be read: [TABLE_OR_VIEW_NOT_FOUND]" in capsys.readouterr().out


def test_the_error_line_of_a_failed_run_is_its_exception():
    from cdk_event_driven_glue_workflow_tools.local_pipeline import error_line

    stderr = ("Ivy Default Cache set to: /x\n:: resolution report ::\nTraceback (most recent call last):\n"
              '  File "x.py", line 1\nbotocore.exceptions.ParamValidationError: Parameter validation failed\n'
              "INFO ShutdownHookManager: Shutdown hook called\n")
    assert error_line(stderr) == "botocore.exceptions.ParamValidationError: Parameter validation failed"
    assert error_line("") == "no output"


# --- a pipeline that transforms its rows is judged per ingestion ---------------------------

def cleaned(outcome, transform=lambda row: dict(row, name=row["name"].upper())):
    """The outcome of a pipeline whose job changed every value it wrote."""
    out = copy.deepcopy(outcome)
    out.cleaned = True
    out.table = [transform(row) for row in out.table]
    return out


def test_a_transformed_table_passes_when_each_version_is_one_ingestion(right):
    assert set(statuses(cleaned(right)).values()) == {OK}


def test_a_transformed_version_ingested_twice_fails(right):
    twice = cleaned(right)
    twice.table += [dict(row, _ingested_at="t2") for row in twice.table
                    if row["_source_file"].endswith("in/burst/1.json")]
    assert statuses(twice)["every uploaded version is ingested exactly once (transformed: one ingestion per version)"] \
        == FAILED


def test_a_transformed_reupload_with_one_ingestion_fails(right):
    once = cleaned(right)
    changed = once.uploads[-1]
    once.table = [row for row in once.table if not (row["_source_file"] == changed.uri and row["id"] >= 10
                                                    and row["id"] < 100)]
    result = statuses(once)
    assert result["a changed re-upload is processed again, the earlier version's rows kept"] == FAILED
    assert result["every uploaded version is ingested exactly once (transformed: one ingestion per version)"] == FAILED


def test_a_version_the_cleaning_filtered_away_entirely_is_taken_not_waiting(right):
    out = cleaned(right)
    gone = out.uploads[1]  # a burst file: every row filtered by the transform
    out.table = [row for row in out.table if row["_source_file"] != gone.uri]
    for run in out.runs:
        for f in run["files"]:
            if (f["key"], f["etag"]) == (gone.key, gone.etag):
                f.update(rows_in=3, rows_out=0, rows_filtered=3, rows_rejected=0)
    result = statuses(out)
    assert result["no uploaded version is left waiting"] == OK
    assert result["every uploaded version is ingested exactly once (transformed: one ingestion per version)"] == OK
    out.ledger_left = 1
    assert statuses(out)["no uploaded version is left waiting"] == FAILED

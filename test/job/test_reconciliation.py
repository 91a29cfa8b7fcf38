"""The reconciliation can fail: what a round wrote is counted from the files it wrote.

``rows_written`` comes from the staged Parquet files' footers (and, for Iceberg, the
snapshot's ``added-records``), never from ``rows_in - rows_rejected``. A fault hook drops one
accepted row between read and write (``--drop_row_at before_write``): the round fails,
nothing is committed, the messages are released, and a clean rerun writes every row once.
"""
import pytest

from job_helpers import eb_event, jsonl, queue_depth, run_job, send
from glue_ingest.commit import ReconciliationError

BOTH_FORMATS = pytest.mark.parametrize("table_format", ["PARQUET", "ICEBERG"], indirect=True)


def _ledger_args(lake, aws, **extra):
    catalog = {} if lake.iceberg else {"catalog_update": "true", "database_name": "lakedb", "table_name": "events"}
    return lake.args(ledger_queue_url=aws["queue_url"], visibility_timeout_seconds="30", **catalog, **extra)


@BOTH_FORMATS
@pytest.mark.parametrize("shape", ["clean JSON (the fast path)", "CSV with a bad row (the checked path)"])
def test_a_row_lost_between_read_and_write_fails_the_round_and_commits_nothing(spark, lake, aws, table_format, shape):
    if shape.startswith("clean"):
        obj = lake.put("in/a.jsonl", jsonl([{"id": i} for i in range(5)]))
    else:
        obj = lake.put("in/a.csv", "id,name\n0,a\n1,b\n2\n3,d\n4,e\n")
    send(aws, eb_event(obj))
    with pytest.raises(ReconciliationError, match=r"wrote \d rows, read 5, rejected \d and filtered 0 \(\d expected\); "
                                                  r"nothing is committed"):
        run_job(spark, _ledger_args(lake, aws, drop_row_at="before_write"), clients={"glue": aws["glue"]})
    assert lake.output_files() == [] and lake.keys(lake.state + "committed/") == []
    assert lake.keys(lake.state + "pending/") == []
    assert queue_depth(aws) == (1, 0)  # released at once, not left to its lease
    stats = run_job(spark, _ledger_args(lake, aws), clients={"glue": aws["glue"]})
    expected = 5 if shape.startswith("clean") else 4
    assert stats["rows_written"] == stats["rows_out"] == expected
    assert sorted(r["id"] for r in lake.output_rows()) == sorted(
        i for i in range(5) if shape.startswith("clean") or i != 2)


def test_the_known_schema_path_is_reconciled_too(spark, lake, aws):
    """The table exists, so JSON Lines are read against its types in one pass."""
    first = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    send(aws, eb_event(first, "e-1"))
    run_job(spark, _ledger_args(lake, aws), clients={"glue": aws["glue"]})
    second = lake.put("in/b.jsonl", jsonl([{"id": i} for i in range(2, 6)]))
    send(aws, eb_event(second, "e-2"))
    with pytest.raises(ReconciliationError, match=r"wrote 3 rows, read 4, rejected 0 and filtered 0 \(4 expected\)"):
        run_job(spark, _ledger_args(lake, aws, drop_row_at="before_write"), clients={"glue": aws["glue"]})
    assert sorted(r["id"] for r in lake.output_rows()) == [1]


def test_rows_written_is_reported_in_the_stats(spark, lake, aws):
    obj = lake.put("in/a.jsonl", '{"id": 1}\n{oops\n{"id": 2}\n')
    send(aws, eb_event(obj))
    stats = run_job(spark, _ledger_args(lake, aws), clients={"glue": aws["glue"]})
    assert (stats["rows_in"], stats["rows_rejected"], stats["rows_written"]) == (3, 1, 2)
    assert [doc["rows_written"] for doc in lake.stats_files()] == [2]


def test_an_unknown_row_point_is_refused():
    from glue_ingest.faults import Faults

    with pytest.raises(ValueError, match="--drop_row_at must be one of before_write, got: after_read"):
        Faults(drop_row_at="after_read")

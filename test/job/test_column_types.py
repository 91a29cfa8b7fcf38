"""Types you can rely on: declared column types, and inference that does not lock a column.

* The issue's case: a first CSV batch of whole amounts, then a file with ``75.25``. CSV
  whole-number columns are inferred as double, so nothing conflicts.
* A table that has a bigint column (a JSON batch, or a declaration) takes a later file's
  whole numbers row by row and rejects only the fractional values, each with its reason.
* ``--column_types`` casts named columns row by row; a value that does not cast is one
  rejected row with its reason, never a rejected file.
"""
import json

import pytest

from job_helpers import jsonl, run_job


def _run(spark, lake, aws, *objs, **extra):
    args = lake.args(input_files=",".join(o["uri"] for o in objs), catalog_update="true",
                     database_name="lakedb", table_name="events", **extra)
    return run_job(spark, args, clients={"glue": aws["glue"]})


def _columns(aws):
    table = aws["glue"].get_table(DatabaseName="lakedb", Name="events")["Table"]
    return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def _status(stats):
    return {f["key"]: (f["status"], f["rows_in"], f["rows_out"], f["rows_rejected"]) for f in stats["files"]}


def test_whole_csv_amounts_first_do_not_lock_the_column_against_a_later_decimal(spark, lake, aws):
    first = lake.put("in/customers-1.csv", "customer,amount\nann,75\nbob,120\n")
    _run(spark, lake, aws, first)
    assert _columns(aws)["amount"] == "double"
    second = lake.put("in/customers-2.csv", "customer,amount\ncy,75.25\ndi,3\n")
    stats = _run(spark, lake, aws, second)
    assert _status(stats) == {"in/customers-2.csv": ("ok", 2, 2, 0)}
    assert sorted((r["customer"], r["amount"]) for r in lake.output_rows()) == [
        ("ann", 75.0), ("bob", 120.0), ("cy", 75.25), ("di", 3.0)]


def test_a_bigint_column_takes_whole_numbers_and_rejects_only_fractional_rows(spark, lake, aws):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "qty": 5}])))
    assert _columns(aws)["qty"] == "bigint"
    obj = lake.put("in/b.csv", "id,qty\n2,7\n3,7.5\n4,\n")
    stats = _run(spark, lake, aws, obj)
    assert _status(stats) == {"in/b.csv": ("ok", 3, 2, 1)}
    rejected = lake.rejected_records()
    assert [(r["reason"], json.loads(r["raw_record"])) for r in rejected] == [
        ("type conflict on column qty: table has bigint, file has double", {"id": 3.0, "qty": 7.5})]
    assert sorted((r["id"], r["qty"]) for r in lake.output_rows()) == [(1, 5), (2, 7), (4, None)]


def test_declared_csv_types_are_cast_row_by_row(spark, lake, aws):
    obj = lake.put("in/orders.csv", "order_id,zip,amount,day\n"
                                    "1,007,10.5,2026-12-01\n"
                                    "2,123,abc,2026-12-02\n"
                                    "3,042,7,2026-13-01\n"
                                    "4.5,1,1,2026-12-04\n")
    stats = _run(spark, lake, aws, obj, column_types=json.dumps(
        {"order_id": "bigint", "zip": "string", "Amount": "decimal(12,2)", "day": "date"}))
    assert _status(stats) == {"in/orders.csv": ("ok", 4, 1, 3)}
    assert {k: v for k, v in _columns(aws).items() if not k.startswith("_")} == {
        "order_id": "bigint", "zip": "string", "amount": "decimal(12,2)", "day": "date"}
    assert sorted(r["reason"] for r in lake.rejected_records()) == [
        "column amount: value abc is not a decimal(12,2)",
        "column day: value 2026-13-01 is not a date",
        "column order_id: value 4.5 is not a bigint"]
    [row] = lake.output_rows()
    assert (row["order_id"], row["zip"], str(row["amount"]), str(row["day"])) == (1, "007", "10.50", "2026-12-01")


@pytest.mark.parametrize("table_format", ["PARQUET", "ICEBERG"], indirect=True)
def test_declared_json_types_hold_in_the_first_and_the_steady_state_read(spark, lake, aws, table_format):
    catalog = {} if lake.iceberg else {"catalog_update": "true", "database_name": "lakedb", "table_name": "events"}
    declared = json.dumps({"amount": "decimal(10,2)", "id": "bigint"})
    first = lake.put("in/a.jsonl", jsonl([{"id": 1, "amount": 3}, {"id": 2, "amount": "n/a"}]))
    run_job(spark, lake.args(input_files=first["uri"], column_types=declared, **catalog),
            clients={"glue": aws["glue"]})
    second = lake.put("in/b.jsonl", jsonl([{"id": 3, "amount": 4.256}, {"id": 4, "amount": "x"}]))
    stats = run_job(spark, lake.args(input_files=second["uri"], column_types=declared, **catalog),
                    clients={"glue": aws["glue"]})
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (2, 1, 1)
    assert sorted((r["id"], str(r["amount"])) for r in lake.output_rows()) == [(1, "3.00"), (3, "4.26")]
    assert len(lake.rejected_records()) == 2


def test_a_bad_declaration_stops_the_run_with_the_reason(spark, lake):
    obj = lake.put("in/a.jsonl", jsonl([{"id": 1}]))
    with pytest.raises(ValueError, match=r"--column_types type of 'id' must be boolean, tinyint, .* got: 'money'"):
        run_job(spark, lake.args(input_files=obj["uri"], column_types=json.dumps({"id": "money"})))

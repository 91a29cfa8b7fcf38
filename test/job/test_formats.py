"""Input formats: each is converted row by row into the Parquet table."""
import json

import pytest

from job_helpers import gz, jsonl, run_job

ROWS = [{"id": 1, "name": "Ann", "amount": 12.5}, {"id": 2, "name": "Bob", "amount": 7.25}]
CSV_TEXT = '\ufeffid,name,note\n1,"Doe, Jane","line one\nline two"\n2,Bob,"said ""hi"""\n'


# Every format test runs against both table formats: the rows read back are the same.
pytestmark = pytest.mark.parametrize("table_format", ["PARQUET", "ICEBERG"], indirect=True)


def _replay(spark, lake, *objs, **extra):
    return run_job(spark, lake.args(input_files=",".join(o["uri"] for o in objs), **extra))


def _by_id(rows):
    return {r["id"]: r for r in rows}


def test_jsonl_rows_are_converted_value_by_value(spark, lake):
    obj = lake.put("incoming/a.jsonl", jsonl(ROWS))
    _replay(spark, lake, obj)
    rows = _by_id(lake.output_rows())
    assert set(rows) == {1, 2}
    assert rows[1]["name"] == "Ann" and rows[1]["amount"] == 12.5
    assert rows[2]["name"] == "Bob" and rows[2]["amount"] == 7.25
    assert rows[1]["_source_file"] == obj["uri"]


def test_json_array_file_is_exploded_into_rows(spark, lake):
    obj = lake.put("incoming/arr.json", json.dumps(ROWS, indent=2))
    _replay(spark, lake, obj)
    rows = _by_id(lake.output_rows())
    assert rows[1]["name"] == "Ann" and rows[2]["amount"] == 7.25
    assert len(rows) == 2


def test_csv_quotes_embedded_newlines_and_bom(spark, lake):
    obj = lake.put("incoming/people.csv", CSV_TEXT)
    _replay(spark, lake, obj)
    rows = _by_id(lake.output_rows())
    assert set(rows[1]) >= {"id", "name", "note"}
    assert rows[1]["name"] == "Doe, Jane"
    assert rows[1]["note"] == "line one\nline two"
    assert rows[2]["note"] == 'said "hi"'


def test_gzip_of_each_format(spark, lake):
    a = lake.put("incoming/a.jsonl.gz", gz(jsonl(ROWS[:1])))
    b = lake.put("incoming/b.json.gz", gz(json.dumps(ROWS[1:])))
    c = lake.put("incoming/c.csv.gz", gz("id,name\n3,Cy\n"))
    stats = _replay(spark, lake, a, b, c)
    rows = _by_id(lake.output_rows())
    assert {k: v["name"] for k, v in rows.items()} == {1: "Ann", 2: "Bob", 3: "Cy"}
    assert rows[3]["_source_file"] == c["uri"]
    assert stats["rows_in"] == 3


def test_mixed_schemas_are_unioned_by_name(spark, lake):
    a = lake.put("incoming/a.jsonl", jsonl([{"id": 1, "color": "red"}]))
    b = lake.put("incoming/b.jsonl", jsonl([{"id": 2, "size": 40}]))
    c = lake.put("incoming/c.csv", "id,shape\n3,round\n")
    _replay(spark, lake, a, b, c)
    rows = _by_id(lake.output_rows())
    assert (rows[1]["color"], rows[1]["size"], rows[1]["shape"]) == ("red", None, None)
    assert (rows[2]["color"], rows[2]["size"], rows[2]["shape"]) == (None, 40, None)
    assert (rows[3]["color"], rows[3]["size"], rows[3]["shape"]) == (None, None, "round")

"""CSV options (delimiter, quote, escape, header, encoding) on real files."""
import pytest

from glue_ingest.args import Config
from job_helpers import run_job


def _replay(spark, lake, *objs, **extra):
    return run_job(spark, lake.args(input_files=",".join(o["uri"] for o in objs), **extra))


def _by_id(lake):
    return {r["id"]: r for r in lake.output_rows()}


def test_semicolon_delimited_file(spark, lake):
    obj = lake.put("in/eu.csv", "id;name;amount\n1;Ann;12,5\n2;\"Bo;b\";7\n")
    stats = _replay(spark, lake, obj, csv_delimiter=";")
    rows = _by_id(lake)
    assert (rows[1]["name"], rows[1]["amount"], rows[2]["name"]) == ("Ann", "12,5", "Bo;b")
    assert stats["rows_rejected"] == 0


def test_tab_delimited_file(spark, lake):
    obj = lake.put("in/t.csv", "id\tcity\n1\tNew York\n2\tOslo\n")
    _replay(spark, lake, obj, csv_delimiter="\t")
    assert {r["id"]: r["city"] for r in lake.output_rows()} == {1: "New York", 2: "Oslo"}


def test_tab_can_be_given_as_backslash_t():
    cfg = Config({"input_files": "a.csv", "output_path": "o", "rejected_path": "r", "stats_path": "s",
                  "state_path": "t", "catalog_update": "false", "csv_delimiter": "\\t"})
    assert cfg.csv["delimiter"] == "\t"


def test_latin1_file(spark, lake):
    obj = lake.put("in/l1.csv", "id,name\n1,Zoë\n2,Ålesund\n".encode("latin-1"))
    stats = _replay(spark, lake, obj, csv_encoding="ISO-8859-1")
    assert {r["id"]: r["name"] for r in lake.output_rows()} == {1: "Zoë", 2: "Ålesund"}
    assert stats["files"][0]["status"] == "ok"


def test_latin1_file_read_as_utf8_is_quarantined_with_its_reason(spark, lake):
    obj = lake.put("in/l1.csv", "id,name\n1,Zoë\n".encode("latin-1"))
    stats = _replay(spark, lake, obj)
    assert stats["files"][0]["status"] == "quarantined"
    assert stats["files"][0]["reason"] == (
        "not UTF-8 text: invalid byte at offset 12 (for CSV in another encoding, set the CSV encoding option)")


def test_file_without_a_header_gets_positional_column_names(spark, lake):
    obj = lake.put("in/nh.csv", "1,Ann\n2,Bob\n")
    stats = _replay(spark, lake, obj, csv_header="false")
    assert sorted((r["_c0"], r["_c1"]) for r in lake.output_rows()) == [(1, "Ann"), (2, "Bob")]
    assert stats["rows_in"] == 2


def test_custom_quote_and_escape(spark, lake):
    obj = lake.put("in/q.csv", "id,text\n1,'it\\'s, fine'\n")
    _replay(spark, lake, obj, csv_quote="'", csv_escape="\\")
    assert _by_id(lake)[1]["text"] == "it's, fine"


def test_header_only_file_is_ok_with_no_rows(spark, lake):
    obj = lake.put("in/h.csv", "id,name\n")
    stats = _replay(spark, lake, obj)
    assert (stats["files"][0]["status"], stats["files"][0]["reason"], stats["rows_in"]) == (
        "ok", "header only, no rows", 0)


@pytest.mark.parametrize("name,value,message", [
    ("csv_delimiter", ";;", "--csv_delimiter must be exactly one character, got: ';;'"),
    ("csv_encoding", "klingon", "--csv_encoding must be a known encoding, got: klingon"),
])
def test_bad_csv_options_are_refused(name, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Config({"input_files": "a.csv", "output_path": "o", "rejected_path": "r", "stats_path": "s",
                "state_path": "t", "catalog_update": "false", name: value})

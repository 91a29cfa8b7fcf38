"""Bad input: rejected rows, quarantined files, empty files, the stats invariant."""
import json
import os
import random

from job_helpers import gz, jsonl, run_job


def _replay(spark, lake, *objs, **extra):
    return run_job(spark, lake.args(input_files=",".join(o["uri"] for o in objs), **extra))


def _status(stats, obj):
    return next(f for f in stats["files"] if f["uri"] == obj["uri"])


def _reason_file(lake, stats, obj):
    uri = "%squarantine/%s/%s/%s" % (lake.rejected, stats["run_id"], obj["bucket"], obj["key"])
    return uri, json.loads(lake.read(uri + ".reason.json"))


def test_malformed_json_lines_are_rejected_with_source_position_reason(spark, lake):
    obj = lake.put("in/mixed.jsonl", '{"id": 1}\n{"id": 2,\n\n{"id": 3}\nnot json\n')
    stats = _replay(spark, lake, obj)
    rejected = lake.rejected_records()
    assert [(r["source_file"], r["position"], r["reason"], r["raw_record"]) for r in rejected] == [
        (obj["uri"], 2, "malformed JSON record", '{"id": 2,'),
        (obj["uri"], 5, "malformed JSON record", "not json"),
    ]
    assert sorted(r["id"] for r in lake.output_rows()) == [1, 3]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (4, 2, 2)


def test_bad_csv_rows_with_wrong_field_count_are_rejected(spark, lake):
    obj = lake.put("in/rows.csv", "id,name,city\n1,Ann,Oslo\n2,Bob\n3,Cy,Rome,extra\n4,Di,Bern\n")
    stats = _replay(spark, lake, obj)
    rejected = lake.rejected_records()
    assert [(r["position"], r["reason"], r["raw_record"]) for r in rejected] == [
        (3, "malformed CSV row", "2,Bob"),
        (4, "malformed CSV row", "3,Cy,Rome,extra"),
    ]
    assert all(r["source_file"] == obj["uri"] for r in rejected)
    assert sorted((r["id"], r["city"]) for r in lake.output_rows()) == [(1, "Oslo"), (4, "Bern")]
    assert _status(stats, obj)["rows_rejected"] == 2


def test_corrupt_gzip_is_quarantined_whole_with_reason(spark, lake):
    good = lake.put("in/good.jsonl", jsonl([{"id": 1}]))
    bad = lake.put("in/bad.jsonl.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 200)
    stats = _replay(spark, lake, good, bad)
    copy, reason = _reason_file(lake, stats, bad)
    assert reason["reason"].startswith("corrupt gzip")
    assert reason["source_file"] == bad["uri"]
    assert lake.read(copy) == lake.read(bad["uri"])
    assert _status(stats, bad)["status"] == "quarantined"
    assert [r["id"] for r in lake.output_rows()] == [1]


def test_truncated_gzip_is_quarantined(spark, lake):
    data = gz(jsonl([{"id": i} for i in range(50)]))
    bad = lake.put("in/cut.json.gz", data[: len(data) // 2])
    stats = _replay(spark, lake, bad)
    _, reason = _reason_file(lake, stats, bad)
    assert reason["reason"] == "corrupt gzip: truncated stream"
    assert lake.output_rows() == []


def test_gzip_corrupt_beyond_the_probe_is_isolated_by_spark_and_quarantined(spark, lake):
    rnd = random.Random(7)
    text = jsonl([{"id": i, "blob": "%032x" % rnd.getrandbits(128)} for i in range(10000)])
    data = gz(text)
    assert len(data) > 150 * 1024
    bad = lake.put("in/late.jsonl.gz", data[: len(data) - 50 * 1024])
    good = lake.put("in/fine.jsonl", jsonl([{"id": -1, "blob": "ok"}]))
    stats = _replay(spark, lake, bad, good)
    _, reason = _reason_file(lake, stats, bad)
    assert reason["reason"].startswith("unreadable file:")
    assert _status(stats, good)["status"] == "ok"
    assert [r["id"] for r in lake.output_rows()] == [-1]


def test_binary_file_with_nul_bytes_is_quarantined(spark, lake):
    bad = lake.put("in/image.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64))
    stats = _replay(spark, lake, bad)
    _, reason = _reason_file(lake, stats, bad)
    assert reason["reason"] == "binary content: NUL byte at offset 8"
    assert _status(stats, bad)["status"] == "quarantined"


def test_non_utf8_text_is_quarantined(spark, lake):
    bad = lake.put("in/latin1.csv", "id,name\n1,Jos\xe9\n".encode("latin-1"))
    stats = _replay(spark, lake, bad)
    _, reason = _reason_file(lake, stats, bad)
    assert reason["reason"] == ("not UTF-8 text: invalid byte at offset 13"
                                " (for CSV in another encoding, set the CSV encoding option)")


def test_empty_files_yield_zero_rows_and_are_counted(spark, lake):
    empty = lake.put("in/empty.json", b"")
    empty_gz = lake.put("in/empty.csv.gz", gz(""))
    one = lake.put("in/one.jsonl", jsonl([{"id": 1}]))
    stats = _replay(spark, lake, empty, empty_gz, one)
    assert [(_status(stats, o)["status"], _status(stats, o)["rows_in"]) for o in (empty, empty_gz)] == [
        ("ok", 0), ("ok", 0)]
    assert stats["files_processed"] == 3
    assert [r["id"] for r in lake.output_rows()] == [1]


def test_stats_invariant_rows_out_plus_rejected_equals_rows_in(spark, lake):
    a = lake.put("in/a.jsonl", '{"id": 1}\n{oops\n{"id": 2}\n')
    b = lake.put("in/b.csv", "id,name\n1,x\n2\n3,z\n")
    stats = _replay(spark, lake, a, b)
    assert stats["rows_out"] + stats["rows_rejected"] == stats["rows_in"] == 6
    for f in stats["files"]:
        assert f["rows_out"] + f["rows_rejected"] == f["rows_in"]
    assert len(lake.output_rows()) == stats["rows_out"] == 4
    assert len(lake.rejected_records()) == stats["rows_rejected"] == 2


# --- legal files Spark cannot read as they are ------------------------------------------

def test_a_csv_header_that_repeats_a_name_is_read_with_distinct_names(spark, lake):
    """``id,name,Name,name``: the second and third take their occurrence number, case-insensitively."""
    good = lake.put("in/good.csv", "id,name\n1,a\n")
    dup = lake.put("in/dup.csv", "id,name,Name,name\n2,b,c,d\n3,e,f,g\n")
    stats = _replay(spark, lake, good, dup)
    assert {f["key"]: f["status"] for f in stats["files"]} == {"in/good.csv": "ok", "in/dup.csv": "ok"}
    rows = sorted(lake.output_rows(), key=lambda r: r["id"])
    assert [(r["id"], r["name"], r.get("Name_2") or r.get("name_2"), r.get("name_3")) for r in rows] == [
        (1, "a", None, None), (2, "b", "c", "d"), (3, "e", "f", "g")]


def test_distinct_names_skip_a_name_the_header_already_has():
    from glue_ingest.transforms import distinct_names

    assert distinct_names(["a", "a", "a_2", "A"]) == ["a", "a_3", "a_2", "A_4"]


def test_json_keys_that_differ_only_in_case_quarantine_the_file_at_once(spark, lake):
    good = lake.put("in/good.jsonl", jsonl([{"id": 1}]))
    cased = lake.put("in/cased.jsonl", '{"id": 1, "Id": 2}\n{"id": 3, "Id": 4}\n')
    stats = _replay(spark, lake, good, cased)
    assert _status(stats, cased)["status"] == "quarantined"
    _, reason = _reason_file(lake, stats, cased)
    assert reason["reason"] == ("keys that differ only in letter case: `id`; a table's column names are "
                                "case-insensitive, so rename one of them")
    assert [r["id"] for r in lake.output_rows()] == [1]

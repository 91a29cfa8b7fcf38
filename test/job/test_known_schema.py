"""The steady state: JSON Lines against an existing table.

The lines are parsed with the table's schema, and every line is checked for keys the
table lacks, so a column that first shows up deep in a file is never dropped. The check
runs through the job's JVM helper (``JsonKeys``, shipped on ``--extra-jars``) or, when
the classpath lacks it, through Spark's JSON functions; every behaviour test runs both.
"""
import json

import pytest
from glue_ingest import known_schema
from glue_ingest import probe as probes
from glue_ingest import read as read_phase
from glue_ingest import transforms as pt
from glue_ingest.schema import added_nested_fields, hive_to_spark, widens_nested
from job_helpers import jsonl, run_job
from pyspark.sql import types as T


@pytest.fixture(params=["jvm-helper", "spark-json-functions"])
def key_check(request, spark, monkeypatch):
    """Which key check the job uses: the JVM helper, or the fallback without it."""
    if request.param == "spark-json-functions":
        monkeypatch.setattr(known_schema, "JVM_KEY_CHECK", "io.github.cdk_event_driven_glue_workflow.ingest.Missing")
    assert read_phase.jvm_key_check(spark) is (request.param == "jvm-helper")
    return request.param


def _run(spark, lake, aws, *objs):
    args = lake.args(input_files=",".join(o["uri"] for o in objs), catalog_update="true",
                     database_name="lakedb", table_name="events")
    return run_job(spark, args, clients={"glue": aws["glue"]})


def _columns(aws):
    table = aws["glue"].get_table(DatabaseName="lakedb", Name="events")["Table"]
    return dict((c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"])


def _long_file(rows, tail):
    """More than the probe's sample of ordinary rows, then ``tail``."""
    text = jsonl(rows) + jsonl(tail)
    assert len(jsonl(rows).encode()) > probes.PEEK_BYTES + 1024
    return text


def _filler(n, **extra):
    return [dict({"id": i, "name": "row %05d %s" % (i, "x" * 40)}, **extra) for i in range(n)]


def test_the_steady_state_parses_with_the_table_schema_in_one_pass(spark, lake, aws, key_check, capsys):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a"}])))
    capsys.readouterr()
    stats = _run(spark, lake, aws, lake.put("in/b.jsonl", _long_file(_filler(1500), [{"id": 7, "name": "z"}])))
    assert stats["read_path"] == "known-schema"
    assert "keys the table lacks" not in capsys.readouterr().out
    assert (stats["rows_in"], stats["rows_out"]) == (1501, 1501)


def test_a_column_first_seen_beyond_the_sampled_bytes_is_added(spark, lake, aws, key_check, capsys):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a"}])))
    late = lake.put("in/b.jsonl", _long_file(_filler(1500), [{"id": 9999, "name": "late", "color": "red"}]))
    capsys.readouterr()
    stats = _run(spark, lake, aws, late)
    assert "keys the table lacks (.color)" in capsys.readouterr().out
    assert _columns(aws)["color"] == "string"
    rows = {r["id"]: r for r in lake.output_rows()}
    assert rows[9999]["color"] == "red"
    assert rows[0]["color"] is None
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (1501, 1501, 0)


def test_a_nested_key_first_seen_beyond_the_sampled_bytes_widens_the_struct(spark, lake, aws, key_check, capsys):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": -1, "name": "a", "dims": {"w": 1}}])))
    late = lake.put("in/b.jsonl", _long_file(_filler(1500, dims={"w": 2}),
                                             [{"id": 9999, "name": "late", "dims": {"w": 3, "depth": 4}}]))
    capsys.readouterr()
    stats = _run(spark, lake, aws, late)
    assert "keys the table lacks (.dims.depth)" in capsys.readouterr().out
    assert _columns(aws)["dims"] == "struct<w:bigint,depth:bigint>"
    rows = {r["id"]: r for r in lake.output_rows()}
    assert rows[9999]["dims"] == {"w": 3, "depth": 4}
    assert rows[0]["dims"] == {"w": 2, "depth": None}
    assert rows[-1]["dims"] == {"w": 1, "depth": None}    # the first run's file, written before
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (1501, 1501, 0)


def test_without_the_catalog_the_state_schema_widens_the_struct_too(spark, lake, key_check):
    run_job(spark, lake.args(input_files=lake.put("in/a.jsonl", jsonl([{"id": 1, "items": [{"sku": "a"}]}]))["uri"]))
    late = lake.put("in/b.jsonl", jsonl([{"id": 2, "items": [{"sku": "b", "qty": 2}]}]))
    stats = run_job(spark, lake.args(input_files=late["uri"]))
    assert stats["rows_out"] == 1
    assert {r["id"]: r["items"] for r in lake.output_rows()}[2] == [{"sku": "b", "qty": 2}]
    third = run_job(spark, lake.args(input_files=lake.put("in/c.jsonl", jsonl([{"id": 3, "items": [{"sku": "c"}]}]))["uri"]))
    assert third["read_path"] == "known-schema"           # the widened struct is the table's now


@pytest.mark.parametrize("table_format", ["ICEBERG"], indirect=True)
def test_an_iceberg_table_gains_the_nested_field_by_its_path(spark, lake, key_check):
    run_job(spark, lake.args(input_files=lake.put("in/a.jsonl", jsonl([{"id": 1, "dims": {"w": 1}}]))["uri"]))
    late = lake.put("in/b.jsonl", _long_file(_filler(1500, dims={"w": 2}), [{"id": 9999, "dims": {"w": 3, "depth": 4}}]))
    stats = run_job(spark, lake.args(input_files=late["uri"]))
    assert stats["rows_out"] == 1501
    dims = spark.table(lake.table_ident).schema["dims"].dataType
    assert [f.name for f in dims.fields] == ["w", "depth"]
    [row] = spark.table(lake.table_ident).where("id = 9999").collect()
    assert row["dims"].asDict() == {"w": 3, "depth": 4}


def test_a_type_conflict_beyond_the_sampled_bytes_is_rejected_with_its_reason(spark, lake, aws, key_check):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a", "qty": 5}])))
    late = lake.put("in/b.jsonl", _long_file(_filler(1500, qty=1), [{"id": 9999, "name": "late", "qty": "many"}]))
    stats = _run(spark, lake, aws, late)
    assert stats["read_path"] == "known-schema"
    [rejected] = lake.rejected_records()
    assert rejected["reason"] == "type conflict on column qty: table has bigint, file has string"
    assert rejected["position"] == 1501
    assert json.loads(rejected["raw_record"])["id"] == 9999
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (1501, 1500, 1)


# ------------------------------------------------------------------ the JVM helper itself

SCHEMA = T.StructType([
    T.StructField("a", T.LongType()),
    T.StructField("dims", T.StructType([T.StructField("w", T.LongType())])),
    T.StructField("items", T.ArrayType(T.StructType([T.StructField("sku", T.StringType())]))),
    T.StructField("m", T.MapType(T.StringType(), T.StringType())),
    T.StructField("café", T.StringType()),
    T.StructField("𝔘nit", T.StringType()),
])


@pytest.mark.parametrize("old,new,expected", [
    ("struct<w:bigint>", "struct<w:bigint,depth:bigint>", [(("c", "depth"), "bigint")]),
    ("array<struct<sku:string>>", "array<struct<sku:string,qty:bigint>>", [(("c", "element", "qty"), "bigint")]),
    ("struct<a:struct<b:bigint>>", "struct<a:struct<b:bigint,c:string>,d:double>",
     [(("c", "a", "c"), "string"), (("c", "d"), "double")]),
    ("struct<w:bigint>", "struct<w:bigint>", []),
    ("struct<w:bigint>", "struct<w:string>", None),         # a type change is not an addition
    ("struct<w:bigint,h:bigint>", "struct<h:bigint,w:bigint>", None),
    ("struct<w:bigint,h:bigint>", "struct<w:bigint>", None),
])
def test_added_nested_fields_are_additions_only(old, new, expected):
    found = added_nested_fields(hive_to_spark(old), hive_to_spark(new), ("c",))
    assert (None if found is None else [(path, t.simpleString()) for path, t in found]) == expected
    assert widens_nested(old, new) is bool(expected)


def test_the_key_spec_counts_utf16_units_and_nests_structs_and_arrays_of_structs():
    assert known_schema.key_spec(SCHEMA) == "1:a4:dims{1:w}5:items{3:sku}1:m4:café5:𝔘nit"
    deep = T.StructType([T.StructField("x", T.ArrayType(T.ArrayType(T.StructType([T.StructField("y", T.LongType())]))))])
    assert known_schema.key_spec(deep) == "1:x{1:y}"


@pytest.mark.parametrize("line,expected", [
    ('{"a": 1}', ""),
    ('{"a": 1, "b": 2}', ".b"),
    ('{"dims": {"w": 1, "h": 2}}', ".dims.h"),
    ('{"items": [{"sku": "x"}, {"sku": "y", "qty": 1}]}', ".items[].qty"),
    ('{"items": [[{"zz": 1}]]}', ".items[][].zz"),
    ('{"dims": [{"w": 1}, {"v": 2}]}', ".dims[].v"),
    ('{"m": {"any": {"deep": 1}}}', ""),                  # a map's keys are data
    ('{"a": {"x": 1}}', ""),                              # inside a scalar column: not looked into
    ('{"caf\\u00e9": "x", "\\ud835\\udd18nit": "y"}', ""),  # escaped keys are compared decoded
    ('{"café": "x", "𝔘nit": "y"}', ""),
    ('{"a": "text with \\"b\\": 1 inside"}', ""),         # a quoted colon is not a key
    ('{"q\\"": 1}', '.q"'),
    ('{"a": "x\\"y", "b": 1}', ".b"),                  # an escaped quote inside a value
    ('{"a": "ends with \\\\", "new": 1}', ".new"),    # an escaped backslash before the quote
    ('{"a": "\\u0022", "dims": {"w": 1, "x\\ty": 2}}', ".dims.x\ty"),
    ('{"": 1}', "."),                                     # the empty key still has a path
    ('{"a" :\t1 ,\n "new" : 2}', ".new"),                 # whitespace JSON allows
    ('[{"a": 1}, {"z": 1}]', ".z"),
    ('not json', ""),                                     # the parse flags these as corrupt
    ('{"a": 1', ""),
    ('{"a": "unterminated', ""),
    ('{"a\\q": 1}', ""),                                  # a bad escape: not JSON
])
def test_the_jvm_helper_finds_the_first_key_the_schema_lacks(spark, line, expected):
    helper = spark.sparkContext._jvm.io.github.cdk_event_driven_glue_workflow.ingest.JsonKeys
    assert helper.firstUnknownKey(known_schema.key_spec(SCHEMA), line) == expected


def test_the_jvm_helper_and_the_spark_functions_agree_on_every_line(spark):
    assert read_phase.jvm_key_check(spark)
    lines = ['{"a": 1}', '{"a": 1, "b": 2}', '{"dims": {"w": 1, "h": 2}}', '{"items": [{"sku": "x", "qty": 1}]}',
             '{"m": {"k": 1}}', '{"café": "x"}', None]
    df = spark.createDataFrame([(line,) for line in lines], "value string")
    jvm = [r["__unknown"] for r in known_schema.with_unknown_keys(df, SCHEMA, True)[0].collect()]
    fallback = [r["__unknown"] for r in known_schema.with_unknown_keys(df, SCHEMA, False)[0].collect()]
    assert jvm == ["", ".b", ".dims.h", ".items[].qty", "", "", ""]
    assert [found[0] if found else "" for found in fallback] == jvm


def test_without_the_helper_on_the_classpath_the_job_says_so_and_falls_back(spark, monkeypatch, capsys):
    monkeypatch.setattr(known_schema, "JVM_KEY_CHECK", "io.github.cdk_event_driven_glue_workflow.ingest.Missing")
    assert read_phase.jvm_key_check(spark) is False
    assert "is not on the classpath" in capsys.readouterr().out
    monkeypatch.undo()
    assert read_phase.jvm_key_check(spark) is True


# ------------------------------------------------------------------ driver-side helpers of the one pass

def test_rows_find_their_input_by_name_or_by_the_decoded_name(spark, tmp_path):
    from pyspark.sql import functions as F

    paths = []
    for name in ("a.json", "b c.json", "d+e.json"):
        (tmp_path / name).write_text('{"x": 1}\n{"x": 2}\n')
        paths.append(str(tmp_path / name))
    df = spark.read.text([read_phase.glob_escape(p) for p in paths])
    got = sorted(r["i"] for r in df.select(pt.input_index(paths).alias("i")).collect())
    assert got == [0, 0, 1, 1, 2, 2]
    # A name reported differently from the prediction is found by its decoded path...
    wrong = [p + "-not-predicted" for p in paths]
    monkey = pt.hadoop_uri_string
    try:
        pt.hadoop_uri_string = lambda p: monkey(p) + "-not-predicted"
        got = sorted(r["i"] for r in df.select(pt.input_index(paths).alias("i")).collect())
    finally:
        pt.hadoop_uri_string = monkey
    assert got == [0, 0, 1, 1, 2, 2]
    # ...and a file not among the inputs gets no index at all.
    assert df.select(pt.input_index(wrong).alias("i")).where(F.col("i").isNotNull()).count() == 0


def test_the_sample_schema_matches_sparks_inference(spark):
    lines = ['{"id": 1, "dims": {"w": 1}, "tags": [], "price": 2}',
             '{"id": 2, "dims": {"h": 2}, "tags": ["a"], "price": 2.5, "flag": true, "note": null}',
             'not json', '[1, 2]']
    inferred = spark.read.json(spark.sparkContext.parallelize(lines[:2], 1)).schema
    assert known_schema.sample_schema(lines).simpleString() == inferred.simpleString()


def test_lines_that_are_json_but_not_objects_are_rejected_not_lost(spark, lake, aws, key_check):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a"}])))
    obj = lake.put("in/b.jsonl", '{"id": 2, "name": "b"}\nnull\n123\n"text"\n[1, 2]\n{"id": 3, "name": "c"}\n')
    stats = _run(spark, lake, aws, obj)
    written = sorted(r["id"] for r in lake.output_rows())
    assert written == [1, 2, 3]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (6, 2, 4)
    assert sorted(r["raw_record"] for r in lake.rejected_records()) == sorted(['null', '123', '"text"', '[1, 2]'])


def test_lines_of_json_whitespace_only_are_not_records(spark, lake, aws, key_check):
    _run(spark, lake, aws, lake.put("in/a.jsonl", jsonl([{"id": 1, "name": "a"}])))
    obj = lake.put("in/b.jsonl", '{"id": 2, "name": "b"}\n\t\n   \n \t \n\n{"id": 3, "name": "c"}\n')
    stats = _run(spark, lake, aws, obj)
    assert sorted(r["id"] for r in lake.output_rows()) == [1, 2, 3]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (2, 2, 0)


def test_on_a_first_run_whitespace_only_lines_are_not_records_either(spark, lake):
    obj = lake.put("in/b.jsonl", '{"id": 2}\n\t\n   \n{"id": 3}\n')
    stats = run_job(spark, lake.args(input_files=obj["uri"]))
    assert sorted(r["id"] for r in lake.output_rows()) == [2, 3]
    assert (stats["rows_in"], stats["rows_out"], stats["rows_rejected"]) == (2, 2, 0)

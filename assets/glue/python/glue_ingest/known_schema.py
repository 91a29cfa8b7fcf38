"""Reading JSON Lines with the table's schema, the read path ``read`` calls known schema.

The schema to parse a batch with (``known_read_schema``, from the catalog table and the
driver-side sample inference; ``evolved_read_schema`` when the batch brings new columns
or struct fields), the PERMISSIVE parse of the lines (``parse_json_lines``), and the
check that finds every key the schema does not name (``with_unknown_keys``: the JVM
helper ``JsonKeys`` or Spark's JSON functions), so that no new key is ever dropped.
Pure functions of Spark types and DataFrames; nothing here touches AWS or Glue.
"""
import json
import re

from pyspark.sql import functions as F
from pyspark.sql import types as T

from .columns import CORRUPT_COLUMN, INGESTED_COLUMN, SOURCE_COLUMN
from .schema import _normalize_type, hive_to_spark, with_new_nested_fields

_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _fits_into(sample, table):
    """Whether every field of a sample-inferred type exists, with a compatible shape, in the table's."""
    if isinstance(sample, T.NullType):
        return True
    if isinstance(sample, T.StructType):
        if not isinstance(table, T.StructType):
            return isinstance(table, (T.StringType, T.MapType))
        names = {f.name: f.dataType for f in table.fields}
        return all(f.name in names and _fits_into(f.dataType, names[f.name]) for f in sample.fields)
    if isinstance(sample, T.ArrayType):
        if not isinstance(table, T.ArrayType):
            return isinstance(table, T.StringType)
        return _fits_into(sample.elementType, table.elementType)
    return True


def json_value_type(value):
    """The Spark type JSON inference gives one parsed JSON value (fields sorted by name)."""
    if value is None:
        return T.NullType()
    if isinstance(value, bool):
        return T.BooleanType()
    if isinstance(value, int):
        return T.LongType() if -2 ** 63 <= value < 2 ** 63 else T.DecimalType(38, 0)
    if isinstance(value, float):
        return T.DoubleType()
    if isinstance(value, list):
        element = T.NullType()
        for item in value:
            element = merge_json_types(element, json_value_type(item))
        return T.ArrayType(T.StringType() if isinstance(element, T.NullType) else element, True)
    if isinstance(value, dict):
        return T.StructType([T.StructField(k, json_value_type(v), True) for k, v in sorted(value.items())])
    return T.StringType()


def merge_json_types(a, b):
    """Two inferred types as one, the way Spark's inference merges records."""
    if isinstance(a, T.NullType):
        return b
    if isinstance(b, T.NullType) or a == b:
        return a
    if isinstance(a, T.StructType) and isinstance(b, T.StructType):
        fields = {f.name: f.dataType for f in a.fields}
        for f in b.fields:
            fields[f.name] = merge_json_types(fields[f.name], f.dataType) if f.name in fields else f.dataType
        return T.StructType([T.StructField(k, v, True) for k, v in sorted(fields.items())])
    if isinstance(a, T.ArrayType) and isinstance(b, T.ArrayType):
        return T.ArrayType(merge_json_types(a.elementType, b.elementType), True)
    numeric = (T.LongType, T.DoubleType, T.DecimalType)
    if isinstance(a, numeric) and isinstance(b, numeric):
        return T.DoubleType()
    return T.StringType()


def sample_schema(lines):
    """The schema JSON inference gives these JSON Lines, computed on the driver (no Spark
    job): objects only; lines that are not JSON objects are left to the parse."""
    merged = T.StructType([])
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            merged = merge_json_types(merged, json_value_type(record))
    return _null_as_string(merged)


def _null_as_string(data_type):
    """Inference ends by typing what was only ever null as string, at any depth."""
    if isinstance(data_type, T.NullType):
        return T.StringType()
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, _null_as_string(f.dataType), True) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(_null_as_string(data_type.elementType), True)
    return data_type


def known_read_schema(table_types, sample_schema, partition_columns=()):
    """The schema to parse JSON Lines with, or None when it cannot be known without inference.

    Every column of the catalog table, typed as the table has it and named as
    the data spells it (the catalog lower-cases names). None when the sample
    holds a field the table lacks (a new column: full inference types it), a
    differently shaped struct, or nesting the unknown-key check cannot cover.
    """
    if not table_types:
        return None
    by_lower = {f.name.lower(): f for f in sample_schema.fields} if sample_schema else {}
    by_lower.pop(CORRUPT_COLUMN.lower(), None)
    table_lower = {k.lower() for k in table_types}
    if set(by_lower) - table_lower - {CORRUPT_COLUMN.lower()}:
        return None
    skip = {p.lower() for p in partition_columns} | {SOURCE_COLUMN.lower(), INGESTED_COLUMN.lower()}
    fields = []
    for name, hive_type in table_types.items():
        if name.lower() in skip:
            continue
        data_type = hive_to_spark(hive_type)
        seen = by_lower.get(name.lower())
        if seen is not None and not _fits_into(seen.dataType, data_type):
            return None
        field = T.StructField(seen.name if seen is not None else name, data_type, True)
        if not _checkable(field.dataType):
            return None
        fields.append(field)
    return T.StructType(fields)


def evolved_read_schema(table_types, inferred, partition_columns=()):
    """The table's columns with the table's types, then the inferred columns it lacks.

    Used when a batch brings new columns: they take the types full inference
    gave them (widened like ``normalize_types``), while existing columns keep
    the table's, so a value that does not fit is rejected row by row. A struct
    column also gains the fields the batch adds to it (``dims.depth``), at any
    depth. None when nesting the unknown-key check cannot cover is involved.
    """
    schema = known_read_schema(table_types, None, partition_columns) if table_types else T.StructType([])
    if schema is None:
        return None
    by_lower = {f.name.lower(): f for f in inferred.fields if f.name != CORRUPT_COLUMN}
    fields = []
    for field in schema.fields:
        seen = by_lower.get(field.name.lower())
        if seen is None:
            fields.append(field)
        else:
            fields.append(T.StructField(seen.name, with_new_nested_fields(field.dataType, seen.dataType), True))
    known = {f.name.lower() for f in fields} | {SOURCE_COLUMN.lower(), INGESTED_COLUMN.lower()}
    known |= {p.lower() for p in partition_columns}
    for name, field in by_lower.items():
        if name not in known:
            fields.append(T.StructField(field.name, _normalize_type(field.dataType), True))
    evolved = T.StructType(fields)
    return evolved if all(_checkable(f.dataType) for f in evolved.fields) else None


def _checkable(data_type, depth=0):
    """Structs (any depth) and arrays of flat structs are checked for unknown keys; names must be simple."""
    if isinstance(data_type, T.StructType):
        return all(_SIMPLE_NAME.match(f.name) and _checkable(f.dataType, depth + 1) for f in data_type.fields)
    if isinstance(data_type, T.ArrayType):
        inner = data_type.elementType
        if isinstance(inner, T.StructType):
            return all(_SIMPLE_NAME.match(f.name) and not isinstance(f.dataType, (T.StructType, T.ArrayType))
                       for f in inner.fields)
        return not isinstance(inner, T.ArrayType) or _checkable(inner, depth + 1)
    return True


def unknown_keys(schema, value_col="value"):
    """An array<string> column of the JSON keys of each line that the schema does not name,
    as jq paths (``.new``, ``.dims.depth``, ``.items[].sku``).

    Top-level keys come from ``json_object_keys``; nested structs and arrays of
    structs are checked through their JSON path. A key the parse would drop
    silently is thereby seen, so the batch can be re-read with inference.
    """
    checks = []

    def known(struct):
        return F.array(*[F.lit(f.name) for f in struct.fields]) if struct.fields else F.array().cast("array<string>")

    def walk(struct, path, text):
        missing = F.array_except(F.coalesce(F.json_object_keys(text), F.array().cast("array<string>")),
                                 known(struct))
        checks.append(F.transform(missing, lambda k: F.concat(F.lit("." + path), k)))
        for field in struct.fields:
            sub = "%s%s." % (path, field.name)
            json_path = "$." + sub[:-1]
            if isinstance(field.dataType, T.StructType):
                walk(field.dataType, sub, F.get_json_object(F.col(value_col), json_path))
            elif isinstance(field.dataType, T.ArrayType) and isinstance(field.dataType.elementType, T.StructType):
                items = F.from_json(F.get_json_object(F.col(value_col), json_path), T.ArrayType(T.StringType()))
                element = field.dataType.elementType
                per_item = F.transform(F.coalesce(items, F.array().cast("array<string>")),
                                       lambda e: F.array_except(
                                           F.coalesce(F.json_object_keys(e), F.array().cast("array<string>")),
                                           known(element)))
                checks.append(F.transform(F.array_distinct(F.flatten(per_item)),
                                          lambda k: F.concat(F.lit("." + sub[:-1] + "[]."), k)))

    walk(schema, "", F.col(value_col))
    return F.array_distinct(F.flatten(F.array(*checks))) if len(checks) > 1 else checks[0]


#: The job's JVM helper (assets/glue/jvm, shipped on --extra-jars): one scan of a line
#: finds a key the schema lacks, where Spark's JSON functions tokenize once per level.
JVM_KEY_CHECK = "io.github.cdk_event_driven_glue_workflow.ingest.JsonKeys"


def key_spec(struct):
    """The JVM helper's description of a schema's keys (see ``JsonKeys.java``).

    Each field is ``<length>:<name>`` (length in UTF-16 units, as Java counts), then
    ``{...}`` when the field is a struct or an array (of arrays) of structs, whose
    keys are then checked too; maps and scalars are not looked into.
    """
    parts = []
    for field in struct.fields:
        parts.append("%d:%s" % (len(field.name.encode("utf-16-le")) // 2, field.name))
        inner = field.dataType
        while isinstance(inner, T.ArrayType):
            inner = inner.elementType
        if isinstance(inner, T.StructType):
            parts.append("{%s}" % key_spec(inner))
    return "".join(parts)


def with_unknown_keys(df, schema, jvm, value_col="value"):
    """Adds ``__unknown``, the keys of each line the schema lacks; returns (df, aggregate).

    The aggregate, for ``observe``, is the JSON list of their distinct jq paths. With
    ``jvm``, the JVM helper gives each line's first such key in one scan (a string, ""
    for none), else :func:`unknown_keys` lists them all (an array). The column stands
    on its own because ``reflect`` is nondeterministic, which ``observe`` refuses inside.
    """
    if jvm:
        df = df.withColumn("__unknown", F.reflect(F.lit(JVM_KEY_CHECK), F.lit("firstUnknownKey"),
                                                  F.lit(key_spec(schema)), F.col(value_col)))
        paths = F.collect_set(F.when(F.col("__unknown") != "", F.col("__unknown")))
    else:
        df = df.withColumn("__unknown", unknown_keys(schema, value_col))
        paths = F.array_distinct(F.flatten(F.collect_set(F.when(F.size("__unknown") > 0, F.col("__unknown")))))
    return df, F.to_json(paths)


def parse_json_lines(text_df, schema, value_col="value"):
    """Lines (BOM stripped) parsed with ``schema`` in PERMISSIVE mode into ``__row``, keeping
    the raw text. ``__row`` is null for a line of JSON whitespace only (no record); any
    other line has a row, with ``_corrupt_record`` set when it does not parse."""
    value = F.col(value_col)
    value = F.when(value.startswith("\ufeff"), F.expr("substring(%s, 2)" % value_col)).otherwise(value)
    lines = text_df.withColumn(value_col, value)
    with_corrupt = T.StructType(list(schema.fields) + [T.StructField(CORRUPT_COLUMN, T.StringType(), True)])
    parsed = F.from_json(F.col(value_col), with_corrupt,
                         {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN})
    return lines.withColumn("__row", parsed)

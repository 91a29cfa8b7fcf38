"""Pure DataFrame transforms of the Parquet conversion job.

Every function here takes DataFrames (or Spark types) and returns DataFrames
(or plain values). Nothing here touches AWS, Glue or the filesystem, so the
functions run the same on AWS Glue and on a laptop.
"""
import json
import math
import re
from functools import reduce

from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT_COLUMN = "_corrupt_record"
SOURCE_COLUMN = "_source_file"
INGESTED_COLUMN = "_ingested_at"
REASON_COLUMN = "_reject_reason"
INTERNAL_COLUMNS = (CORRUPT_COLUMN, REASON_COLUMN)

JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
CSV_EXTENSIONS = (".csv",)

# Widening casts accepted between batches: (table type, batch type).
_WIDENING = {
    ("bigint", "int"), ("bigint", "smallint"), ("bigint", "tinyint"),
    ("int", "smallint"), ("int", "tinyint"), ("smallint", "tinyint"),
    ("double", "bigint"), ("double", "int"), ("double", "smallint"),
    ("double", "tinyint"), ("double", "float"),
    ("timestamp", "date"),
}


def format_from_name(name, input_format="AUTO"):
    """Return JSON, CSV or None (unknown) for an object name.

    An explicit input_format (JSON or CSV) wins; AUTO decides by extension,
    ignoring a trailing .gz.
    """
    fmt = (input_format or "AUTO").upper()
    if fmt in ("JSON", "CSV"):
        return fmt
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith(JSON_EXTENSIONS):
        return "JSON"
    if lower.endswith(CSV_EXTENSIONS):
        return "CSV"
    return None


def output_file_count(total_bytes, target_file_size_mb, cores=1):
    """Number of output files: max(1, ceil(total input bytes / target size)).

    With more files than ``cores``, the count is a multiple of ``cores`` (the lower or
    the upper one, whichever gives files nearer the target size): each writing task
    writes one file, and a count just above a multiple leaves cores idle while the last
    wave runs (2 cores, 335 MiB at 128 MiB: 2 files of 168 MiB, not 3 tasks in 2 waves).
    """
    target = max(1, int(float(target_file_size_mb) * 1024 * 1024))
    wanted = max(1, int(math.ceil(float(total_bytes) / target)))
    cores = max(1, int(cores))
    if cores == 1 or wanted <= cores:
        return wanted
    ideal = float(total_bytes) / target
    lower = int(ideal // cores) * cores
    upper = lower + cores
    if lower >= cores and abs(math.log(ideal / lower)) <= abs(math.log(upper / ideal)):
        return lower
    return upper


def spark_to_hive_type(data_type):
    """Hive DDL type string of a Spark DataType, as the Glue catalog expects."""
    simple = {
        T.StringType: "string", T.LongType: "bigint", T.IntegerType: "int",
        T.ShortType: "smallint", T.ByteType: "tinyint", T.DoubleType: "double",
        T.FloatType: "float", T.BooleanType: "boolean", T.DateType: "date",
        T.TimestampType: "timestamp", T.BinaryType: "binary", T.NullType: "string",
    }
    for cls, name in simple.items():
        if isinstance(data_type, cls):
            return name
    if isinstance(data_type, T.TimestampNTZType):
        return "timestamp"
    if isinstance(data_type, T.DecimalType):
        return "decimal(%d,%d)" % (data_type.precision, data_type.scale)
    if isinstance(data_type, T.ArrayType):
        return "array<%s>" % spark_to_hive_type(data_type.elementType)
    if isinstance(data_type, T.MapType):
        return "map<%s,%s>" % (spark_to_hive_type(data_type.keyType),
                               spark_to_hive_type(data_type.valueType))
    if isinstance(data_type, T.StructType):
        return "struct<%s>" % ",".join(
            "%s:%s" % (f.name, spark_to_hive_type(f.dataType)) for f in data_type.fields)
    return data_type.simpleString()


def _normalize_type(data_type):
    if isinstance(data_type, (T.IntegerType, T.ShortType, T.ByteType)):
        return T.LongType()
    if isinstance(data_type, T.FloatType):
        return T.DoubleType()
    if isinstance(data_type, T.NullType):
        return T.StringType()
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(_normalize_type(data_type.elementType), data_type.containsNull)
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, _normalize_type(f.dataType), f.nullable)
                             for f in data_type.fields])
    if isinstance(data_type, T.MapType):
        return T.MapType(_normalize_type(data_type.keyType),
                         _normalize_type(data_type.valueType), data_type.valueContainsNull)
    return data_type


def normalize_types(df):
    """Widen inferred integers to bigint and floats to double.

    CSV inference yields int where JSON yields bigint; normalising keeps the
    table type stable between batches of different formats and sizes.
    """
    cols = []
    for field in df.schema.fields:
        target = _normalize_type(field.dataType)
        if target != field.dataType:
            cols.append(F.col("`%s`" % field.name).cast(target).alias(field.name))
        else:
            cols.append(F.col("`%s`" % field.name))
    return df.select(*cols)


def strip_bom(name):
    """Header names lose a leading UTF-8 BOM and surrounding whitespace."""
    return name.lstrip("\ufeff").strip()


def distinct_names(names):
    """Column names made distinct the way a table needs them: case-insensitively.

    A name seen before (ignoring letter case) gets ``_2``, ``_3``, ... by its occurrence,
    skipping any name the header already has: ``id,name,Name,name`` reads as
    ``id, name, Name_2, name_3``.
    """
    taken = {n.lower() for n in names}
    seen, out = {}, []
    for name in names:
        key = name.lower()
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count == 1:
            out.append(name)
            continue
        candidate, n = "%s_%d" % (name, count), count
        while candidate.lower() in taken:
            n += 1
            candidate = "%s_%d" % (name, n)
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def csv_schema_with_corrupt(inferred, header):
    """Inferred CSV schema renamed to the clean header (names made distinct), plus the corrupt column."""
    names = [strip_bom(header[i]) if i < len(header) and header[i].strip() else field.name
             for i, field in enumerate(inferred.fields)]
    fields = [T.StructField(name, field.dataType, True)
              for name, field in zip(distinct_names([strip_bom(n) for n in names]), inferred.fields)]
    fields.append(T.StructField(CORRUPT_COLUMN, T.StringType(), True))
    return T.StructType(fields)


def with_reject_reason(df, fmt):
    """Add the REASON column; keep the raw text of malformed rows."""
    reason = "malformed JSON record" if fmt == "JSON" else "malformed CSV row"
    if CORRUPT_COLUMN not in df.columns:
        df = df.withColumn(CORRUPT_COLUMN, F.lit(None).cast("string"))
    return df.withColumn(
        REASON_COLUMN,
        F.when(F.col(CORRUPT_COLUMN).isNotNull(), F.lit(reason)).otherwise(F.lit(None).cast("string")),
    )


def union_all(frames):
    """Union by column name, filling missing columns with null."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def data_columns(df):
    return [c for c in df.columns if c not in INTERNAL_COLUMNS]


def resolve_type_conflicts(df, table_types, partition_columns=()):
    """Apply the between-batches type rule against the table's column types.

    table_types maps column name (lower case) to the table's Hive type. For a
    column whose batch type differs:
      * widening (int->bigint->double, float->double, date->timestamp): cast;
      * table type string: cast to string (complex values as JSON text);
      * otherwise rows with a non-null value are rejected with reason
        "type conflict on column X: table has T1, file has T2" and the column
        is null-cast to the table type for the remaining rows.
    Returns (df, conflicts) where conflicts lists (column, table type, batch type).
    """
    conflicts = []
    reason = F.col(REASON_COLUMN)
    cols = []
    partition_lower = {p.lower() for p in partition_columns}
    for field in df.schema.fields:
        name = field.name
        ref = F.col("`%s`" % name)
        table_type = table_types.get(name.lower())
        if name in INTERNAL_COLUMNS or table_type is None or name.lower() in partition_lower:
            cols.append(ref)
            continue
        batch_type = spark_to_hive_type(field.dataType)
        if batch_type == table_type:
            cols.append(ref)
        elif (table_type, batch_type) in _WIDENING:
            cols.append(ref.cast(table_type).alias(name))
        elif table_type == "string":
            if isinstance(field.dataType, (T.StructType, T.ArrayType, T.MapType)):
                cols.append(F.to_json(ref).alias(name))
            else:
                cols.append(ref.cast("string").alias(name))
        else:
            conflicts.append((name, table_type, batch_type))
            message = "type conflict on column %s: table has %s, file has %s" % (
                name, table_type, batch_type)
            if table_type in INTEGRAL_TYPES and batch_type in FRACTIONAL_TYPES:
                # Row by row: a whole number that fits is an ordinary value of the
                # column (75 in a batch that also holds 75.25); only the others conflict.
                value, bad = _row_cast(name, table_type)
                reason = F.when(reason.isNull() & bad, F.lit(message)).otherwise(reason)
                cols.append(F.when(bad, F.lit(None)).otherwise(value).cast(table_type).alias(name))
            else:
                reason = F.when(reason.isNull() & ref.isNotNull(), F.lit(message)).otherwise(reason)
                cols.append(F.lit(None).cast(table_type).alias(name))
    if not conflicts:
        return df.select(*cols), conflicts
    return _with_rejections(df, cols, reason), conflicts


#: Hive types of whole numbers, and of the numbers that may have a fractional part.
INTEGRAL_TYPES = ("tinyint", "smallint", "int", "bigint")
FRACTIONAL_TYPES = ("float", "double")

#: The Hive types a column may be declared as (``--column_types``); decimal(p,s) needs 1 <= p <= 38, s <= p.
DECLARABLE_TYPE = re.compile(r"^(?:boolean|tinyint|smallint|int|bigint|float|double|string|date|timestamp"
                             r"|decimal\(\s*(\d+)\s*,\s*(\d+)\s*\))$")


def _row_cast(name, target):
    """(the value cast to ``target``, whether this row's value does not cast).

    ``try_cast`` gives null instead of failing (also under Spark 4's ANSI mode); a whole-number
    target also refuses a value it would truncate (75.25 is not a bigint)."""
    quoted = "`%s`" % name.replace("`", "``")
    value = F.expr("try_cast(%s AS %s)" % (quoted, target))
    bad = F.col(quoted).isNotNull() & value.isNull()
    if target in INTEGRAL_TYPES:
        exact = F.expr("try_cast(%s AS decimal(38,10))" % quoted) == F.expr(
            "try_cast(try_cast(%s AS %s) AS decimal(38,10))" % (quoted, target))
        bad = bad | (F.col(quoted).isNotNull() & ~F.coalesce(exact, F.lit(False)))
    return value, bad


def apply_declared_types(df, declared):
    """Casts each column the user declared a type for (``--column_types``), row by row.

    ``declared`` maps lower-case column names to Hive types. A value that does not cast
    (``abc`` as a decimal, ``75.25`` as a bigint, ``2026-13-01`` as a date) makes its row a
    rejected one, with the reason ``column amount: value abc is not a decimal(12,2)``;
    decimals are rounded to their scale, as SQL does. Returns (df, whether any column was cast).
    """
    if not declared:
        return df, False
    reason = F.col(REASON_COLUMN)
    cols, cast_any = [], False
    for field in df.schema.fields:
        name = field.name
        target = declared.get(name.lower())
        ref = F.col("`%s`" % name)
        if name in INTERNAL_COLUMNS or name == SOURCE_COLUMN or target is None \
                or spark_to_hive_type(field.dataType) == target.replace(" ", ""):
            cols.append(ref)
            continue
        cast_any = True
        value, bad = _row_cast(name, target)
        message = F.concat(F.lit("column %s: value " % name), F.substring(ref.cast("string"), 1, 100),
                           F.lit(" is not a %s" % target))
        reason = F.when(reason.isNull() & bad, message).otherwise(reason)
        cols.append(F.when(bad, F.lit(None)).otherwise(value).cast(target).alias(name))
    if not cast_any:
        return df, False
    return _with_rejections(df, cols, reason), True


def csv_read_types(schema, declared, partition_columns=()):
    """The types a CSV read takes for its columns.

    A declared column is read as text and cast afterwards (so ``007`` stays what the
    declaration makes of it). Any other column inferred as a whole number is read as a
    double: a CSV file says nothing about types, and a first batch of whole amounts (75)
    must not lock a column to bigint that a later ordinary 75.25 then conflicts with.
    Partition columns keep their inferred type (a path value such as ``year=2026``).
    """
    partitions = {p.lower() for p in partition_columns}
    fields = []
    for field in schema.fields:
        key = field.name.lower()
        if field.name in INTERNAL_COLUMNS:
            fields.append(field)
        elif key in (declared or {}):
            fields.append(T.StructField(field.name, T.StringType(), True))
        elif key not in partitions and isinstance(field.dataType, (T.IntegerType, T.LongType, T.ShortType,
                                                                   T.ByteType)):
            fields.append(T.StructField(field.name, T.DoubleType(), True))
        else:
            fields.append(field)
    return T.StructType(fields)


def _with_rejections(df, cols, reason):
    """``df`` projected to ``cols``, with ``reason`` as the reject reason of the rows it marks;
    the raw record of a newly rejected row keeps its original values."""
    raw = F.to_json(F.struct(*[F.col("`%s`" % c) for c in data_columns(df) if c != SOURCE_COLUMN]))
    projected = df.select(
        *cols,
        F.when(F.col(CORRUPT_COLUMN).isNull() & reason.isNotNull(), raw)
        .otherwise(F.col(CORRUPT_COLUMN)).alias("__raw"),
        reason.alias("__reason"),
    )
    projected = projected.drop(CORRUPT_COLUMN, REASON_COLUMN)
    projected = projected.withColumnRenamed("__raw", CORRUPT_COLUMN)
    return projected.withColumnRenamed("__reason", REASON_COLUMN)


def normalized_input_path():
    """input_file_name() decoded to a plain path: "/dir/a b.json" or "s3://b/k".

    Hadoop reports URIs with %XX escapes (space as %20, % as %25) and a
    literal '+'; '+' is protected before url_decode, which reads it as space.
    """
    decoded = F.expr("url_decode(replace(input_file_name(), '+', '%2B'))")
    return F.regexp_replace(decoded, r"^file:/+", "/")


_URI_LEGAL = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                 "-_.!~*'();:&=+$,/@")


def hadoop_uri_string(path):
    """The string input_file_name() reports for a path (java.net.URI quoting).

    Local paths become file:///abs/path; ASCII characters outside the URI
    path alphabet are %XX-escaped, non-ASCII letters are kept as they are.
    """
    if path.startswith("s3://"):
        scheme, rest = "s3://", path[len("s3://"):]
    else:
        scheme, rest = "file://", path
    out = []
    for ch in rest:
        if ch in _URI_LEGAL or (ord(ch) > 127 and not ch.isspace() and ch.isprintable()):
            out.append(ch)
        else:
            out.append("".join("%%%02X" % b for b in ch.encode("utf-8")))
    return scheme + "".join(out)


def input_index(paths):
    """The position in ``paths`` (Spark paths of the inputs) of each row's input file.

    The name Spark reports is looked up among the predicted names first; a name
    reported differently from the prediction is decoded and looked up by its
    normalized path. Null for a file not in ``paths``.
    """
    exact = [item for i, p in enumerate(paths) for item in (F.lit(hadoop_uri_string(p)), F.lit(i))]
    decoded = [item for i, p in enumerate(paths) for item in (F.lit(spark_key(p)), F.lit(i))]
    return F.coalesce(F.create_map(*exact)[F.input_file_name()],
                      F.create_map(*decoded)[normalized_input_path()])


def spark_key(path):
    """The normalized path Spark reports for an input (see normalized_input_path)."""
    return path if path.startswith("s3://") else __import__("os").path.normpath(path)


def with_source_file(df, path_to_source):
    """Add SOURCE_COLUMN: the user-facing URI of each row's input file.

    path_to_source maps the normalized Spark path of each input to its URI
    (s3://bucket/key even when read from a local mirror). The lookup first
    uses the predicted raw input_file_name() string (cheap); only when that
    misses is the reported path decoded and looked up again.
    """
    raw_items, items = [], []
    for spark_path, source in sorted(path_to_source.items()):
        raw_items.extend([F.lit(hadoop_uri_string(spark_path)), F.lit(source)])
        items.extend([F.lit(spark_path), F.lit(source)])
    path = normalized_input_path()
    if not items:
        return df.withColumn(SOURCE_COLUMN, path)
    mapped = F.coalesce(F.create_map(*raw_items)[F.input_file_name()],
                        F.create_map(*items)[path], path)
    return df.withColumn(SOURCE_COLUMN, mapped)


def accepted_rows(df, ingested_at, partition_values):
    """Good rows with metadata columns and constant partition columns added.

    partition_values maps partition column name -> constant value for
    partition columns that are not data columns (e.g. ingest_date).
    """
    out = df.filter(F.col(REASON_COLUMN).isNull())
    out = out.select(*[F.col("`%s`" % c) for c in data_columns(df) if c != SOURCE_COLUMN],
                     F.col(SOURCE_COLUMN))
    out = out.withColumn(INGESTED_COLUMN, F.lit(ingested_at).cast("timestamp"))
    for name, value in partition_values.items():
        out = out.withColumn(name, F.lit(value).cast("string"))
    return out


def rejected_rows(df):
    """Rejected rows as (source_file, reason, raw_record)."""
    return df.filter(F.col(REASON_COLUMN).isNotNull()).select(
        F.col(SOURCE_COLUMN).alias("source_file"),
        F.col(REASON_COLUMN).alias("reason"),
        F.col(CORRUPT_COLUMN).alias("raw_record"),
    )


def per_file_counts(df):
    """One aggregate: rows_in and rows_rejected per source file."""
    return df.groupBy(SOURCE_COLUMN).agg(
        F.count(F.lit(1)).alias("rows_in"),
        F.sum(F.when(F.col(REASON_COLUMN).isNotNull(), 1).otherwise(0)).alias("rows_rejected"),
    )


_HIVE_ESCAPE = set('"#%\'*/:=?\\\x7f{[]^')


def hive_partition_dir(name, value):
    """"name=value" escaped as Spark writes Hive partition directories."""
    if value is None or value == "":
        return "%s=__HIVE_DEFAULT_PARTITION__" % name
    escaped = "".join("%%%02X" % ord(ch) if (ch in _HIVE_ESCAPE or ord(ch) < 0x20) else ch
                      for ch in str(value))
    return "%s=%s" % (name, escaped)


def split_partitions(partition_columns, constants):
    """Leading constant partition columns become a fixed directory prefix.

    Returns (prefix dirs, columns left for partitionBy). Writing constant
    partitions as a path avoids Spark's per-task sort for dynamic partitions.
    """
    prefix, dynamic = [], []
    for col in partition_columns:
        if col in constants and not dynamic:
            prefix.append(hive_partition_dir(col, constants[col]))
        else:
            dynamic.append(col)
    return prefix, dynamic


def shape_for_output(df, n_files):
    """At most n_files writing tasks, so at most n_files files per partition.

    With at least as many files as the cluster has cores, coalesce avoids a
    shuffle (each task reads and writes about one target file size). With fewer
    (a small run), coalesce would also narrow the reading and parsing to n_files
    tasks and leave cores idle, so rows are parsed on every core and shuffled to
    n_files writers (measured on 2 cores, 10 files: 1.61 s -> 1.34 s). With fewer
    input partitions than files, rows are spread with a round-robin repartition.
    """
    n_files = max(1, n_files)
    partitions = df.rdd.getNumPartitions()
    if partitions < n_files:
        return df.repartition(n_files)
    if n_files < df.sparkSession.sparkContext.defaultParallelism and partitions > n_files:
        return df.repartition(n_files)
    return df.coalesce(n_files)


# ---------------------------------------------------------------- reading with a known schema

_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def hive_to_spark(hive_type):
    """Spark DataType of a catalog (Hive DDL) type string such as ``struct<a:bigint>``."""
    return T._parse_datatype_string(hive_type)


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


def with_new_nested_fields(table_type, inferred):
    """The table's type plus the struct fields ``inferred`` adds, at any depth.

    The table's own fields keep their types and their order; new fields follow them
    (typed as inference gave them, widened like ``normalize_types``). Arrays of
    structs are merged element by element; any other pair is the table's type.
    """
    if isinstance(table_type, T.StructType) and isinstance(inferred, T.StructType):
        seen = {f.name: f.dataType for f in inferred.fields}
        fields = [T.StructField(f.name, with_new_nested_fields(f.dataType, seen[f.name]) if f.name in seen
                                else f.dataType, True) for f in table_type.fields]
        own = {f.name for f in table_type.fields}
        fields += [T.StructField(f.name, _normalize_type(f.dataType), True)
                   for f in inferred.fields if f.name not in own and f.name != CORRUPT_COLUMN]
        return T.StructType(fields)
    if isinstance(table_type, T.ArrayType) and isinstance(inferred, T.ArrayType):
        return T.ArrayType(with_new_nested_fields(table_type.elementType, inferred.elementType), True)
    return table_type


def added_nested_fields(old, new, path=()):
    """The struct fields ``new`` adds to ``old`` as [(path, type)], path the field names
    from the column down (``element`` for an array's items, as Iceberg names them); None
    when ``new`` is not ``old`` with fields added (another change, or a field removed)."""
    if isinstance(old, T.StructType) and isinstance(new, T.StructType):
        names = [f.name for f in old.fields]
        if [f.name for f in new.fields[:len(names)]] != names:
            return None
        added = []
        for before, after in zip(old.fields, new.fields):
            inner = added_nested_fields(before.dataType, after.dataType, path + (before.name,))
            if inner is None:
                return None
            added += inner
        return added + [(path + (f.name,), f.dataType) for f in new.fields[len(names):]]
    if isinstance(old, T.ArrayType) and isinstance(new, T.ArrayType):
        return added_nested_fields(old.elementType, new.elementType, path + ("element",))
    return [] if old.simpleString() == new.simpleString() else None


def widens_nested(old_hive, new_hive):
    """Whether the Hive type ``new_hive`` is ``old_hive`` with struct fields added."""
    if old_hive == new_hive:
        return False
    added = added_nested_fields(hive_to_spark(old_hive), hive_to_spark(new_hive))
    return bool(added)


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


def hive_type_of_value(value):
    """The Hive type Spark's JSON inference would give one Python JSON value."""
    if value is None:
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        inner = next((v for v in value if v is not None), None)
        return "array<%s>" % hive_type_of_value(inner)
    if isinstance(value, dict):
        return "struct<%s>" % ",".join("%s:%s" % (k, hive_type_of_value(v)) for k, v in value.items())
    return "string"


def _value_fits(value, data_type):
    if value is None or isinstance(data_type, T.StringType):
        return True
    if isinstance(data_type, T.BooleanType):
        return isinstance(value, bool)
    if isinstance(data_type, (T.LongType, T.IntegerType, T.ShortType, T.ByteType)):
        return isinstance(value, int) and not isinstance(value, bool) and -2 ** 63 <= value < 2 ** 63
    if isinstance(data_type, (T.DoubleType, T.FloatType, T.DecimalType)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        return isinstance(value, str) and _ISO_DATE.match(value) is not None
    if isinstance(data_type, T.StructType):
        if not isinstance(value, dict):
            return False
        types = {f.name: f.dataType for f in data_type.fields}
        return all(_value_fits(v, types[k]) for k, v in value.items() if k in types)
    if isinstance(data_type, T.ArrayType):
        return isinstance(value, list) and all(_value_fits(v, data_type.elementType) for v in value)
    if isinstance(data_type, T.MapType):
        return isinstance(value, dict)
    return True


def reject_reason(raw, schema):
    """Why a JSON line the parse marked corrupt was rejected: malformed, or a type conflict."""
    import json

    try:
        record = json.loads(raw)
    except ValueError:
        return "malformed JSON record"
    if not isinstance(record, dict):
        return "malformed JSON record"
    for field in schema.fields:
        if field.name in record and not _value_fits(record[field.name], field.dataType):
            return "type conflict on column %s: table has %s, file has %s" % (
                field.name, spark_to_hive_type(field.dataType), hive_type_of_value(record[field.name]))
    return "malformed JSON record"

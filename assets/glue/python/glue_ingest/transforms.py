"""Pure DataFrame transforms of the Parquet conversion job.

Every function here takes DataFrames (or Spark types) and returns DataFrames
(or plain values). Nothing here touches AWS, Glue or the filesystem, so the
functions run the same on AWS Glue and on a laptop.
"""
import math
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


def output_file_count(total_bytes, target_file_size_mb):
    """Number of output files: max(1, ceil(total input bytes / target size))."""
    target = max(1, int(float(target_file_size_mb) * 1024 * 1024))
    return max(1, int(math.ceil(float(total_bytes) / target)))


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


def csv_schema_with_corrupt(inferred, header):
    """Inferred CSV schema renamed to the clean header, plus the corrupt column."""
    fields = []
    for i, field in enumerate(inferred.fields):
        name = strip_bom(header[i]) if i < len(header) and header[i].strip() else field.name
        fields.append(T.StructField(strip_bom(name), field.dataType, True))
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
            reason = F.when(reason.isNull() & ref.isNotNull(), F.lit(message)).otherwise(reason)
            cols.append(F.lit(None).cast(table_type).alias(name))
    if not conflicts:
        return df.select(*cols), conflicts
    # The raw record of a conflicting row keeps its original values.
    raw = F.to_json(F.struct(*[F.col("`%s`" % c) for c in data_columns(df) if c != SOURCE_COLUMN]))
    projected = df.select(
        *cols,
        F.when(F.col(CORRUPT_COLUMN).isNull() & reason.isNotNull(), raw)
        .otherwise(F.col(CORRUPT_COLUMN)).alias("__raw"),
        reason.alias("__reason"),
    )
    projected = projected.drop(CORRUPT_COLUMN, REASON_COLUMN)
    projected = projected.withColumnRenamed("__raw", CORRUPT_COLUMN)
    projected = projected.withColumnRenamed("__reason", REASON_COLUMN)
    return projected, conflicts


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

    coalesce avoids a shuffle when the input already has enough partitions
    (each task then handles about one target file size of input); otherwise
    rows are spread with a round-robin repartition.
    """
    n_files = max(1, n_files)
    if df.rdd.getNumPartitions() >= n_files:
        return df.coalesce(n_files)
    return df.repartition(n_files)

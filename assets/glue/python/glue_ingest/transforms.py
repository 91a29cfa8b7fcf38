"""Pure row transforms of the Parquet conversion job.

Every function here takes DataFrames (or Spark types) and returns DataFrames
(or plain values). Nothing here touches AWS, Glue or the filesystem, so the
functions run the same on AWS Glue and on a laptop.

The rows' way through a round: the input format of a file, the clean names of a CSV
header, ``_source_file``, the reject reason of a row, accepted and rejected rows and
their per-file counts, the Hive partition directories and the shape of the output.
The column types are in ``schema``, reading with the table's schema in ``known_schema``,
and the names of the added columns in ``columns``.
"""
import math
from functools import reduce

from pyspark.sql import functions as F
from pyspark.sql import types as T

from .columns import CORRUPT_COLUMN, INGESTED_COLUMN, REASON_COLUMN, SOURCE_COLUMN, data_columns
from .schema import _value_fits, hive_type_of_value, spark_to_hive_type

JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
CSV_EXTENSIONS = (".csv",)


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

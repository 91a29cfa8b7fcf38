"""The column types of the job's table: pure functions of Spark types and DataFrames.

Hive DDL <-> Spark type mapping, the widening of inferred types (``normalize_types``), the
between-batches type rule (``resolve_type_conflicts``), the types the user declares
(``--column_types``), the nested schema evolution of struct columns, and the Hive type of
a JSON value. Reading JSON Lines with the table's schema is in ``known_schema``; the row
transforms are in ``transforms``. Nothing here touches AWS, Glue or the filesystem.
"""
import re

from pyspark.sql import functions as F
from pyspark.sql import types as T

from .columns import CORRUPT_COLUMN, INTERNAL_COLUMNS, REASON_COLUMN, SOURCE_COLUMN, data_columns

# Widening casts accepted between batches: (table type, batch type).
_WIDENING = {
    ("bigint", "int"), ("bigint", "smallint"), ("bigint", "tinyint"),
    ("int", "smallint"), ("int", "tinyint"), ("smallint", "tinyint"),
    ("double", "bigint"), ("double", "int"), ("double", "smallint"),
    ("double", "tinyint"), ("double", "float"),
    ("timestamp", "date"),
}


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


# ---------------------------------------------------------------- catalog types and nested evolution

def hive_to_spark(hive_type):
    """Spark DataType of a catalog (Hive DDL) type string such as ``struct<a:bigint>``."""
    return T._parse_datatype_string(hive_type)


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


# ---------------------------------------------------------------- the type of a JSON value

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


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

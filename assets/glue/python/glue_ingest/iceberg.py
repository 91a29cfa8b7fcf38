"""Iceberg table output: one snapshot commit per round, exactly once.

The table lives in the Spark catalog ``--iceberg_catalog`` (on Glue, Iceberg's
``GlueCatalog`` configured by the job's ``--conf``), at the output location.
The job creates it on its first round, so a stack update never replaces it.

Exactly once: each round appends its accepted rows as one Iceberg commit whose
snapshot summary carries the round's id and its source object versions
(``cdk-edgw.run-id``, ``cdk-edgw.sources``). The snapshot is the round's commit
point: recovery of a round that died looks for its id in the table's snapshots
and finalizes it if it is there, or rolls it back if not (nothing of it is
visible then). Readers see a whole round or nothing.
"""
import json
import re

from .context import log
from .schema import added_nested_fields, spark_to_hive_type

RUN_ID = "cdk-edgw.run-id"
SOURCES = "cdk-edgw.sources"
SOURCE_COUNT = "cdk-edgw.source-count"

_TRANSFORM = re.compile(r"^(years|months|days|hours)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$|"
                        r"^(bucket|truncate)\(\s*(\d+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$|"
                        r"^([A-Za-z_][A-Za-z0-9_]*)$")
#: Optimizer types of the Data Catalog, as the job's argument names them.
OPTIMIZERS = ("compaction", "retention", "orphan_file_deletion")


def partition_spec(entries):
    """``days(_ingested_at)``, ``bucket(16, id)``, ``region``... as validated SQL transform terms."""
    terms = []
    for entry in entries:
        match = _TRANSFORM.match(entry.strip())
        if not match:
            raise ValueError("--partition_columns entries must be a column or years/months/days/hours(col), "
                             "bucket(n, col) or truncate(n, col), got: %s" % entry)
        if match.group(1):
            terms.append("%s(`%s`)" % (match.group(1), match.group(2)))
        elif match.group(3):
            terms.append("%s(%s, `%s`)" % (match.group(3), match.group(4), match.group(5)))
        else:
            terms.append("`%s`" % match.group(6))
    return terms


class IcebergTable:
    """The run's view of its Iceberg table."""

    def __init__(self, spark, catalog, database, table, location, partitioning):
        self.spark = spark
        self.catalog = catalog
        self.ident = "%s.`%s`.`%s`" % (catalog, database, table)
        self.location = location
        self.partitioning = partition_spec(partitioning)

    def exists(self):
        from pyspark.sql.utils import AnalysisException

        try:
            self.spark.table(self.ident).schema
            return True
        except AnalysisException:
            return False

    def column_types(self):
        """{lower-case column name: hive type} of the table, {} if none."""
        if not self.exists():
            return {}
        return {f.name.lower(): spark_to_hive_type(f.dataType) for f in self.spark.table(self.ident).schema.fields}

    def committed_runs(self, run_ids):
        """The ids among ``run_ids`` that have a snapshot in the table."""
        run_ids = set(run_ids)
        if not run_ids or not self.exists():
            return set()
        rows = self.spark.table(self.ident + ".snapshots").selectExpr(
            "summary['%s'] AS run_id" % RUN_ID).collect()
        return {r["run_id"] for r in rows if r["run_id"] in run_ids}

    def ensure(self, schema):
        """Creates the table (returns True) or adds the columns it lacks, by name, at any depth."""
        if not self.exists():
            columns = ", ".join("`%s` %s" % (f.name, f.dataType.simpleString()) for f in schema.fields)
            partitioned = " PARTITIONED BY (%s)" % ", ".join(self.partitioning) if self.partitioning else ""
            # A path-based (hadoop) catalog places tables itself; any other gets the output location.
            path_based = self.spark.conf.get("spark.sql.catalog.%s.type" % self.catalog, "") == "hadoop"
            location = "" if path_based else " LOCATION '%s'" % self.location.rstrip("/")
            self.spark.sql(
                "CREATE TABLE IF NOT EXISTS %s (%s) USING iceberg%s%s TBLPROPERTIES ("
                "'format-version'='2', 'write.parquet.compression-codec'='snappy', "
                "'write.metadata.delete-after-commit.enabled'='true', "
                "'write.metadata.previous-versions-max'='100')"
                % (self.ident, columns, partitioned, location))
            log("created Iceberg table %s" % self.ident)
            return True
        existing = {f.name.lower(): f for f in self.spark.table(self.ident).schema.fields}
        added = [((f.name,), f.dataType) for f in schema.fields if f.name.lower() not in existing]
        for field in schema.fields:
            before = existing.get(field.name.lower())
            if before is not None:
                # A struct column gains the fields a batch added to it (Iceberg adds nested
                # columns by path: dims.depth, items.element.qty).
                added += added_nested_fields(before.dataType, field.dataType, (before.name,)) or []
        if added:
            self.spark.sql("ALTER TABLE %s ADD COLUMNS (%s)" % (self.ident, ", ".join(
                "%s %s" % (".".join("`%s`" % part.replace("`", "``") for part in path), data_type.simpleString())
                for path, data_type in added)))
            log("added columns %s to %s" % ([".".join(path) for path, _ in added], self.ident))
        return False

    def append(self, df, run_id, sources):
        """Appends the rows as one snapshot carrying the run id and its sources; returns its summary."""
        table_columns = [f.name for f in self.spark.table(self.ident).schema.fields]
        by_lower = {c.lower(): c for c in df.columns}
        from pyspark.sql import functions as F

        aligned = df.select(*[F.col("`%s`" % by_lower[c.lower()]).alias(c) if c.lower() in by_lower
                              else F.lit(None).alias(c) for c in table_columns])
        (aligned.writeTo(self.ident)
         .option("snapshot-property.%s" % RUN_ID, run_id)
         .option("snapshot-property.%s" % SOURCES, json.dumps(
             [[s["uri"], s["etag"]] for s in sources], separators=(",", ":")))
         .option("snapshot-property.%s" % SOURCE_COUNT, str(len(sources)))
         .append())
        rows = self.spark.table(self.ident + ".snapshots").where(
            "summary['%s'] = '%s'" % (RUN_ID, run_id.replace("'", ""))).collect()
        return dict(rows[-1]["summary"]) if rows else {}


def ensure_optimizers(glue, catalog_id, database, table, role_arn, optimizers, settings):
    """Turns the Data Catalog's table optimizers on for the table, with the optimizers' own role.

    Idempotent: an optimizer that exists is updated to the wanted settings.
    Returns the optimizer types it created or updated.
    """
    done = []
    for kind in optimizers:
        configuration = {"roleArn": role_arn, "enabled": True}
        if kind == "retention":
            configuration["retentionConfiguration"] = {"icebergConfiguration": {
                "snapshotRetentionPeriodInDays": int(settings["snapshot_retention_days"]),
                "numberOfSnapshotsToRetain": int(settings["snapshots_to_retain"]),
                "cleanExpiredFiles": True}}
        if kind == "orphan_file_deletion":
            configuration["orphanFileDeletionConfiguration"] = {"icebergConfiguration": {
                "orphanFileRetentionPeriodInDays": int(settings["orphan_file_retention_days"])}}
        args = {"DatabaseName": database, "TableName": table, "Type": kind,
                "TableOptimizerConfiguration": configuration}
        if catalog_id:
            args["CatalogId"] = catalog_id
        try:
            glue.create_table_optimizer(**args)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table_optimizer(**args)
        done.append(kind)
    return done

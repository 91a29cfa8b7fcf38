"""Glue Data Catalog maintenance of the output table, through boto3."""
from urllib.parse import unquote

from .schema import widens_nested


class Catalog:
    """Glue Data Catalog table maintenance through boto3."""

    SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    def __init__(self, glue, database, table, location, partition_columns):
        self.glue = glue
        self.database = database
        self.table = table
        self.location = location if location.endswith("/") else location + "/"
        self.partition_columns = list(partition_columns)

    def get_table(self):
        try:
            return self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def column_types(self):
        """{lower-case column name: hive type} of the table, {} if none."""
        table = self.get_table()
        if not table:
            return {}
        cols = table.get("StorageDescriptor", {}).get("Columns", [])
        return {c["Name"].lower(): c["Type"] for c in cols}

    def _storage_descriptor(self, columns, location):
        return {
            "Columns": columns, "Location": location,
            "InputFormat": self.INPUT, "OutputFormat": self.OUTPUT,
            "Compressed": True,
            "SerdeInfo": {"SerializationLibrary": self.SERDE,
                          "Parameters": {"serialization.format": "1"}},
        }

    def ensure_table(self, columns):
        """Create the table, or append columns it lacks and give a struct column the
        fields a batch added to it. columns: [(name, type)]; returns the names changed."""
        wanted = [{"Name": n, "Type": t} for n, t in columns
                  if n.lower() not in {p.lower() for p in self.partition_columns}]
        table = self.get_table()
        params = {"classification": "parquet", "EXTERNAL": "TRUE",
                  "parquet.compression": "SNAPPY"}
        if table is None:
            self.glue.create_table(DatabaseName=self.database, TableInput={
                "Name": self.table, "TableType": "EXTERNAL_TABLE", "Parameters": params,
                "PartitionKeys": [{"Name": p, "Type": "string"} for p in self.partition_columns],
                "StorageDescriptor": self._storage_descriptor(wanted, self.location),
            })
            return [c["Name"] for c in wanted]
        existing = table["StorageDescriptor"].get("Columns", [])
        known = {c["Name"].lower() for c in existing}
        added = [c for c in wanted if c["Name"].lower() not in known]
        new_types = {c["Name"].lower(): c["Type"] for c in wanted}
        widened = [dict(c, Type=new_types[c["Name"].lower()]) if widens_nested(
            c["Type"], new_types.get(c["Name"].lower(), c["Type"])) else c for c in existing]
        changed = [c for c, before in zip(widened, existing) if c is not before]
        if added or changed:
            sd = dict(table["StorageDescriptor"])
            sd["Columns"] = widened + added
            table_input = {k: table[k] for k in (
                "Name", "Description", "Owner", "Retention", "PartitionKeys", "TableType",
                "Parameters") if k in table}
            table_input["StorageDescriptor"] = sd
            self.glue.update_table(DatabaseName=self.database, TableInput=table_input)
        return [c["Name"] for c in changed + added]

    def add_partitions(self, partition_dirs):
        """Register partitions (relative dirs "k=v/k2=v2"); ignore existing ones."""
        table = self.get_table()
        sd_cols = table["StorageDescriptor"].get("Columns", []) if table else []
        inputs = []
        for rel in sorted(set(partition_dirs)):
            values = [unescape_partition_value(part.split("=", 1)[1]) for part in rel.split("/")]
            inputs.append({"Values": values, "StorageDescriptor": self._storage_descriptor(
                sd_cols, self.location + rel + "/")})
        created = 0
        for i in range(0, len(inputs), 100):
            resp = self.glue.batch_create_partition(
                DatabaseName=self.database, TableName=self.table,
                PartitionInputList=inputs[i:i + 100])
            errors = [e for e in resp.get("Errors", [])
                      if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
            if errors:
                raise RuntimeError("batch_create_partition failed: %s" % errors)
            created += len(inputs[i:i + 100]) - len(resp.get("Errors", []))
        return created


def unescape_partition_value(value):
    """Undo Spark's %XX escaping of partition directory values."""
    return unquote(value)

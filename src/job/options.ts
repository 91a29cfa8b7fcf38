import { Duration, Size } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { RowRule } from './row-rules';
import { Transform } from './transform';

// The options of the default job: how it reads, where it writes, what it runs on.
// Shared by `ParquetConversionJob` and `EventDrivenGlueWorkflow`.

/**
 * How the job parses the new files.
 */
export enum InputFormat {
  /** JSON Lines or a JSON array per file, optionally gzip-compressed. */
  JSON = 'JSON',
  /** CSV with a header row, optionally gzip-compressed. */
  CSV = 'CSV',
  /**
   * Decide per file: by extension (`.json`, `.jsonl`, `.ndjson` or `.csv`, each
   * optionally `.gz`), and by looking at the content when the extension says nothing.
   */
  AUTO = 'AUTO',
}

/**
 * How the default job stores the output table.
 */
export enum TableFormat {
  /** Hive-partitioned Parquet files, with columns and partitions kept in the Data Catalog. */
  PARQUET = 'PARQUET',
  /**
   * An Apache Iceberg table in the Data Catalog (the Iceberg of the Glue version): one
   * snapshot commit per run, maintained by the Data Catalog's table optimizers.
   */
  ICEBERG = 'ICEBERG',
}

/**
 * Maintenance of an Iceberg output table by the Data Catalog's table optimizers.
 *
 * The table does not exist at deploy time, so the job turns the optimizers on
 * through the Glue API right after it creates the table. They run with the
 * `IcebergOptimizerRole` and Glue bills their runs in DPU-hours.
 */
export interface IcebergMaintenance {
  /**
   * Whether the compaction optimizer merges small data files into larger ones.
   *
   * @default true
   */
  readonly compaction?: boolean;

  /**
   * Whether the snapshot retention optimizer expires old snapshots and deletes the
   * files that only they reference.
   *
   * @default true
   */
  readonly snapshotRetention?: boolean;

  /**
   * How long snapshot retention keeps a snapshot: whole days, at least 1.
   *
   * @default Duration.days(5)
   */
  readonly snapshotRetentionPeriod?: Duration;

  /**
   * How many of the latest snapshots snapshot retention always keeps, at least 1.
   *
   * @default 1
   */
  readonly snapshotsToRetain?: number;

  /**
   * Whether the orphan file deletion optimizer deletes files under the table
   * location that no snapshot references.
   *
   * @default true
   */
  readonly orphanFileDeletion?: boolean;

  /**
   * Age from which orphan file deletion removes an unreferenced file: whole days, at least 1.
   *
   * @default Duration.days(3)
   */
  readonly orphanFileRetentionPeriod?: Duration;
}

/**
 * How the default job reads CSV files. Only the options you set are passed to
 * the job; the job's defaults are the ones documented here.
 */
export interface CsvOptions {
  /**
   * The field separator, one character (a tab is `'\t'`).
   *
   * @default ','
   */
  readonly delimiter?: string;

  /**
   * The character that quotes a field holding delimiters or line breaks.
   *
   * @default '"'
   */
  readonly quote?: string;

  /**
   * The character that escapes a quote inside a quoted field. The default, the
   * quote itself, means quotes are doubled (`""`), as in RFC 4180.
   *
   * @default '"'
   */
  readonly escape?: string;

  /**
   * Whether the first line of each file holds the column names. Without it the
   * columns are named `_c0`, `_c1`, ...
   *
   * @default true
   */
  readonly header?: boolean;

  /**
   * The files' character set, as Java names it (`UTF-8`, `ISO-8859-1`, `windows-1252`, ...).
   *
   * @default 'UTF-8'
   */
  readonly encoding?: string;
}

/**
 * Options of the default Parquet conversion job, shared by
 * `ParquetConversionJob` and `EventDrivenGlueWorkflow`.
 */
export interface ParquetConversionOptions {
  /**
   * How new files are parsed.
   *
   * @default InputFormat.AUTO
   */
  readonly inputFormat?: InputFormat;

  /**
   * How CSV files are read (with `InputFormat.CSV`, or `AUTO` for the files it takes as CSV).
   *
   * @default - comma-separated, `"` quotes doubled to escape, a header line, UTF-8
   */
  readonly csvOptions?: CsvOptions;

  /**
   * Types of named columns, which the job casts to, row by row: column name to a Data
   * Catalog type, one of `boolean`, `tinyint`, `smallint`, `int`, `bigint`, `float`,
   * `double`, `decimal(p,s)`, `string`, `date` or `timestamp`. A value that does not cast
   * (`abc` as a decimal, `75.25` as a bigint) makes its row a rejected one, with the
   * reason; decimals are rounded to their scale. Declare them before the first run: a
   * table created earlier keeps its column types.
   *
   * Columns you do not declare are inferred. In CSV files a whole-number column is then a
   * `double`, so a first batch of whole amounts (75) does not lock the column to `bigint`
   * against a later 75.25; declare `bigint` for the columns that must be whole numbers.
   *
   * @default - every column inferred
   */
  readonly columnTypes?: { [column: string]: string };

  /**
   * Your cleaning of the batch's rows, after the read and before the write, in the same
   * exactly-once round: `Transform.sql(...)` or `Transform.fromPython(...)`. It must be
   * row-wise and keep `_source_file`; the rows it filters out are counted per file. With a
   * transform, the table holds the transform's output, and the job reads every batch with
   * inference (its one-pass JSON read of a known table does not apply).
   *
   * @default - no transform: the rows are written as read
   */
  readonly transform?: Transform;

  /**
   * Data quality rules every row is checked against, after the transform. A row failing a
   * REJECT rule goes to the rejected records with the rule and the failing value; a FLAG
   * rule keeps the row and names the rule in the `data_quality_issues` column.
   *
   * @default - no rules
   */
  readonly rowRules?: RowRule[];

  /**
   * Key prefix of the output, which is the table's location (and the Iceberg warehouse).
   *
   * @default 'parquet/'
   */
  readonly outputPrefix?: string;

  /**
   * How the output table is stored.
   *
   * @default TableFormat.PARQUET
   */
  readonly tableFormat?: TableFormat;

  /**
   * Which Data Catalog table optimizers maintain an Iceberg table, and how.
   * Only with `tableFormat` ICEBERG.
   *
   * @default - compaction, snapshot retention (5 days, at least 1 snapshot) and
   * orphan file deletion (after 3 days) with `tableFormat` ICEBERG
   */
  readonly icebergMaintenance?: IcebergMaintenance;

  /**
   * Key prefix for rejected records and quarantined files, each with its reason.
   *
   * @default - 'rejected/<table name>/'
   */
  readonly rejectedPrefix?: string;

  /**
   * Key prefix for the per-run statistics JSON.
   *
   * @default - 'stats/<table name>/'
   */
  readonly statsPrefix?: string;

  /**
   * Key prefix for the job's exactly-once state: commit records, staging files and
   * per-object markers. It belongs to this pipeline alone: no other pipeline's locations
   * may overlap it in the bucket (a synth error says which).
   *
   * @default - '_pipeline/<table name>/'
   */
  readonly statePrefix?: string;

  /**
   * The Data Catalog database of the output table.
   *
   * @default - a new database with a generated name
   */
  readonly database?: glue.IDatabase;

  /**
   * Name of the output table. The job creates it on its first run and keeps its
   * columns and partitions current; no crawler is needed.
   *
   * @default - the construct id, lower-cased, with other characters than a-z, 0-9 and _ replaced by _
   */
  readonly tableName?: string;

  /**
   * Partition columns of the output.
   *
   * With PARQUET, `ingest_date` is the run's date (yyyy-MM-dd) and other names
   * must be columns of the data. With ICEBERG, each entry is a column or an
   * Iceberg transform: `years(col)`, `months(col)`, `days(col)`, `hours(col)`,
   * `bucket(n, col)` or `truncate(n, col)`. Every row has the `_ingested_at` timestamp.
   *
   * @default - `['ingest_date']` with PARQUET, `['days(_ingested_at)']` with ICEBERG
   */
  readonly partitionColumns?: string[];

  /**
   * Glue worker type.
   *
   * @default glue.WorkerType.G_1X
   */
  readonly workerType?: glue.WorkerType;

  /**
   * Maximum number of workers. Auto-scaling is on, so Glue uses fewer when the batch is small.
   *
   * @default 2
   */
  readonly numberOfWorkers?: number;

  /**
   * Standard, or Flex for cheaper runs that may start later.
   *
   * @default glue.ExecutionClass.STANDARD
   */
  readonly executionClass?: glue.ExecutionClass;

  /**
   * Glue version: one the default job is proven on, 5.0, 5.1 or 6.0 (Spark 4.1; its
   * `GlueVersion.V6_0` needs aws-cdk-lib 2.272 or later). Any other is a synth error.
   *
   * @default glue.GlueVersion.V5_1
   */
  readonly glueVersion?: glue.GlueVersion;

  /**
   * Name of the Glue job.
   *
   * @default - a name generated by CloudFormation
   */
  readonly jobName?: string;

  /**
   * Maximum run time of the job. The ledger's visibility timeout is set above it.
   *
   * @default Duration.hours(1)
   */
  readonly jobTimeout?: Duration;

  /**
   * Retries of a failed job run. A retry is safe: output is committed exactly once.
   * Glue allows no retries with `jobRunQueuing`.
   *
   * @default - 1, or 0 with `jobRunQueuing`
   */
  readonly jobMaxRetries?: number;

  /**
   * Whether Glue queues a run it cannot start yet (concurrency or account limits)
   * instead of failing it with `ConcurrentRunsExceededException`. Glue allows it
   * only for standard (not Flex) runs, with `jobMaxRetries` 0.
   *
   * @default false
   */
  readonly jobRunQueuing?: boolean;

  /**
   * Upper bound on the objects a run takes from the ledger in one round. A run
   * takes rounds until the ledger is empty or `drainTimeBudget` has passed, and
   * leaves the rest to the next run.
   *
   * @default 1000
   */
  readonly maxFilesPerRun?: number;

  /**
   * Target size of each output Parquet file. A burst of small files is
   * compacted into about `inputBytes / targetFileSize` files.
   *
   * @default Size.mebibytes(128)
   */
  readonly targetFileSize?: Size;

  /**
   * How long one run keeps taking new rounds of `maxFilesPerRun` objects from the
   * ledger before it stops and leaves the rest to the next run. At least 1 minute
   * and less than `jobTimeout`, so a run ends its last round and commits in time.
   *
   * @default - half of `jobTimeout` (30 minutes with the default timeout)
   */
  readonly drainTimeBudget?: Duration;

  /**
   * Age after which the job moves a ledger message it receives to the ledger's
   * dead-letter queue, with the reason, instead of processing it. Whole seconds
   * from 1 hour to 13 days: the ledger keeps messages 14 days, so none expires unseen.
   *
   * @default Duration.days(7)
   */
  readonly ledgerMaxMessageAge?: Duration;
}

import * as path from 'path';
import { Annotations, ArnFormat, Aspects, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_LEDGER_MAX_MESSAGE_AGE, validateLedgerMaxMessageAge } from './private/ledger';
import { acknowledgeIamWildcards, PolicyStatementJson, statementIs } from './private/nag';
import { aloneWithDefaultState, defaultLocations, JobLocations, LEGACY_STATE_PREFIX, registerLocations } from './private/locations';
import { defaultTableName, pipelineNamespace } from './private/naming';
import { DEFAULT_GLUE_VERSION, validateGlueVersion } from './private/runtimes';
import { JOB_METRICS_NAMESPACE } from './private/observability';
import {
  validateIntegerAtLeast,
  validateKeyPrefix,
  validateWholeDaysAtLeast,
  validateWholeSeconds,
} from './private/validation';

/** How long a run holds the ledger messages it took before renewing them. */
const LEDGER_LEASE = Duration.minutes(10);

/** The Spark catalog name of the Iceberg table, in `--conf` and `--iceberg_catalog`. */
const ICEBERG_CATALOG = 'glue_catalog';

/** The Data Catalog's optimizer types, as `--iceberg_optimizers` names them. */
type IcebergOptimizerType = 'compaction' | 'retention' | 'orphan_file_deletion';

/** The CloudWatch Logs group each table optimizer writes to, as the Glue docs name them. */
const OPTIMIZER_LOG_GROUPS: Record<IcebergOptimizerType, string> = {
  compaction: '/aws-glue/iceberg-compaction/logs',
  retention: '/aws-glue/iceberg-retention/logs',
  orphan_file_deletion: '/aws-glue/iceberg-orphan-file-deletion/logs',
};

/** A lower-case column name, as the Data Catalog keeps it. */
const COLUMN = '[a-z_][a-z0-9_]*';
const PARQUET_PARTITION = new RegExp(`^${COLUMN}$`);
/** A column or an Iceberg partition transform, as the job's `iceberg.partition_spec` accepts them. */
const ICEBERG_PARTITION = new RegExp(`^(?:${COLUMN}|(?:years|months|days|hours)\\(\\s*${COLUMN}\\s*\\)`
  + `|(?:bucket|truncate)\\(\\s*[1-9][0-9]*\\s*,\\s*${COLUMN}\\s*\\))$`);

/** Where the PySpark job's files live inside the package. */
const GLUE_ASSETS = path.join(__dirname, '..', 'assets', 'glue');
/** The folder whose content is the job package's zip: its root holds `glue_ingest/`. */
const JOB_PACKAGE_ROOT = path.join(GLUE_ASSETS, 'python');
// Built from assets/glue/jvm by scripts/build-job-jar.sh (the first step of projen's compile).
const JOB_JVM_HELPER = path.join(GLUE_ASSETS, 'lib', 'glue-ingest-jvm.jar');

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

/**
 * Properties for `ParquetConversionJob`.
 */
export interface ParquetConversionJobProps extends ParquetConversionOptions {
  /** The bucket holding the input files and receiving every output. */
  readonly bucket: s3.IBucket;

  /**
   * Key prefix of the input files, the only prefix the job's role can read.
   *
   * @default 'incoming/'
   */
  readonly inputPrefix?: string;

  /**
   * The SQS event ledger the job drains to learn exactly which objects are new.
   *
   * @default - no ledger: the job runs only in replay mode, with `--input_files`
   */
  readonly ledgerQueue?: sqs.IQueue;

  /**
   * The ledger's dead-letter queue: the job parks messages older than
   * `ledgerMaxMessageAge` there, and the role may send to it.
   *
   * @default - no dead-letter queue is passed to the job
   */
  readonly ledgerDeadLetterQueue?: sqs.IQueue;

  /**
   * Security configuration of the job runs (S3, CloudWatch Logs and bookmark encryption).
   *
   * @default - none
   */
  readonly securityConfiguration?: glue.ISecurityConfiguration;

  /**
   * The KMS key used by the security configuration or the bucket, which the role may use.
   *
   * @default - no KMS permissions
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The job's role. The construct adds the job's permissions to it.
   *
   * @default - a new role assumed by `glue.amazonaws.com` with only the job's permissions
   */
  readonly role?: iam.IRole;

  /**
   * Maximum concurrent runs of the job. Keep it at least the workflow's: a run
   * over the limit fails with `ConcurrentRunsExceededException`, or, with
   * `jobRunQueuing` on, waits in Glue's queue instead.
   *
   * @default 1
   */
  readonly maxConcurrentRuns?: number;

  /**
   * The ledger sweep's alarm: the job sets it back to OK at the end of each run
   * (`--sweep_alarm_name`), so the next stall fires it again, and the role may do so.
   *
   * @default - no sweep alarm
   */
  readonly ledgerSweepAlarm?: cloudwatch.IAlarm;

  /**
   * The sweep alarm's threshold (`--sweep_after_seconds`), whole seconds of at least 60.
   * A run that ends with messages waiting, all younger than this, sets the alarm to
   * ALARM itself so that the next run starts at once.
   *
   * @default - no threshold: the job only sets the alarm back to OK
   */
  readonly ledgerSweepAfter?: Duration;
}

/**
 * The default job of an event-driven pipeline: a PySpark job on Glue 5.0, 5.1 or 6.0 that
 * drains the event ledger, converts exactly the new files to Parquet, keeps the
 * Data Catalog table current, quarantines bad records with their reason and
 * writes per-run statistics. Output is committed exactly once per object version.
 *
 * The job script ships inside this package and also runs on local Spark, under the
 * runtime of each Glue version it allows (5.0, 5.1, 6.0).
 *
 * @example
 * declare const bucket: s3.IBucket;
 * declare const ledger: sqs.IQueue;
 *
 * const conversion = new ParquetConversionJob(this, 'Orders', {
 *   bucket,
 *   ledgerQueue: ledger,
 *   inputPrefix: 'landing/orders/',
 *   outputPrefix: 'curated/orders/',
 *   inputFormat: InputFormat.CSV,
 *   executionClass: glue.ExecutionClass.FLEX,
 * });
 */
export class ParquetConversionJob extends Construct {
  /** The Glue job. */
  public readonly job: glue.IJob;
  /** The job's role. */
  public readonly role: iam.IRole;
  /** The Data Catalog database of the output table. */
  public readonly database: glue.IDatabase;
  /** The output table, created and evolved by the job itself. */
  public readonly table: glue.ITable;
  /** Name of the output table. */
  public readonly tableName: string;
  /** The bucket holding input and output. */
  public readonly bucket: s3.IBucket;
  /** Key prefix of the input files. */
  public readonly inputPrefix: string;
  /** Key prefix of the output (the table location). */
  public readonly outputPrefix: string;
  /** How the output table is stored. */
  public readonly tableFormat: TableFormat;
  /**
   * The role the Data Catalog's table optimizers assume to maintain the Iceberg
   * table, when `tableFormat` is ICEBERG with at least one optimizer on.
   */
  public readonly icebergOptimizerRole?: iam.IRole;
  /** Key prefix of rejected records and quarantined files. */
  public readonly rejectedPrefix: string;
  /** Key prefix of the per-run statistics. */
  public readonly statsPrefix: string;
  /** Key prefix of the job's commit records and staging area. */
  public readonly statePrefix: string;
  /** The job's maximum run time. */
  public readonly timeout: Duration;

  private readonly encryptionKey?: kms.IKey;
  /** Whether the state prefix is the default one, so the job may read the legacy state root. */
  private readonly readsLegacyState: boolean;

  constructor(scope: Construct, id: string, props: ParquetConversionJobProps) {
    super(scope, id);

    this.bucket = props.bucket;
    this.inputPrefix = props.inputPrefix ?? 'incoming/';
    this.tableName = props.tableName ?? defaultTableName(id);
    this.readsLegacyState = props.statePrefix === undefined;
    const defaults = defaultLocations(pipelineNamespace(this.tableName, id));
    this.outputPrefix = props.outputPrefix ?? defaults.outputPrefix;
    this.rejectedPrefix = props.rejectedPrefix ?? defaults.rejectedPrefix;
    this.statsPrefix = props.statsPrefix ?? defaults.statsPrefix;
    this.statePrefix = props.statePrefix ?? defaults.statePrefix;
    this.timeout = props.jobTimeout ?? Duration.hours(1);
    this.encryptionKey = props.encryptionKey;
    this.tableFormat = props.tableFormat ?? TableFormat.PARQUET;
    const iceberg = this.tableFormat === TableFormat.ICEBERG;
    const partitionColumns = props.partitionColumns ?? [iceberg ? 'days(_ingested_at)' : 'ingest_date'];

    validateKeyPrefix('inputPrefix', this.inputPrefix);
    for (const [prop, value] of Object.entries(this.outputLocations())) {
      validateKeyPrefix(prop, value);
      validateDirectoryPrefix(prop, value);
    }
    validateIntegerAtLeast('numberOfWorkers', props.numberOfWorkers, 2);
    validateIntegerAtLeast('maxFilesPerRun', props.maxFilesPerRun, 1);
    validateIntegerAtLeast('jobMaxRetries', props.jobMaxRetries, 0);
    validateJobRunQueuing(props);
    if (!props.ledgerQueue) {
      this.warnLedgerOnlyOptions(props);
    } else if (props.ledgerSweepAfter && !props.ledgerSweepAlarm) {
      Annotations.of(this).addWarningV2('cdk-event-driven-glue-workflow:noSweepAlarmIgnoresLedgerSweepAfter',
        '\'ledgerSweepAfter\' has no effect without \'ledgerSweepAlarm\': the job has no alarm to hand over through');
    }
    validateGlueVersion(props.glueVersion);
    validateColumnTypes(props.columnTypes);
    validateCsvOptions(props.csvOptions);
    if (props.csvOptions && props.inputFormat === InputFormat.JSON) {
      Annotations.of(this).addWarningV2('cdk-event-driven-glue-workflow:csvOptionsWithJson',
        '\'csvOptions\' has no effect with \'inputFormat\' JSON: the job reads no CSV. Use InputFormat.CSV or AUTO');
    }
    validatePartitionColumns(partitionColumns, this.tableFormat);
    const maintenance = resolveIcebergMaintenance(props.icebergMaintenance);
    this.warnIcebergMaintenanceOptions(props.icebergMaintenance, iceberg);
    validateLedgerMaxMessageAge(props.ledgerMaxMessageAge);
    validateDrainTimeBudget(props.drainTimeBudget, this.timeout);
    validateWholeSeconds('ledgerSweepAfter', props.ledgerSweepAfter, 60, Number.MAX_SAFE_INTEGER, 'of at least 60');

    validateTableName(this.tableName);
    registerLocations(this, {
      bucket: this.bucket,
      inputPrefix: this.inputPrefix,
      locations: this.outputLocations(),
      defaultState: props.statePrefix === undefined,
    });

    this.database = props.database ?? new glue.Database(this, 'Database', {
      description: `Tables written by the Parquet conversion job ${this.node.path}`,
    });
    this.table = glue.S3Table.fromTableArn(this, 'Table', Stack.of(this).formatArn({
      service: 'glue',
      resource: 'table',
      resourceName: `${this.database.databaseName}/${this.tableName}`,
    }));

    this.role = props.role ?? new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Least-privilege role of the Parquet conversion job',
    });
    const optimizers = iceberg ? maintenance.optimizers : [];
    if (optimizers.length > 0) {
      this.icebergOptimizerRole = this.createIcebergOptimizerRole(optimizers);
    }

    const targetFileSize = props.targetFileSize ?? Size.mebibytes(128);
    const defaultArguments: Record<string, string> = {
      '--input_format': props.inputFormat ?? InputFormat.AUTO,
      '--output_path': this.s3Url(this.outputPrefix),
      '--rejected_path': this.s3Url(this.rejectedPrefix),
      '--stats_path': this.s3Url(this.statsPrefix),
      '--state_path': this.s3Url(this.statePrefix),
      '--database_name': this.database.databaseName,
      '--table_name': this.tableName,
      // Never an empty value (Glue drops it and the job would see a bare flag): no partitions is `[]`.
      '--partition_columns': partitionColumns.length > 0 ? partitionColumns.join(',') : '[]',
      '--max_files_per_run': String(props.maxFilesPerRun ?? 1000),
      '--target_file_size_mb': String(targetFileSize.toMebibytes()),
      '--metrics_namespace': JOB_METRICS_NAMESPACE,
      '--enable-auto-scaling': 'true',
    };
    Object.assign(defaultArguments, csvArguments(props.csvOptions));
    if (props.columnTypes && Object.keys(props.columnTypes).length > 0) {
      defaultArguments['--column_types'] = Stack.of(this).toJsonString(props.columnTypes);
    }
    if (iceberg) {
      Object.assign(defaultArguments, this.icebergArguments());
    }
    if (this.icebergOptimizerRole) {
      Object.assign(defaultArguments, optimizerArguments(maintenance, this.icebergOptimizerRole, Stack.of(this).account));
    }
    if (props.ledgerQueue) {
      defaultArguments['--ledger_queue_url'] = props.ledgerQueue.queueUrl;
      // The run's lease on the messages it took, renewed by the job while it works;
      // after a crash they are visible again within this time.
      defaultArguments['--visibility_timeout_seconds'] = String(LEDGER_LEASE.toSeconds());
      defaultArguments['--ledger_max_age_seconds'] = secondsArgument(props.ledgerMaxMessageAge ?? DEFAULT_LEDGER_MAX_MESSAGE_AGE);
      const drainTimeBudget = props.drainTimeBudget ?? halfOf(this.timeout);
      if (drainTimeBudget) {
        defaultArguments['--drain_time_budget_seconds'] = secondsArgument(drainTimeBudget);
      }
    }
    if (props.ledgerQueue && props.ledgerDeadLetterQueue) {
      defaultArguments['--ledger_dlq_url'] = props.ledgerDeadLetterQueue.queueUrl;
    }
    if (props.ledgerQueue && props.ledgerSweepAlarm) {
      defaultArguments['--sweep_alarm_name'] = props.ledgerSweepAlarm.alarmName;
      if (props.ledgerSweepAfter) {
        defaultArguments['--sweep_after_seconds'] = secondsArgument(props.ledgerSweepAfter);
      }
    }

    // The job's modules ship as one zip on --extra-py-files. CDK uploads a file
    // asset as `<sha256><ext>`, and Glue puts a `.py` extra file on the path under
    // that object name, so modules shipped as `.py` files cannot be imported; a
    // zip whose root holds the package imports whatever the object is called.
    const jobPackage = new s3assets.Asset(this, 'JobPackage', {
      path: JOB_PACKAGE_ROOT,
      exclude: ['**/__pycache__', '**/*.pyc'],
    });
    const jobProps: glue.PySparkEtlJobProps = {
      role: this.role,
      jobName: props.jobName,
      description: iceberg
        ? `Converts new files under '${this.inputPrefix}' to the Iceberg table at '${this.outputPrefix}'`
        : `Converts new files under '${this.inputPrefix}' to Parquet under '${this.outputPrefix}'`,
      glueVersion: props.glueVersion ?? DEFAULT_GLUE_VERSION,
      script: glue.Code.fromAsset(path.join(GLUE_ASSETS, 'parquet_conversion_job.py')),
      extraPythonFiles: [glue.Code.fromBucket(jobPackage.bucket, jobPackage.s3ObjectKey)],
      // One static method Spark calls through `reflect`: it finds a JSON key the table
      // lacks in one scan of the line (assets/glue/jvm). Without it the job checks with
      // Spark's JSON functions, which is slower, never different.
      extraJars: [glue.Code.fromAsset(JOB_JVM_HELPER)],
      workerConfiguration: {
        workerType: props.workerType ?? glue.WorkerType.G_1X,
        numberOfWorkers: props.numberOfWorkers ?? 2,
      },
      timeout: this.timeout,
      maxRetries: props.jobMaxRetries ?? (props.jobRunQueuing ? 0 : 1),
      maxConcurrentRuns: props.maxConcurrentRuns ?? 1,
      securityConfiguration: props.securityConfiguration,
      defaultArguments,
    };
    this.job = props.executionClass === glue.ExecutionClass.FLEX
      ? new glue.PySparkFlexEtlJob(this, 'Resource', jobProps)
      : new glue.PySparkEtlJob(this, 'Resource', { ...jobProps, jobRunQueuingEnabled: props.jobRunQueuing ?? false });

    this.grantJobPermissions(props);
    if (this.readsLegacyState) {
      this.readLegacyStateWhenAlone();
    }
  }

  /**
   * Grants read access to the output: the objects under the output prefix, the
   * table's catalog entries and, when the data is KMS-encrypted, decryption with its key.
   *
   * An Iceberg table keeps its data files and its metadata (`metadata/`: table
   * metadata, manifest lists and manifests) under the table location, which is the
   * output prefix, so the same grants let a reader such as Athena or Spark read it.
   */
  public grantReadOutput(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.outputPrefix}*`)],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.outputPrefix}*`] } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resourceArns: this.catalogArns(),
    });
    // Only the bucket's own key encrypts the output; the security configuration's key
    // encrypts logs and bookmarks, which readers never see.
    this.bucket.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }

  /**
   * Before state was kept per pipeline, every default job kept it under `_pipeline/`. Once
   * the app is built, a job that is the only one on its bucket with the default layout is
   * given that root too (`--legacy_state_path`, read and repair only): a pipeline deployed
   * before keeps its markers, and the runs it left crashed are rolled back or finalized.
   * Two such jobs on one bucket shared that root, so neither reads it.
   */
  private readLegacyStateWhenAlone(): void {
    Aspects.of(this).add({
      visit: (node) => {
        if (node !== this || !aloneWithDefaultState(this, this.bucket)) {
          return;
        }
        (this.job.node.defaultChild as glue.CfnJob).addPropertyOverride(
          'DefaultArguments.--legacy_state_path', this.s3Url(LEGACY_STATE_PREFIX));
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({
          sid: 'RepairLegacyState',
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [this.bucket.arnForObjects(`${LEGACY_STATE_PREFIX}*`)],
        }));
      },
    });
  }

  /** Without a ledger the job runs in replay mode only: nothing reads these. */
  private warnLedgerOnlyOptions(props: ParquetConversionJobProps): void {
    const ledgerOnly = {
      drainTimeBudget: props.drainTimeBudget,
      ledgerMaxMessageAge: props.ledgerMaxMessageAge,
      ledgerDeadLetterQueue: props.ledgerDeadLetterQueue,
      ledgerSweepAlarm: props.ledgerSweepAlarm,
      ledgerSweepAfter: props.ledgerSweepAfter,
    };
    for (const [prop, value] of Object.entries(ledgerOnly)) {
      if (value !== undefined) {
        Annotations.of(this).addWarningV2(`cdk-event-driven-glue-workflow:noLedgerQueueIgnores${prop.charAt(0).toUpperCase()}${prop.slice(1)}`,
          `'${prop}' has no effect without 'ledgerQueue': the job then only converts the files named in --input_files`);
      }
    }
  }

  /** `icebergMaintenance` is read only with ICEBERG, and each setting only with its optimizer on. */
  private warnIcebergMaintenanceOptions(maintenance: IcebergMaintenance | undefined, iceberg: boolean): void {
    if (!maintenance) {
      return;
    }
    const warn = (id: string, message: string) => Annotations.of(this).addWarningV2(`cdk-event-driven-glue-workflow:${id}`, message);
    if (!iceberg) {
      warn('icebergMaintenanceWithParquet', '\'icebergMaintenance\' has no effect with \'tableFormat\' PARQUET: '
        + 'table optimizers maintain Iceberg tables only. Use TableFormat.ICEBERG, or drop it');
      return;
    }
    const settings: Array<[string, unknown, string, boolean | undefined]> = [
      ['snapshotRetentionPeriod', maintenance.snapshotRetentionPeriod, 'snapshotRetention', maintenance.snapshotRetention],
      ['snapshotsToRetain', maintenance.snapshotsToRetain, 'snapshotRetention', maintenance.snapshotRetention],
      ['orphanFileRetentionPeriod', maintenance.orphanFileRetentionPeriod, 'orphanFileDeletion', maintenance.orphanFileDeletion],
    ];
    for (const [setting, value, optimizer, on] of settings) {
      if (value !== undefined && on === false) {
        warn(`${optimizer}OffIgnores${setting.charAt(0).toUpperCase()}${setting.slice(1)}`,
          `'icebergMaintenance.${setting}' has no effect with 'icebergMaintenance.${optimizer}' false`);
      }
    }
  }

  /**
   * Iceberg on Glue: the runtime's Iceberg libraries, and the Spark catalog
   * `glue_catalog` backed by the Data Catalog, with the output prefix as warehouse.
   */
  private icebergArguments(): Record<string, string> {
    const catalog = `spark.sql.catalog.${ICEBERG_CATALOG}`;
    return {
      '--table_format': TableFormat.ICEBERG,
      '--datalake-formats': 'iceberg',
      '--iceberg_catalog': ICEBERG_CATALOG,
      // One argument: Glue passes chained `--conf` settings as the value of `--conf`.
      '--conf': [
        'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
        `${catalog}=org.apache.iceberg.spark.SparkCatalog`,
        `${catalog}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog`,
        `${catalog}.io-impl=org.apache.iceberg.aws.s3.S3FileIO`,
        `${catalog}.warehouse=${this.s3Url(this.outputPrefix)}`,
      ].join(' --conf '),
    };
  }

  /**
   * The role the table optimizers assume, with the permissions the Glue docs list
   * for them, scoped to this table: its location's objects, its catalog entries
   * and the optimizers' log groups. Orphan file deletion alone writes nothing.
   */
  private createIcebergOptimizerRole(optimizers: IcebergOptimizerType[]): iam.Role {
    const role = new iam.Role(this, 'IcebergOptimizerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Role of the Data Catalog table optimizers that maintain the Iceberg output table',
    });
    const writes = optimizers.some((o) => o !== 'orphan_file_deletion');
    const stack = Stack.of(this);
    const listedPrefixes = [`${this.outputPrefix}*`];
    if (!Token.isUnresolved(this.outputPrefix)) {
      // The table location is the prefix without its slash; a listing may use either form.
      listedPrefixes.push(this.outputPrefix.replace(/\/$/, ''));
    }
    const statements = [
      new iam.PolicyStatement({
        sid: 'TableLocationObjects',
        actions: writes ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'] : ['s3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${this.outputPrefix}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ListTableLocation',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': listedPrefixes } },
      }),
      new iam.PolicyStatement({
        sid: 'MaintainTableMetadata',
        actions: writes ? ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'] : ['glue:GetDatabase', 'glue:GetTable'],
        resources: this.catalogArns(),
      }),
      new iam.PolicyStatement({
        sid: 'WriteOptimizerLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: optimizers.map((o) => stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: `${OPTIMIZER_LOG_GROUPS[o]}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })),
      }),
    ];
    const key = this.bucket.encryptionKey;
    if (key) {
      statements.push(new iam.PolicyStatement({
        sid: 'UseTableDataKey',
        actions: writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        resources: [key.keyArn],
      }));
    }
    for (const statement of statements) {
      role.addToPrincipalPolicy(statement);
    }
    return role;
  }

  private grantJobPermissions(props: ParquetConversionJobProps): void {
    const ledgerQueue = props.ledgerQueue;
    // Without a ledger nothing is parked and there is no sweep to re-arm.
    const ledgerDeadLetterQueue = ledgerQueue ? props.ledgerDeadLetterQueue : undefined;
    const ledgerSweepAlarm = ledgerQueue ? props.ledgerSweepAlarm : undefined;
    const stack = Stack.of(this);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadInputPrefix',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${this.inputPrefix}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadWriteOutputLocations',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: Object.values(this.outputLocations()).map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
      new iam.PolicyStatement({
        sid: 'ListPipelineBucket',
        actions: ['s3:ListBucket'],
        // No s3:prefix condition: S3 connectors (S3A, EMRFS) probe parent "directories"
        // such as `_pipeline` or `parquet` without their trailing slash, and list with
        // prefixes outside `<prefix>*`. Listing reveals key names only, never content.
        resources: [this.bucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'MaintainOwnTable',
        // Iceberg's GlueCatalog reads the database and commits by UpdateTable; it adds no partitions.
        actions: this.tableFormat === TableFormat.ICEBERG
          ? ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']
          : ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition'],
        resources: this.catalogArns(),
      }),
      new iam.PolicyStatement({
        sid: 'WriteGlueLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: '/aws-glue/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })],
      }),
      new iam.PolicyStatement({
        sid: 'PublishGlueMetrics',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the namespace condition scopes it
        // to Glue's own job metrics and the job's row metrics.
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ['Glue', JOB_METRICS_NAMESPACE] } },
      }),
    ];
    for (const statement of statements) {
      this.role.addToPrincipalPolicy(statement);
    }
    if (ledgerQueue) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'DrainLedger',
        // GetQueueAttributes: whether messages are left when a run stops.
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        resources: [ledgerQueue.queueArn],
      }));
      if (ledgerQueue.encryptionMasterKey) {
        ledgerQueue.encryptionMasterKey.grantDecrypt(this.role);
      }
    }
    if (ledgerDeadLetterQueue) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'ParkExpiredMessages',
        actions: ['sqs:SendMessage'],
        resources: [ledgerDeadLetterQueue.queueArn],
      }));
      if (ledgerDeadLetterQueue.encryptionMasterKey) {
        ledgerDeadLetterQueue.encryptionMasterKey.grant(this.role, 'kms:Encrypt', 'kms:GenerateDataKey');
      }
    }
    if (ledgerSweepAlarm) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'ReArmLedgerSweep',
        actions: ['cloudwatch:SetAlarmState'],
        resources: [ledgerSweepAlarm.alarmArn],
      }));
    }
    if (this.icebergOptimizerRole) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'ManageTableOptimizers',
        // Data Catalog permissions are checked down the catalog, database, table hierarchy.
        actions: ['glue:CreateTableOptimizer', 'glue:UpdateTableOptimizer', 'glue:GetTableOptimizer'],
        resources: this.catalogArns(),
      }));
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'PassOptimizerRole',
        actions: ['iam:PassRole'],
        resources: [this.icebergOptimizerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'glue.amazonaws.com' } },
      }));
    }
    this.grantKey(this.role, ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']);
    this.suppressScopedWildcards();
  }

  private grantKey(grantee: iam.IGrantable, actions: string[]): void {
    const keys = [this.encryptionKey, this.bucket.encryptionKey].filter((k): k is kms.IKey => k !== undefined);
    const unique = keys.filter((key, index) => keys.indexOf(key) === index);
    if (unique.length > 0) {
      iam.Grant.addToPrincipal({ grantee, actions, resourceArns: unique.map((key) => key.keyArn) });
    }
  }

  /** Catalog, database and table ARNs: the only catalog resources the job touches. */
  private catalogArns(): string[] {
    const stack = Stack.of(this);
    return [
      stack.formatArn({ service: 'glue', resource: 'catalog' }),
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.database.databaseName }),
      stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.database.databaseName}/${this.tableName}` }),
    ];
  }

  private outputLocations(): JobLocations {
    return {
      outputPrefix: this.outputPrefix,
      rejectedPrefix: this.rejectedPrefix,
      statsPrefix: this.statsPrefix,
      statePrefix: this.statePrefix,
    };
  }

  private s3Url(prefix: string): string {
    return `s3://${this.bucket.bucketName}/${prefix}`;
  }

  /**
   * cdk-nag flags every `*` in the role's policy. The ones left are scoped, and
   * each is acknowledged with its reason; any other `*` stays a finding.
   */
  private suppressScopedWildcards(): void {
    const legacy = this.readsLegacyState ? [LEGACY_STATE_PREFIX] : [];
    const prefixes = [this.inputPrefix, ...Object.values(this.outputLocations()), ...legacy]
      .filter((p) => !Token.isUnresolved(p))
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const objects = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
    const logs = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'];
    acknowledgeIamWildcards(this, [
      {
        finding: new RegExp(`^Resource::.*/(${prefixes.join('|')})\\*$`),
        reason: 'Object ARNs end in /* only below this pipeline\'s own key prefixes: the input prefix is read-only; output, rejected, stats and state are the job\'s own.',
        statements: statementIs(['ReadInputPrefix', 'ReadWriteOutputLocations', 'RepairLegacyState', 'TableLocationObjects'], objects),
      },
      {
        finding: /^Resource::arn:<AWS::Partition>:logs:.*:log-group:\/aws-glue\/\*$/,
        reason: 'Glue writes driver and executor logs to log groups under /aws-glue/ whose names it derives per run and security configuration.',
        statements: statementIs(['WriteGlueLogs'], logs),
      },
      {
        finding: /^Resource::arn:<AWS::Partition>:logs:.*:log-group:\/aws-glue\/iceberg-(compaction|retention|orphan-file-deletion)\/logs:\*$/,
        reason: 'The Iceberg table optimizers write their run logs to streams of their own log group, as the AWS Glue docs list them; :* covers the streams.',
        statements: statementIs(['WriteOptimizerLogs'], logs),
      },
      {
        finding: /^Resource::\*$/,
        reason: 'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the Glue and EventDrivenGlueWorkflow namespaces by condition.',
        statements: statementIs(['PublishGlueMetrics'], ['cloudwatch:PutMetricData']),
      },
      {
        finding: /^Action::s3:(GetObject|GetBucket|List)\*$/,
        reason: 'Read access to the job script and modules in the CDK asset bucket, granted by the aws-glue L2 job when it binds the script asset.',
        statements: isAssetBucketRead,
      },
      {
        finding: /^Resource::arn:<AWS::Partition>:s3:::cdk-[^/]+-assets-[^/]+\/\*$/,
        reason: 'The aws-glue L2 job grants read on the CDK bootstrap asset bucket, where its script and modules are uploaded; no data lives there.',
        statements: isAssetBucketRead,
      },
    ]);
  }
}

/** The read grant the aws-glue L2 job adds for its script assets: read actions on the CDK asset bucket only. */
function isAssetBucketRead(statement: PolicyStatementJson): boolean {
  const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  return statement.Sid === undefined
    && actions.every((a) => a === 's3:GetObject*' || a === 's3:GetBucket*' || a === 's3:List*')
    && resources.every((r) => /:s3:::cdk-[^/"]+-assets-/.test(JSON.stringify(r)));
}

/** A job argument in whole seconds; a token stays a reference. */
function secondsArgument(duration: Duration): string {
  const seconds = duration.toSeconds();
  return Token.isUnresolved(seconds) ? Token.asString(seconds) : String(seconds);
}

/** Half of a duration in whole seconds, or nothing when it is a token (the job then uses its own default). */
function halfOf(duration: Duration): Duration | undefined {
  if (duration.isUnresolved()) {
    return undefined;
  }
  return Duration.seconds(Math.floor(duration.toSeconds() / 2));
}

/** A run must stop taking new rounds early enough to finish before the job times out. */
function validateDrainTimeBudget(budget: Duration | undefined, jobTimeout: Duration): void {
  if (budget === undefined || budget.isUnresolved()) {
    return;
  }
  if (jobTimeout.isUnresolved()) {
    validateWholeSeconds('drainTimeBudget', budget, 60, Number.MAX_SAFE_INTEGER, 'of at least 60');
    return;
  }
  const limit = jobTimeout.toSeconds();
  validateWholeSeconds('drainTimeBudget', budget, 60, limit - 1,
    `of at least 60 and less than 'jobTimeout' (${limit} seconds)`);
}

/** The `--csv_*` arguments of the options that are set; the job keeps its defaults for the others. */
function csvArguments(options: CsvOptions | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  if (options?.delimiter !== undefined) {
    args['--csv_delimiter'] = options.delimiter;
  }
  if (options?.quote !== undefined) {
    args['--csv_quote'] = options.quote;
  }
  if (options?.escape !== undefined) {
    args['--csv_escape'] = options.escape;
  }
  if (options?.header !== undefined) {
    args['--csv_header'] = options.header ? 'true' : 'false';
  }
  if (options?.encoding !== undefined) {
    args['--csv_encoding'] = options.encoding;
  }
  return args;
}

function validateCsvOptions(options: CsvOptions | undefined): void {
  if (!options) {
    return;
  }
  for (const name of ['delimiter', 'quote', 'escape'] as const) {
    const value = options[name];
    if (value !== undefined && !Token.isUnresolved(value) && Array.from(value).length !== 1) {
      throw new Error(`'csvOptions.${name}' must be exactly one character, got: ${JSON.stringify(value)}`);
    }
  }
  const encoding = options.encoding;
  if (encoding !== undefined && !Token.isUnresolved(encoding) && !/^[A-Za-z0-9._:-]+$/.test(encoding)) {
    throw new Error(
      `'csvOptions.encoding' must be a character set name of letters, digits and . _ : - (e.g. "UTF-8"), got: ${JSON.stringify(encoding)}`,
    );
  }
}

/** The Data Catalog types a column may be declared as: `decimal(p,s)` with 1 <= p <= 38 and s <= p. */
const DECLARABLE_TYPE = /^(?:boolean|tinyint|smallint|int|bigint|float|double|string|date|timestamp|decimal\(\s*(\d+)\s*,\s*(\d+)\s*\))$/;

function validateColumnTypes(columnTypes: { [column: string]: string } | undefined): void {
  if (!columnTypes || Token.isUnresolved(columnTypes)) {
    return;
  }
  for (const [column, type] of Object.entries(columnTypes)) {
    if (Token.isUnresolved(column) || Token.isUnresolved(type)) {
      continue;
    }
    if (column.trim() === '') {
      throw new Error(`'columnTypes' keys must be column names, got: ${JSON.stringify(column)}`);
    }
    const match = DECLARABLE_TYPE.exec(type.trim().toLowerCase());
    const decimal = match && match[1] !== undefined ? [Number(match[1]), Number(match[2])] : undefined;
    if (!match || (decimal && (decimal[0] < 1 || decimal[0] > 38 || decimal[1] > decimal[0]))) {
      throw new Error(`'columnTypes' type of ${JSON.stringify(column)} must be boolean, tinyint, smallint, int, bigint, `
        + `float, double, decimal(p,s) (1 <= p <= 38, s <= p), string, date or timestamp, got: ${JSON.stringify(type)}`);
    }
  }
}

/** Glue queues only standard runs, and only of jobs without retries. */
function validateJobRunQueuing(props: ParquetConversionJobProps): void {
  if (!props.jobRunQueuing) {
    return;
  }
  if (props.executionClass === glue.ExecutionClass.FLEX) {
    throw new Error('\'jobRunQueuing\' cannot be used with \'executionClass\' FLEX: Glue queues only standard job runs');
  }
  const retries = props.jobMaxRetries;
  if (retries !== undefined && !Token.isUnresolved(retries) && retries !== 0) {
    throw new Error(`'jobMaxRetries' must be 0 with 'jobRunQueuing' (Glue allows no retries for a job with run queuing), got: ${retries}`);
  }
}

function validateDirectoryPrefix(prop: string, value: string): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (value === '' || !value.endsWith('/')) {
    throw new Error(`'${prop}' must be a non-empty key prefix ending in '/', got: ${JSON.stringify(value)}`);
  }
}

function validateTableName(name: string): void {
  if (Token.isUnresolved(name)) {
    return;
  }
  if (!/^[a-z0-9_]{1,255}$/.test(name)) {
    throw new Error(`'tableName' must be 1 to 255 characters of a-z, 0-9 and _, got: ${JSON.stringify(name)}`);
  }
}

function validatePartitionColumns(columns: string[], format: TableFormat): void {
  for (const column of columns) {
    if (Token.isUnresolved(column)) {
      continue;
    }
    if (format === TableFormat.ICEBERG) {
      if (column === 'ingest_date') {
        throw new Error('\'partitionColumns\' entry "ingest_date" is the run date of TableFormat.PARQUET, not a column of '
          + `an Iceberg table: use "days(_ingested_at)" to partition by the day rows were ingested, got: ${JSON.stringify(columns)}`);
      }
      if (!ICEBERG_PARTITION.test(column)) {
        throw new Error('\'partitionColumns\' entries must be lower-case column names (a-z, 0-9, _) or, with TableFormat.ICEBERG, '
          + 'the transforms years(col), months(col), days(col), hours(col), bucket(n, col) or truncate(n, col) '
          + `with n a positive integer, got: ${JSON.stringify(columns)}`);
      }
    } else if (!PARQUET_PARTITION.test(column)) {
      if (ICEBERG_PARTITION.test(column)) {
        throw new Error(`'partitionColumns' entry ${JSON.stringify(column)} is an Iceberg partition transform: it needs `
          + `'tableFormat' TableFormat.ICEBERG, got: ${JSON.stringify(columns)}`);
      }
      throw new Error(`'partitionColumns' entries must be lower-case column names (a-z, 0-9, _), got: ${JSON.stringify(columns)}`);
    }
  }
}

/** The Iceberg maintenance settings with their defaults, validated. */
interface ResolvedIcebergMaintenance {
  /** The optimizers that are on, in the job's names and order. */
  readonly optimizers: IcebergOptimizerType[];
  readonly snapshotRetentionPeriod: Duration;
  readonly snapshotsToRetain: number;
  readonly orphanFileRetentionPeriod: Duration;
}

function resolveIcebergMaintenance(maintenance: IcebergMaintenance | undefined): ResolvedIcebergMaintenance {
  validateWholeDaysAtLeast('icebergMaintenance.snapshotRetentionPeriod', maintenance?.snapshotRetentionPeriod, 1);
  validateIntegerAtLeast('icebergMaintenance.snapshotsToRetain', maintenance?.snapshotsToRetain, 1);
  validateWholeDaysAtLeast('icebergMaintenance.orphanFileRetentionPeriod', maintenance?.orphanFileRetentionPeriod, 1);
  const on: Record<IcebergOptimizerType, boolean> = {
    compaction: maintenance?.compaction ?? true,
    retention: maintenance?.snapshotRetention ?? true,
    orphan_file_deletion: maintenance?.orphanFileDeletion ?? true,
  };
  return {
    optimizers: (Object.keys(on) as IcebergOptimizerType[]).filter((o) => on[o]),
    snapshotRetentionPeriod: maintenance?.snapshotRetentionPeriod ?? Duration.days(5),
    snapshotsToRetain: maintenance?.snapshotsToRetain ?? 1,
    orphanFileRetentionPeriod: maintenance?.orphanFileRetentionPeriod ?? Duration.days(3),
  };
}

/** The arguments with which the job turns the optimizers on; each setting only with its optimizer. */
function optimizerArguments(maintenance: ResolvedIcebergMaintenance, role: iam.IRole, catalogId: string): Record<string, string> {
  const args: Record<string, string> = {
    '--iceberg_optimizers': maintenance.optimizers.join(','),
    '--iceberg_optimizer_role_arn': role.roleArn,
    '--catalog_id': catalogId,
  };
  if (maintenance.optimizers.includes('retention')) {
    args['--iceberg_snapshot_retention_days'] = daysArgument(maintenance.snapshotRetentionPeriod);
    args['--iceberg_snapshots_to_retain'] = integerArgument(maintenance.snapshotsToRetain);
  }
  if (maintenance.optimizers.includes('orphan_file_deletion')) {
    args['--iceberg_orphan_file_retention_days'] = daysArgument(maintenance.orphanFileRetentionPeriod);
  }
  return args;
}

/** A job argument in whole days; a token stays a reference. */
function daysArgument(duration: Duration): string {
  return integerArgument(duration.toDays());
}

/** A number as a job argument; a token stays a reference. */
function integerArgument(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

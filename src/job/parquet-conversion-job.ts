import * as path from 'path';
import { Annotations, Aspects, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { jobArguments } from './arguments';
import { createIcebergOptimizerRole, resolveIcebergMaintenance, warnIcebergMaintenanceOptions } from './iceberg-maintenance';
import { InputFormat, ParquetConversionOptions, TableFormat } from './options';
import { catalogArns, grantJobPermissions } from './permissions';
import {
  validateColumnTypes,
  validateCsvOptions,
  validateDirectoryPrefix,
  validateDrainTimeBudget,
  validateJobRunQueuing,
  validatePartitionColumns,
  validateRowRules,
  validateTableName,
} from './validation';
import { validateLedgerMaxMessageAge } from '../private/ledger';
import { aloneWithDefaultState, defaultLocations, JobLocations, LEGACY_STATE_PREFIX, registerLocations } from '../private/locations';
import { defaultTableName, pipelineNamespace } from '../private/naming';
import { DEFAULT_GLUE_VERSION, validateGlueVersion } from '../private/runtimes';
import {
  validateIntegerAtLeast,
  validateKeyPrefix,
  validateWholeSeconds,
} from '../private/validation';

/** Where the PySpark job's files live inside the package. */
const GLUE_ASSETS = path.join(__dirname, '..', '..', 'assets', 'glue');
/** The folder whose content is the job package's zip: its root holds `glue_ingest/`. */
const JOB_PACKAGE_ROOT = path.join(GLUE_ASSETS, 'python');
// Built from assets/glue/jvm by scripts/build-job-jar.sh (the first step of projen's compile).
const JOB_JVM_HELPER = path.join(GLUE_ASSETS, 'lib', 'glue-ingest-jvm.jar');

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
    warnIcebergMaintenanceOptions(this, props.icebergMaintenance, iceberg);
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
      this.icebergOptimizerRole = createIcebergOptimizerRole(this, optimizers, {
        bucket: this.bucket, outputPrefix: this.outputPrefix, catalogArns: this.catalogArns(),
      });
    }

    const defaultArguments = jobArguments(this, props, {
      s3Url: (prefix) => this.s3Url(prefix),
      locations: this.outputLocations(),
      databaseName: this.database.databaseName,
      tableName: this.tableName,
      partitionColumns,
      tableFormat: this.tableFormat,
      timeout: this.timeout,
      maintenance,
      optimizerRole: this.icebergOptimizerRole,
      ledgerQueue: props.ledgerQueue,
      ledgerDeadLetterQueue: props.ledgerDeadLetterQueue,
      ledgerSweepAlarm: props.ledgerSweepAlarm,
      ledgerSweepAfter: props.ledgerSweepAfter,
    });

    const transform = props.transform?._bind(this);
    Object.assign(defaultArguments, transform?.arguments ?? {});
    validateRowRules(props.rowRules);

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
      extraPythonFiles: [glue.Code.fromBucket(jobPackage.bucket, jobPackage.s3ObjectKey),
        ...(transform?.code ? [glue.Code.fromBucket(transform.code.bucket, transform.code.s3ObjectKey)] : [])],
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

    grantJobPermissions(this, {
      role: this.role,
      bucket: this.bucket,
      inputPrefix: this.inputPrefix,
      locations: this.outputLocations(),
      tableFormat: this.tableFormat,
      catalogArns: this.catalogArns(),
      optimizerRole: this.icebergOptimizerRole,
      encryptionKey: props.encryptionKey,
      readsLegacyState: this.readsLegacyState,
      ledgerQueue: props.ledgerQueue,
      ledgerDeadLetterQueue: props.ledgerDeadLetterQueue,
      ledgerSweepAlarm: props.ledgerSweepAlarm,
    });
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

  /** Catalog, database and table ARNs of the output table. */
  private catalogArns(): string[] {
    return catalogArns(this, this.database.databaseName, this.tableName);
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
}

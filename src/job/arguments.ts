import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { ResolvedIcebergMaintenance } from './iceberg-maintenance';
import { CsvOptions, InputFormat, ParquetConversionOptions, TableFormat } from './options';
import { JobLocations } from '../private/locations';
import { DEFAULT_LEDGER_MAX_MESSAGE_AGE } from '../private/ledger';
import { JOB_METRICS_NAMESPACE } from '../private/observability';

// How the default job's props become its Glue job arguments (`DefaultArguments`): the
// job's whole configuration, read by glue_ingest/args.py.

/** How long a run holds the ledger messages it took before renewing them. */
export const LEDGER_LEASE = Duration.minutes(10);

/** The Spark catalog name of the Iceberg table, in `--conf` and `--iceberg_catalog`. */
export const ICEBERG_CATALOG = 'glue_catalog';

/** What the job's arguments are made of besides its options. */
export interface JobArgumentsInput {
  /** `s3://<bucket>/<prefix>` of a prefix of the job's bucket. */
  readonly s3Url: (prefix: string) => string;
  readonly locations: JobLocations;
  readonly databaseName: string;
  readonly tableName: string;
  readonly partitionColumns: string[];
  readonly tableFormat: TableFormat;
  readonly timeout: Duration;
  readonly maintenance: ResolvedIcebergMaintenance;
  readonly optimizerRole?: iam.IRole;
  readonly ledgerQueue?: sqs.IQueue;
  readonly ledgerDeadLetterQueue?: sqs.IQueue;
  readonly ledgerSweepAlarm?: cloudwatch.IAlarm;
  readonly ledgerSweepAfter?: Duration;
}

/** The job's `DefaultArguments`. */
export function jobArguments(scope: IConstruct, options: ParquetConversionOptions, input: JobArgumentsInput): Record<string, string> {
  const { locations, partitionColumns } = input;
  const targetFileSize = options.targetFileSize ?? Size.mebibytes(128);
  const args: Record<string, string> = {
    '--input_format': options.inputFormat ?? InputFormat.AUTO,
    '--output_path': input.s3Url(locations.outputPrefix),
    '--rejected_path': input.s3Url(locations.rejectedPrefix),
    '--stats_path': input.s3Url(locations.statsPrefix),
    '--state_path': input.s3Url(locations.statePrefix),
    '--database_name': input.databaseName,
    '--table_name': input.tableName,
    // Never an empty value (Glue drops it and the job would see a bare flag): no partitions is `[]`.
    '--partition_columns': partitionColumns.length > 0 ? partitionColumns.join(',') : '[]',
    '--max_files_per_run': String(options.maxFilesPerRun ?? 1000),
    '--target_file_size_mb': String(targetFileSize.toMebibytes()),
    '--metrics_namespace': JOB_METRICS_NAMESPACE,
    '--enable-auto-scaling': 'true',
  };
  Object.assign(args, csvArguments(options.csvOptions));
  if (options.columnTypes && Object.keys(options.columnTypes).length > 0) {
    args['--column_types'] = Stack.of(scope).toJsonString(options.columnTypes);
  }
  if (options.rowRules && options.rowRules.length > 0) {
    args['--row_rules'] = Stack.of(scope).toJsonString(options.rowRules.map((rule) => rule._render()));
  }
  if (input.tableFormat === TableFormat.ICEBERG) {
    Object.assign(args, icebergArguments(input.s3Url(locations.outputPrefix)));
  }
  if (input.optimizerRole) {
    Object.assign(args, optimizerArguments(input.maintenance, input.optimizerRole, Stack.of(scope).account));
  }
  const ledgerQueue = input.ledgerQueue;
  if (ledgerQueue) {
    args['--ledger_queue_url'] = ledgerQueue.queueUrl;
    // The run's lease on the messages it took, renewed by the job while it works;
    // after a crash they are visible again within this time.
    args['--visibility_timeout_seconds'] = String(LEDGER_LEASE.toSeconds());
    args['--ledger_max_age_seconds'] = secondsArgument(options.ledgerMaxMessageAge ?? DEFAULT_LEDGER_MAX_MESSAGE_AGE);
    const drainTimeBudget = options.drainTimeBudget ?? halfOf(input.timeout);
    if (drainTimeBudget) {
      args['--drain_time_budget_seconds'] = secondsArgument(drainTimeBudget);
    }
  }
  if (ledgerQueue && input.ledgerDeadLetterQueue) {
    args['--ledger_dlq_url'] = input.ledgerDeadLetterQueue.queueUrl;
  }
  if (ledgerQueue && input.ledgerSweepAlarm) {
    args['--sweep_alarm_name'] = input.ledgerSweepAlarm.alarmName;
    if (input.ledgerSweepAfter) {
      args['--sweep_after_seconds'] = secondsArgument(input.ledgerSweepAfter);
    }
  }
  return args;
}

/**
 * Iceberg on Glue: the runtime's Iceberg libraries, and the Spark catalog
 * `glue_catalog` backed by the Data Catalog, with the output prefix as warehouse.
 */
export function icebergArguments(warehouse: string): Record<string, string> {
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
      `${catalog}.warehouse=${warehouse}`,
    ].join(' --conf '),
  };
}

/** A job argument in whole seconds; a token stays a reference. */
export function secondsArgument(duration: Duration): string {
  const seconds = duration.toSeconds();
  return Token.isUnresolved(seconds) ? Token.asString(seconds) : String(seconds);
}

/** Half of a duration in whole seconds, or nothing when it is a token (the job then uses its own default). */
export function halfOf(duration: Duration): Duration | undefined {
  if (duration.isUnresolved()) {
    return undefined;
  }
  return Duration.seconds(Math.floor(duration.toSeconds() / 2));
}

/** The `--csv_*` arguments of the options that are set; the job keeps its defaults for the others. */
export function csvArguments(options: CsvOptions | undefined): Record<string, string> {
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

/** The arguments with which the job turns the optimizers on; each setting only with its optimizer. */
export function optimizerArguments(maintenance: ResolvedIcebergMaintenance, role: iam.IRole, catalogId: string): Record<string, string> {
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
export function daysArgument(duration: Duration): string {
  return integerArgument(duration.toDays());
}

/** A number as a job argument; a token stays a reference. */
export function integerArgument(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

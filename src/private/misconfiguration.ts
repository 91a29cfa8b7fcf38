import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { InputFormat, ParquetConversionOptions } from '../job/options';

/**
 * Synth-time warnings for props that would be silently ignored or work against
 * each other. Each names the prop and says why; the ids let a user acknowledge one
 * (`Annotations.of(scope).acknowledgeWarning(id)`).
 */

const ID = 'cdk-event-driven-glue-workflow';

/**
 * Every default-job option, and whether only the default job reads it. The type
 * makes a new option a compile error here until it is classified.
 */
const DEFAULT_JOB_ONLY: Record<keyof ParquetConversionOptions, boolean> = {
  inputFormat: true,
  csvOptions: true,
  columnTypes: true,
  transform: true,
  rowRules: true,
  outputPrefix: true,
  rejectedPrefix: true,
  statsPrefix: true,
  statePrefix: true,
  database: true,
  tableName: true,
  partitionColumns: true,
  tableFormat: true,
  icebergMaintenance: true,
  workerType: true,
  numberOfWorkers: true,
  executionClass: true,
  glueVersion: true,
  jobName: true,
  // Also sets the ledger's visibility timeout and the stuck-ledger alarm: checked below.
  jobTimeout: false,
  jobMaxRetries: true,
  jobRunQueuing: true,
  maxFilesPerRun: true,
  targetFileSize: true,
  drainTimeBudget: true,
  ledgerMaxMessageAge: true,
};

/** Props of the bucket the construct creates; nothing reads them for your own bucket. */
const CREATED_BUCKET_ONLY = ['bucketEncryption', 'serverAccessLogs', 'versioned'] as const;

/** Props of the event ledger; nothing reads them without it. */
const LEDGER_ONLY = ['ledgerMaxReceiveCount', 'ledgerSweep', 'ledgerSweepAfter', 'ledgerSweepReArmInterval'] as const;

/** Props of the ledger sweep; nothing reads them with `ledgerSweep` false. */
const SWEEP_ONLY = ['ledgerSweepAfter', 'ledgerSweepReArmInterval'] as const;

/** Suffixes that say which format a file is in, as the default job reads them. */
const JSON_SUFFIXES = ['.json', '.jsonl', '.ndjson'].flatMap((s) => [s, `${s}.gz`]);
const CSV_SUFFIXES = ['.csv', '.csv.gz'];

/** The pipeline props the checks read by name: the default job's options, and the pipeline's own ones below. */
type PipelinePropName = keyof ParquetConversionOptions | typeof CREATED_BUCKET_ONLY[number] | typeof LEDGER_ONLY[number]
  | 'jobTimeout' | 'rejectedRowsAlarmThreshold' | 'encryptionKey' | 'alarmTopic' | 'inputSuffixes' | 'inputPrefix'
  | 'bucket';

/** The props of a pipeline as the checks see them (an `EventDrivenGlueWorkflowProps` is one). */
export type CheckedProps = ParquetConversionOptions & { readonly [prop in PipelinePropName]?: unknown } & {
  readonly inputPrefix?: string;
  readonly inputSuffixes?: string[];
};

/** What the pipeline decided, which the checks need. */
export interface PipelineShape {
  readonly useDefaultJob: boolean;
  readonly useLedger: boolean;
  readonly sweep: boolean;
  readonly alarms: boolean;
  /** Whether a bucket the construct creates is encrypted with `encryptionKey`. */
  readonly bucketUsesKey: boolean;
  readonly batchWindow: Duration;
  readonly sweepAfter?: Duration;
}

/** Warns about every prop that has no effect, or works against another, in this pipeline. */
export function warnAboutMisconfiguration(scope: Construct, props: CheckedProps, shape: PipelineShape): void {
  const warn = (id: string, message: string) => Annotations.of(scope).addWarningV2(`${ID}:${id}`, message);
  const isSet = (prop: PipelinePropName) => props[prop] !== undefined;

  if (!shape.useDefaultJob) {
    for (const [prop, only] of Object.entries(DEFAULT_JOB_ONLY)) {
      if (only && isSet(prop as keyof ParquetConversionOptions)) {
        warn(`ownJobIgnores${capitalize(prop)}`,
          `'${prop}' has no effect with your own 'job': only the default ParquetConversionJob uses it`);
      }
    }
    if (isSet('jobTimeout') && !shape.useLedger) {
      warn('ownJobIgnoresJobTimeout', '\'jobTimeout\' has no effect with your own \'job\' and no event ledger: '
        + 'only the default ParquetConversionJob and the ledger\'s visibility timeout use it');
    }
    if (isSet('rejectedRowsAlarmThreshold')) {
      warn('ownJobIgnoresRejectedRowsAlarmThreshold', '\'rejectedRowsAlarmThreshold\' has no effect with your own \'job\': '
        + 'only the default ParquetConversionJob publishes the RejectedRowsPercent metric');
    }
    if (isSet('encryptionKey') && !shape.bucketUsesKey) {
      warn('encryptionKeyUnused', '\'encryptionKey\' has no effect here: only the default ParquetConversionJob '
        + 'and a bucket the construct creates with \'bucketEncryption\' KMS use it');
    }
  }

  if (props.bucket) {
    for (const prop of CREATED_BUCKET_ONLY) {
      if (isSet(prop)) {
        warn(`ownBucketIgnores${capitalize(prop)}`,
          `'${prop}' has no effect with your own 'bucket': it configures only a bucket the construct creates`);
      }
    }
  }

  if (!shape.useLedger) {
    for (const prop of LEDGER_ONLY) {
      if (isSet(prop)) {
        warn(`noLedgerIgnores${capitalize(prop)}`,
          `'${prop}' has no effect without the event ledger: it is off with your own 'job' unless 'eventLedger' is true`);
      }
    }
  } else if (!shape.sweep) {
    for (const prop of SWEEP_ONLY) {
      if (isSet(prop)) {
        warn(`sweepOffIgnores${capitalize(prop)}`, `'${prop}' has no effect with 'ledgerSweep' false`);
      }
    }
  }
  if (shape.sweep && shape.sweepAfter && isSet('ledgerSweepAfter')) {
    warnSweepBeforeBatchWindow(warn, shape.sweepAfter, shape.batchWindow);
  }

  if (!shape.alarms) {
    if (isSet('alarmTopic')) {
      warn('alarmTopicWithoutAlarms', '\'alarmTopic\' has no effect with \'alarms\' false: no alarm is created to notify it');
    }
    if (shape.useDefaultJob && isSet('rejectedRowsAlarmThreshold')) {
      warn('alarmsOffIgnoresRejectedRowsAlarmThreshold',
        '\'rejectedRowsAlarmThreshold\' has no effect with \'alarms\' false: no alarm is created');
    }
  }

  if (shape.useDefaultJob) {
    warnInputFormatAgainstSuffixes(warn, props.inputFormat, props.inputSuffixes);
  }
  warnPrefixWithoutSlash(warn, props.inputPrefix);
}

type Warn = (id: string, message: string) => void;

/** An explicit format that contradicts a suffix the rule lets through. */
function warnInputFormatAgainstSuffixes(warn: Warn, format: InputFormat | undefined, suffixes: string[] | undefined): void {
  if (format === undefined || format === InputFormat.AUTO || suffixes === undefined || Token.isUnresolved(suffixes)) {
    return;
  }
  const other = format === InputFormat.JSON ? CSV_SUFFIXES : JSON_SUFFIXES;
  const conflicting = suffixes.filter((s) => !Token.isUnresolved(s) && other.includes(s.toLowerCase()));
  if (conflicting.length === 0) {
    return;
  }
  warn('inputFormatContradictsSuffixes',
    `'inputFormat' is ${format} but 'inputSuffixes' has ${conflicting.map((s) => JSON.stringify(s)).join(', ')}: `
    + `those files would be parsed as ${format}. Use InputFormat.AUTO to decide per file, or drop those suffixes`);
}

/** `data/raw` also matches `data/raw-old/...`: almost always a missing slash. */
function warnPrefixWithoutSlash(warn: Warn, prefix: string | undefined): void {
  if (prefix === undefined || prefix === '' || Token.isUnresolved(prefix) || prefix.endsWith('/')) {
    return;
  }
  warn('inputPrefixWithoutSlash',
    `'inputPrefix' (${JSON.stringify(prefix)}) does not end in '/': it also matches keys such as `
    + `${JSON.stringify(`${prefix}-old/file.json`)}. End it with '/' to match one folder only`);
}

/** A sweep sooner than the batch window would notify the workflow while a batch is still filling. */
function warnSweepBeforeBatchWindow(warn: Warn, sweepAfter: Duration, batchWindow: Duration): void {
  if (sweepAfter.isUnresolved() || batchWindow.isUnresolved()) {
    return;
  }
  const after = sweepAfter.toSeconds();
  const window = batchWindow.toSeconds();
  if (after < window) {
    warn('sweepBeforeBatchWindow',
      `'ledgerSweepAfter' (${after} seconds) is shorter than 'batchWindow' (${window} seconds): `
      + 'the sweep would notify the workflow while a batch is still filling. Use at least the batch window');
  }
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The pipeline's own checks and timings: single props against their allowed values, the
 * ledger the default job needs, the sweep's threshold, the stuck-ledger alarm's, and the
 * warning for an imported key.
 */
import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_LEDGER_MAX_MESSAGE_AGE,
  MAX_LEDGER_MAX_MESSAGE_AGE,
  MAX_VISIBILITY_TIMEOUT,
  validateLedgerMaxMessageAge,
  validateSweepReArmInterval,
} from './ledger';
import {
  validateIntegerAtLeast,
  validateIntegerRange,
  validateKeyPrefix,
  validatePercentage,
  validateSuffixes,
  validateWholeSeconds,
} from './validation';
import { EventDrivenGlueWorkflowProps } from '../event-driven-glue-workflow-options';

/** Glue's limits for an EVENT trigger's `EventBatchingCondition`. */
export const MAX_BATCH_SIZE = 100;
export const MAX_BATCH_WINDOW_SECONDS = 900;
/** The default sweep waits this long past the batch window. */
const SWEEP_MARGIN = Duration.minutes(15);

/** The id of the warning about an imported `encryptionKey`, for `Annotations.acknowledgeWarning`. */
const IMPORTED_KEY_WARNING = 'cdk-event-driven-glue-workflow:importedKeyNeedsLogsStatement';

/**
 * CloudWatch Logs encrypts the job's log groups with the security configuration's key only if
 * the key policy lets it; the construct cannot change the policy of a key it did not create.
 */
export function warnImportedKeyNeedsLogsStatement(scope: Construct, stack: Stack): void {
  const region = Token.isUnresolved(stack.region) ? '<region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<account>' : stack.account;
  const statement = {
    Effect: 'Allow',
    Principal: { Service: `logs.${region}.amazonaws.com` },
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    Resource: '*',
    Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${account}:log-group:/aws-glue/*` } },
  };
  Annotations.of(scope).addWarningV2(IMPORTED_KEY_WARNING,
    'The \'encryptionKey\' is imported, so the construct cannot add to its key policy the statement CloudWatch Logs '
    + 'needs to encrypt the job\'s log groups with it (the security configuration\'s continuous logging); without '
    + `it the job's first run fails to write its logs. Add this statement to the key policy: ${JSON.stringify(statement)}. `
    + `Then acknowledge this warning: Annotations.of(pipeline).acknowledgeWarning('${IMPORTED_KEY_WARNING}')`);
}

/** The checks of single props; the ones that combine props follow once the pipeline's shape is known. */
export function validateProps(props: EventDrivenGlueWorkflowProps): void {
  validateKeyPrefix('inputPrefix', props.inputPrefix);
  validateSuffixes('inputSuffixes', props.inputSuffixes);
  validateIntegerRange('batchSize', props.batchSize, 1, MAX_BATCH_SIZE);
  validateWholeSeconds('batchWindow', props.batchWindow, 1, MAX_BATCH_WINDOW_SECONDS);
  validateIntegerAtLeast('maxConcurrentRuns', props.maxConcurrentRuns, 1);
  validateIntegerRange('ledgerMaxReceiveCount', props.ledgerMaxReceiveCount, 1, 1000);
  validateIntegerRange('eventRetryAttempts', props.eventRetryAttempts, 0, 185);
  validateLedgerMaxMessageAge(props.ledgerMaxMessageAge);
  validateSweepReArmInterval(props.ledgerSweepReArmInterval);
  validatePercentage('rejectedRowsAlarmThreshold', props.rejectedRowsAlarmThreshold);
}

/** The default job learns which files are new only from the ledger. */
export function validateLedgerForDefaultJob(useLedger: boolean): void {
  if (!useLedger) {
    throw new Error('\'eventLedger\' cannot be false with the default job: the ParquetConversionJob learns which files '
      + 'are new only from the ledger, so nothing would ever be converted. Keep the ledger, or bring your own \'job\'');
  }
}

/** The sweep's threshold: by default a batch window plus 15 minutes, so it never races a scheduled run. */
export function ledgerSweepAfter(props: EventDrivenGlueWorkflowProps, batchWindow: Duration): Duration {
  const maxAge = props.ledgerMaxMessageAge ?? DEFAULT_LEDGER_MAX_MESSAGE_AGE;
  const maxSeconds = maxAge.isUnresolved() ? MAX_LEDGER_MAX_MESSAGE_AGE.toSeconds() : maxAge.toSeconds();
  validateWholeSeconds('ledgerSweepAfter', props.ledgerSweepAfter, 60, maxSeconds,
    `between 60 and 'ledgerMaxMessageAge' (${maxSeconds} seconds)`);
  if (props.ledgerSweepAfter) {
    return props.ledgerSweepAfter;
  }
  const windowSeconds = batchWindow.isUnresolved() ? MAX_BATCH_WINDOW_SECONDS : batchWindow.toSeconds();
  return Duration.seconds(windowSeconds + SWEEP_MARGIN.toSeconds());
}

/** A new object waiting longer than the batch window plus a whole job run means nothing drains the ledger. */
export function ledgerStuckAfterSeconds(batchWindow: Duration, jobTimeout: Duration): number {
  if (batchWindow.isUnresolved() || jobTimeout.isUnresolved()) {
    return MAX_BATCH_WINDOW_SECONDS + MAX_VISIBILITY_TIMEOUT.toSeconds();
  }
  return batchWindow.toSeconds() + jobTimeout.toSeconds();
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRules } from './nag';
import { validateWholeSeconds } from './validation';

/** Every queue of the pipeline keeps messages as long as SQS allows. */
export const QUEUE_RETENTION = Duration.days(14);
/** SQS caps a visibility timeout at 12 hours; the ledger's must exceed the job timeout. */
export const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);
const VISIBILITY_MARGIN = Duration.minutes(5);
/** Ledger messages older than this are parked in the ledger's dead-letter queue by the job. */
export const DEFAULT_LEDGER_MAX_MESSAGE_AGE = Duration.days(7);
/** Bounds of `ledgerMaxMessageAge`: the ledger keeps messages 14 days, so the job must act before. */
export const MIN_LEDGER_MAX_MESSAGE_AGE = Duration.hours(1);
export const MAX_LEDGER_MAX_MESSAGE_AGE = Duration.days(13);

/** Throws unless `ledgerMaxMessageAge` is whole seconds from 1 hour to 13 days. */
export function validateLedgerMaxMessageAge(value: Duration | undefined): void {
  const min = MIN_LEDGER_MAX_MESSAGE_AGE.toSeconds();
  const max = MAX_LEDGER_MAX_MESSAGE_AGE.toSeconds();
  validateWholeSeconds('ledgerMaxMessageAge', value, min, max,
    `between ${min} (1 hour) and ${max} (13 days, under the ledger's 14-day retention)`);
}

/** An SSE-SQS encrypted, SSL-only queue with the longest retention. */
export function createEncryptedQueue(scope: Construct, id: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: QUEUE_RETENTION,
    ...props,
  });
}

/** Options of the event ledger. */
export interface EventLedgerProps {
  /** The job's maximum run time; a received message stays invisible longer than that. */
  readonly jobTimeout: Duration;
  /** Receives before a message moves to the ledger's dead-letter queue. */
  readonly maxReceiveCount?: number;
  /** Age of the oldest message at which the sweep alarm fires; no sweep without it. */
  readonly sweepAfter?: Duration;
}

/**
 * The SQS event ledger: the exact keys of new objects, drained by the job.
 *
 * Not a construct of its own: its queues are created in the pipeline's scope,
 * so their ids (`LedgerQueue`, `LedgerDeadLetterQueue`) stay what they always were.
 */
export class EventLedger {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /**
   * The sweep: goes to ALARM when the oldest message is `sweepAfter` old, which
   * happens only when no run drains the ledger (no new upload, a lost notification).
   * The job sets it back to OK after each run, so the next stall fires again.
   */
  public readonly sweepAlarm?: cloudwatch.Alarm;

  constructor(private readonly scope: Construct, props: EventLedgerProps) {
    this.deadLetterQueue = createEncryptedQueue(scope, 'LedgerDeadLetterQueue');
    acknowledgeRules(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is the event ledger\'s dead-letter queue; it needs no dead-letter queue of its own.',
    });
    this.queue = createEncryptedQueue(scope, 'LedgerQueue', {
      visibilityTimeout: ledgerVisibilityTimeout(props.jobTimeout),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });
    if (props.sweepAfter) {
      this.sweepAlarm = this.queue.metricApproximateAgeOfOldestMessage({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }).createAlarm(scope, 'LedgerSweepAlarm', {
        threshold: props.sweepAfter.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'Ledger messages are waiting and no run is draining them: the LedgerSweepRule '
          + 'notifies the workflow. A mechanism, not a page; the job sets it back to OK after each run.',
      });
    }
  }

  /**
   * The rule `LedgerSweepRule` that sends the sweep alarm's changes to ALARM to
   * `target` (the workflow), so a run starts without any new upload.
   */
  public addSweepTarget(target: events.IRuleTarget): events.Rule | undefined {
    if (!this.sweepAlarm) {
      return undefined;
    }
    return new events.Rule(this.scope, 'LedgerSweepRule', {
      description: 'Starts a workflow run when ledger messages wait longer than the sweep threshold',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: [this.sweepAlarm.alarmArn],
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [target],
    });
  }
}

/** Job timeout plus a margin, so a run's messages never reappear while it may still be running. */
function ledgerVisibilityTimeout(jobTimeout: Duration): Duration {
  if (jobTimeout.isUnresolved()) {
    return MAX_VISIBILITY_TIMEOUT;
  }
  const seconds = jobTimeout.toSeconds() + VISIBILITY_MARGIN.toSeconds();
  const max = MAX_VISIBILITY_TIMEOUT.toSeconds() - VISIBILITY_MARGIN.toSeconds();
  if (seconds > MAX_VISIBILITY_TIMEOUT.toSeconds()) {
    throw new Error(
      `'jobTimeout' must be at most ${max / 60} minutes with the event ledger (its visibility timeout must exceed the job timeout, and SQS allows 12 hours), got: ${jobTimeout.toMinutes({ integral: false })} minutes`,
    );
  }
  return Duration.seconds(seconds);
}

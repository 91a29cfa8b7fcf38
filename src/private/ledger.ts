import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRules } from './nag';

/** Every queue of the pipeline keeps messages as long as SQS allows. */
export const QUEUE_RETENTION = Duration.days(14);
/** SQS caps a visibility timeout at 12 hours; the ledger's must exceed the job timeout. */
export const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);
const VISIBILITY_MARGIN = Duration.minutes(5);

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

  constructor(scope: Construct, props: EventLedgerProps) {
    this.deadLetterQueue = createEncryptedQueue(scope, 'LedgerDeadLetterQueue');
    acknowledgeRules(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is the event ledger\'s dead-letter queue; it needs no dead-letter queue of its own.',
    });
    this.queue = createEncryptedQueue(scope, 'LedgerQueue', {
      visibilityTimeout: ledgerVisibilityTimeout(props.jobTimeout),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
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

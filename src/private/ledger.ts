import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRules } from './nag';
import { validateWholeMinutes, validateWholeSeconds } from './validation';

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

/** How often the sweep alarm is set back to OK by EventBridge Scheduler, and its bounds. */
export const DEFAULT_SWEEP_RE_ARM_INTERVAL = Duration.hours(1);
const MIN_SWEEP_RE_ARM_MINUTES = 5;
const MAX_SWEEP_RE_ARM_MINUTES = 24 * 60;

/** Throws unless `ledgerSweepReArmInterval` is whole minutes from 5 minutes to 1 day. */
export function validateSweepReArmInterval(value: Duration | undefined): void {
  validateWholeMinutes('ledgerSweepReArmInterval', value, MIN_SWEEP_RE_ARM_MINUTES, MAX_SWEEP_RE_ARM_MINUTES,
    `between ${MIN_SWEEP_RE_ARM_MINUTES} and ${MAX_SWEEP_RE_ARM_MINUTES} (1 day)`);
}

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

  /**
   * The schedule `LedgerSweepReArm` that sets the sweep alarm to OK every
   * `interval`, with its own role `LedgerSweepReArmRole` allowed only that.
   *
   * An alarm notifies only on a change of state: if the notification of a stall
   * is lost, the alarm stays in ALARM and never notifies again. OK on an alarm that
   * is OK changes nothing; on an alarm in ALARM, CloudWatch's next evaluation turns
   * it back to ALARM, a new notification, while the oldest message is still old.
   */
  public addReArmSchedule(interval: Duration): scheduler.Schedule | undefined {
    if (!this.sweepAlarm) {
      return undefined;
    }
    const stack = Stack.of(this.scope);
    const role = new iam.Role(this.scope, 'LedgerSweepReArmRole', {
      description: 'Lets EventBridge Scheduler set the ledger sweep alarm back to OK',
      // Scheduler's confused-deputy guard: only schedules of this account's default group.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    return new scheduler.Schedule(this.scope, 'LedgerSweepReArm', {
      description: 'Sets the ledger sweep alarm back to OK, so a stall whose notification was lost notifies again',
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.Universal({
        service: 'cloudwatch',
        action: 'setAlarmState',
        role,
        input: scheduler.ScheduleTargetInput.fromObject({
          AlarmName: this.sweepAlarm.alarmName,
          StateValue: 'OK',
          StateReason: 'Periodic re-arm of the ledger sweep',
        }),
        policyStatements: [new iam.PolicyStatement({
          sid: 'ReArmLedgerSweep',
          actions: ['cloudwatch:SetAlarmState'],
          resources: [this.sweepAlarm.alarmArn],
        })],
      }),
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

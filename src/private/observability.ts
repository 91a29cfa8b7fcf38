import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The period of every metric helper and alarm, unless the caller overrides it. */
const PERIOD = Duration.minutes(5);

/** The CloudWatch namespace of the default job's own per-run metrics (rows in, out, rejected, ...). */
export const JOB_METRICS_NAMESPACE = 'EventDrivenGlueWorkflow';

/** The Glue job states that count as a failed run. */
export const FAILED_JOB_STATES = ['FAILED', 'TIMEOUT', 'ERROR'];

/** A sum of an EventBridge rule metric (`AWS/Events`), by rule name. */
export function ruleMetric(metricName: string, ruleName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName,
    dimensionsMap: { RuleName: ruleName },
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
    ...props,
  });
}

/** The maximum number of visible messages in a queue. */
export function queueDepthMetric(queue: sqs.IQueue, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD, ...props });
}

/** The maximum age of the oldest message in a queue. */
export function queueAgeMetric(queue: sqs.IQueue, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD, ...props });
}

/** A per-run metric the default job publishes, by job name. */
export function jobMetric(metricName: string, jobName: string, statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: JOB_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { JobName: jobName },
    statistic,
    period: PERIOD,
    ...props,
  });
}

/** The metrics the pipeline alarms on; the ledger ones only exist with a ledger, the row ones with the default job. */
export interface AlarmedMetrics {
  readonly failedInvocations: cloudwatch.Metric;
  readonly deadLetters: cloudwatch.Metric;
  readonly jobFailures: cloudwatch.Metric;
  readonly ledgerDeadLetters?: cloudwatch.Metric;
  readonly ledgerOldestMessageAge?: cloudwatch.Metric;
  readonly rejectedRowsPercent?: cloudwatch.Metric;
}

/** Options of the pipeline's alarms. */
export interface PipelineAlarmsProps {
  readonly metrics: AlarmedMetrics;
  /** Threshold of the stuck-ledger alarm, in seconds. */
  readonly ledgerStuckAfterSeconds: number;
  /** Threshold of the rejected-rows alarm, in percent of a run's rows. */
  readonly rejectedRowsThreshold: number;
  /** Receives every alarm's change to ALARM. */
  readonly topic?: sns.ITopic;
}

/**
 * The pipeline's alarms, created in `scope` (the pipeline) with their historical ids.
 * Each fires on one occurrence (a count of 1, an age or a percentage) and treats missing data as OK.
 */
export function createPipelineAlarms(scope: Construct, props: PipelineAlarmsProps): cloudwatch.Alarm[] {
  const alarms: cloudwatch.Alarm[] = [];
  const add = (id: string, metric: cloudwatch.Metric, threshold: number, description: string,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) => {
    const alarm = metric.createAlarm(scope, id, {
      threshold,
      evaluationPeriods: 1,
      comparisonOperator,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    if (props.topic) {
      alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
    }
    alarms.push(alarm);
  };
  const metrics = props.metrics;
  add('FailedInvocationsAlarm', metrics.failedInvocations, 1,
    'EventBridge failed to deliver events of the pipeline rule to a target');
  add('DeadLetterAlarm', metrics.deadLetters, 1,
    'Events the pipeline rule could not deliver are waiting in its dead-letter queue');
  if (metrics.ledgerDeadLetters) {
    add('LedgerDeadLetterAlarm', metrics.ledgerDeadLetters, 1,
      'Objects whose processing failed repeatedly are waiting in the ledger dead-letter queue');
  }
  if (metrics.ledgerOldestMessageAge) {
    const stuckAfter = props.ledgerStuckAfterSeconds;
    add('LedgerStuckAlarm', metrics.ledgerOldestMessageAge, stuckAfter,
      `A new object has waited longer than the batch window plus the job timeout (${stuckAfter} s): the pipeline is stuck`);
  }
  add('JobFailureAlarm', metrics.jobFailures, 1, 'A run of the pipeline job ended FAILED, TIMEOUT or ERROR');
  if (metrics.rejectedRowsPercent) {
    const threshold = props.rejectedRowsThreshold;
    add('RejectedRowsAlarm', metrics.rejectedRowsPercent, threshold,
      `A run rejected more than ${threshold}% of its rows: they wait, with their reason, under the rejected prefix`,
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
  }
  return alarms;
}

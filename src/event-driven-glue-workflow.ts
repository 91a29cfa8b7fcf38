import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { BucketEncryptionMode, EventDrivenGlueWorkflowProps } from './event-driven-glue-workflow-options';
import { EventSource } from './event-source';
import { GlueWorkflowTarget } from './glue-workflow-target';
import { ParquetConversionJob } from './job/parquet-conversion-job';
import { createAccessLogsBucket, createDataBucket, ensureEventBridgeNotifications } from './private/buckets';
import { createEncryptedQueue, DEFAULT_SWEEP_RE_ARM_INTERVAL, EventLedger } from './private/ledger';
import { acknowledgeRules } from './private/nag';
import { defaultLocations } from './private/locations';
import { defaultTableName, pipelineNamespace } from './private/naming';
import { warnAboutMisconfiguration } from './private/misconfiguration';
import {
  createPipelineAlarms,
  FAILED_JOB_STATES,
  jobMetric,
  queueAgeMetric,
  queueDepthMetric,
  ruleMetric,
} from './private/observability';
import {
  ledgerStuckAfterSeconds,
  ledgerSweepAfter,
  MAX_BATCH_SIZE,
  MAX_BATCH_WINDOW_SECONDS,
  validateLedgerForDefaultJob,
  validateProps,
  warnImportedKeyNeedsLogsStatement,
} from './private/pipeline-checks';



/**
 * An event-driven AWS Glue pipeline: S3 "Object Created" events, filtered by
 * key prefix and suffix, are sent by an EventBridge rule to a Glue workflow
 * whose EVENT trigger starts the job once `batchSize` events have arrived or
 * `batchWindow` has passed since the first, whichever comes first.
 *
 * By default the job is a `ParquetConversionJob`: the rule also records
 * every new key in an SQS event ledger, and the job converts exactly those files
 * to Parquet, exactly once, keeping a Data Catalog table current.
 *
 * @example
 * const pipeline = new EventDrivenGlueWorkflow(this, 'Products', {
 *   inputPrefix: 'data/products_raw/',
 *   inputSuffixes: ['.json', '.json.gz'],
 *   batchSize: 5,
 *   batchWindow: Duration.minutes(15),
 *   outputPrefix: 'data/products/',
 *   inputFormat: InputFormat.JSON,
 * });
 */
export class EventDrivenGlueWorkflow extends Construct {
  /** The bucket whose new objects drive the pipeline. */
  public readonly bucket: s3.IBucket;
  /** The EventBridge rule matching new objects under the input prefix. */
  public readonly rule: events.IRule;
  /** The Glue workflow notified of every matching event. */
  public readonly workflow: glue.IWorkflow;
  /** The workflow's EVENT trigger with its batching condition. */
  public readonly trigger: glue.ITriggerRef;
  /** The job started by each workflow run. */
  public readonly job: glue.IJob;
  /** The role EventBridge assumes to notify the workflow. */
  public readonly eventRole: iam.IRole;
  /** Dead-letter queue of both rule targets: events EventBridge could not deliver. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The key prefix that triggers the pipeline. */
  public readonly inputPrefix: string;
  /** The default conversion job construct, unless you brought a `job`. */
  public readonly conversionJob?: ParquetConversionJob;
  /** The SQS event ledger: exact keys of new objects, drained by the job. */
  public readonly ledgerQueue?: sqs.IQueue;
  /** Where ledger messages go after `ledgerMaxReceiveCount` failed receives. */
  public readonly ledgerDeadLetterQueue?: sqs.IQueue;
  /** The Data Catalog database of the output table (default job only). */
  public readonly database?: glue.IDatabase;
  /** The output table maintained by the default job. */
  public readonly table?: glue.ITable;
  /**
   * The role the Data Catalog's table optimizers assume to maintain the Iceberg
   * table, when `tableFormat` is ICEBERG with at least one optimizer on.
   */
  public readonly icebergOptimizerRole?: iam.IRole;
  /** The KMS key of the security configuration and KMS bucket encryption, if one is used. */
  public readonly encryptionKey?: kms.IKey;
  /** The default job's Glue security configuration. */
  public readonly securityConfiguration?: glue.ISecurityConfiguration;
  /** The bucket receiving server access logs, when the construct created one. */
  public readonly accessLogsBucket?: s3.IBucket;
  /** The CloudTrail trail of the CloudTrail event source. */
  public readonly trail?: cloudtrail.Trail;
  /** The CloudWatch alarms created by the construct. */
  public readonly alarms: cloudwatch.IAlarm[] = [];
  /**
   * The ledger sweep's alarm, when the sweep is on. Not in `alarms`: its ALARM
   * state starts a workflow run; it is not meant to page anyone.
   */
  public readonly ledgerSweepAlarm?: cloudwatch.IAlarm;
  /** The EventBridge Scheduler schedule that sets the sweep alarm back to OK periodically, when the sweep is on. */
  public readonly ledgerSweepSchedule?: scheduler.ISchedule;

  private jobFailureRule?: events.Rule;

  constructor(scope: Construct, id: string, props: EventDrivenGlueWorkflowProps = {}) {
    super(scope, id);
    // Server access logs are delivered under a bucket policy (logging.s3.amazonaws.com,
    // scoped by source bucket and account), never the legacy LogDeliveryWrite ACL, whatever
    // the app's feature flags: set for this construct's subtree only, before any child exists.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.inputPrefix = props.inputPrefix ?? 'incoming/';
    validateProps(props);
    const batchSize = props.batchSize ?? MAX_BATCH_SIZE;
    const batchWindow = props.batchWindow ?? Duration.seconds(MAX_BATCH_WINDOW_SECONDS);
    const maxConcurrentRuns = props.maxConcurrentRuns ?? 1;
    const jobTimeout = props.jobTimeout ?? Duration.hours(1);
    const useDefaultJob = props.job === undefined;
    const useLedger = props.eventLedger ?? useDefaultJob;
    if (useDefaultJob) {
      validateLedgerForDefaultJob(useLedger);
      this.validateNoFeedbackLoop(id, props);
    }
    const sweepAfter = useLedger && (props.ledgerSweep ?? true) ? ledgerSweepAfter(props, batchWindow) : undefined;
    const alarms = props.alarms ?? true;
    warnAboutMisconfiguration(this, props, {
      useDefaultJob,
      useLedger,
      sweep: sweepAfter !== undefined,
      sweepAfter,
      alarms,
      bucketUsesKey: !props.bucket && props.bucketEncryption === BucketEncryptionMode.KMS,
      batchWindow,
    });
    const description = props.description ?? `New objects under '${this.inputPrefix}' start a batched Glue workflow run`;
    const source = props.eventSource ?? EventSource.s3EventBridge();

    // Storage and keys.
    this.encryptionKey = props.encryptionKey ?? (useDefaultJob || props.bucketEncryption === BucketEncryptionMode.KMS
      ? new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts the Glue logs and job bookmarks of ${this.node.path}`,
      })
      : undefined);
    if (!props.bucket && (props.serverAccessLogs ?? true)) {
      this.accessLogsBucket = createAccessLogsBucket(this);
    }
    this.bucket = props.bucket ?? createDataBucket(this, {
      encryptionKey: props.bucketEncryption === BucketEncryptionMode.KMS ? this.encryptionKey : undefined,
      versioned: props.versioned ?? false,
      accessLogsBucket: this.accessLogsBucket,
      eventBridge: source.kind === 'S3_EVENTBRIDGE',
    });

    // Workflow and queues.
    this.workflow = new glue.Workflow(this, 'Workflow', {
      workflowName: props.workflowName,
      description,
      maxConcurrentRuns,
    });
    this.deadLetterQueue = createEncryptedQueue(this, 'DeadLetterQueue');
    acknowledgeRules(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is the dead-letter queue of the EventBridge rule targets; it needs no dead-letter queue of its own.',
    });
    const ledger = useLedger ? new EventLedger(this, {
      jobTimeout,
      maxReceiveCount: props.ledgerMaxReceiveCount,
      sweepAfter,
    }) : undefined;
    this.ledgerQueue = ledger?.queue;
    this.ledgerDeadLetterQueue = ledger?.deadLetterQueue;
    this.ledgerSweepAlarm = ledger?.sweepAlarm;

    // The job.
    if (props.job) {
      this.job = props.job;
    } else {
      const encryptionKey = this.encryptionKey!;
      this.securityConfiguration = this.createSecurityConfiguration(encryptionKey);
      this.conversionJob = this.createDefaultJob(id, props, {
        encryptionKey, securityConfiguration: this.securityConfiguration, maxConcurrentRuns, sweepAfter,
      });
      this.job = this.conversionJob.job;
      this.database = this.conversionJob.database;
      this.table = this.conversionJob.table;
      this.icebergOptimizerRole = this.conversionJob.icebergOptimizerRole;
    }
    this.trigger = this.workflow.addEventTrigger('EventTrigger', {
      description,
      actions: [glue.Action.job(this.job, {
        arguments: {
          '--batch_size': numberArgument(batchSize),
          '--batch_window_seconds': numberArgument(batchWindow.toSeconds()),
        },
      })],
      eventBatchingCondition: { batchSize, batchWindow },
    });

    // The rule: new objects notify the workflow and, with a ledger, are recorded in it.
    this.eventRole = props.eventRole ?? new iam.Role(this, 'EventRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'Lets EventBridge notify the Glue workflow of new objects',
    });
    const sourceConfig = source._bind(this, {
      bucket: this.bucket,
      inputPrefix: this.inputPrefix,
      inputSuffixes: props.inputSuffixes,
      logBucket: this.accessLogsBucket,
    });
    this.trail = sourceConfig.trail;
    if (props.bucket && sourceConfig.enableBucketEventBridge) {
      ensureEventBridgeNotifications(this, props.bucket);
    }
    const rule = new events.Rule(this, 'Rule', {
      description,
      eventPattern: {
        source: ['aws.s3'],
        detailType: sourceConfig.detailType,
        detail: sourceConfig.detail,
      },
    });
    const delivery = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.eventRetryAttempts ?? 185,
      maxEventAge: props.eventMaxAge ?? Duration.hours(24),
    };
    rule.addTarget(new GlueWorkflowTarget(this.workflow, { ...delivery, role: this.eventRole }));
    if (this.ledgerQueue) {
      rule.addTarget(new targets.SqsQueue(this.ledgerQueue, delivery));
    }
    this.rule = rule;
    ledger?.addSweepTarget(new GlueWorkflowTarget(this.workflow, { ...delivery, role: this.eventRole }));
    this.ledgerSweepSchedule = ledger?.addReArmSchedule(props.ledgerSweepReArmInterval ?? DEFAULT_SWEEP_RE_ARM_INTERVAL);

    if (alarms) {
      this.alarms.push(...createPipelineAlarms(this, {
        metrics: {
          failedInvocations: this.metricFailedInvocations(),
          deadLetters: this.metricDeadLetters(),
          ledgerDeadLetters: this.ledgerQueue ? this.metricLedgerDeadLetters() : undefined,
          ledgerOldestMessageAge: this.ledgerQueue ? this.metricLedgerOldestMessageAge() : undefined,
          jobFailures: this.metricJobFailures(),
          rejectedRowsPercent: this.conversionJob ? this.metricRejectedRowsPercent() : undefined,
        },
        ledgerStuckAfterSeconds: ledgerStuckAfterSeconds(batchWindow, jobTimeout),
        rejectedRowsThreshold: props.rejectedRowsAlarmThreshold ?? 5,
        topic: props.alarmTopic,
      }));
    }
  }

  /**
   * Creates a rule, in this construct, that matches runs of the job ending
   * FAILED, TIMEOUT or ERROR (Glue Job State Change events).
   */
  public onJobFailure(id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, {
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventPattern: {
        ...options.eventPattern,
        source: ['aws.glue'],
        detailType: ['Glue Job State Change'],
        detail: { ...options.eventPattern?.detail, jobName: [this.job.jobName], state: FAILED_JOB_STATES },
      },
    });
    if (options.target) {
      rule.addTarget(options.target);
    }
    return rule;
  }

  /**
   * Events EventBridge failed to deliver to a target (after retries).
   *
   * @default - sum over 5 minutes
   */
  public metricFailedInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return ruleMetric('FailedInvocations', this.rule.ruleName, props);
  }

  /**
   * Events in the rule targets' dead-letter queue.
   *
   * @default - maximum over 5 minutes
   */
  public metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueDepthMetric(this.deadLetterQueue, props);
  }

  /**
   * Objects whose ledger message failed `ledgerMaxReceiveCount` times. Throws without a ledger.
   *
   * @default - maximum over 5 minutes
   */
  public metricLedgerDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueDepthMetric(this.requireLedger('metricLedgerDeadLetters', this.ledgerDeadLetterQueue), props);
  }

  /**
   * Age of the oldest unprocessed object in the ledger. Throws without a ledger.
   *
   * @default - maximum over 5 minutes
   */
  public metricLedgerOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return queueAgeMetric(this.requireLedger('metricLedgerOldestMessageAge', this.ledgerQueue), props);
  }

  /**
   * Job runs that ended FAILED, TIMEOUT or ERROR, counted by the `JobFailureRule` rule.
   *
   * @default - sum over 5 minutes
   */
  public metricJobFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.jobFailureRule ??= this.onJobFailure('JobFailureRule', { description: 'Runs of the pipeline job that ended FAILED, TIMEOUT or ERROR' });
    return ruleMetric('TriggeredRules', this.jobFailureRule.ruleName, props);
  }

  /**
   * The share of a run's rows the default job rejected (`RejectedRowsPercent`,
   * 0 to 100, 0 for a run without rows). Throws with your own `job`.
   *
   * @default - maximum over 5 minutes
   */
  public metricRejectedRowsPercent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return jobMetric('RejectedRowsPercent', this.requireDefaultJob('metricRejectedRowsPercent'), cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Rows the default job rejected (`RowsRejected`), kept with their reason under
   * the rejected prefix. Throws with your own `job`.
   *
   * @default - sum over 5 minutes
   */
  public metricRowsRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return jobMetric('RowsRejected', this.requireDefaultJob('metricRowsRejected'), cloudwatch.Stats.SUM, props);
  }

  /**
   * Rows that failed a row rule (`RuleFailures`, dimensions JobName and RuleName), whether
   * the rule rejects or flags them. Throws with your own `job`.
   *
   * @default - sum over 5 minutes
   */
  public metricRuleFailures(ruleName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const jobName = this.requireDefaultJob('metricRuleFailures');
    return jobMetric('RuleFailures', jobName, cloudwatch.Stats.SUM, {
      ...props,
      dimensionsMap: { JobName: jobName, RuleName: ruleName, ...props?.dimensionsMap },
    });
  }

  /**
   * Grants read access to the output and its catalog table (default job only).
   *
   * For an Iceberg table this covers its data and `metadata/` files, which live under the output prefix.
   */
  public grantReadOutput(grantee: iam.IGrantable): iam.Grant {
    if (!this.conversionJob) {
      throw new Error('grantReadOutput() needs the default conversion job; with your own `job`, grant access to its output yourself');
    }
    return this.conversionJob.grantReadOutput(grantee);
  }

  /** Encryption of the default job's S3 writes (as the bucket's), logs and bookmarks (with the key). */
  private createSecurityConfiguration(encryptionKey: kms.IKey): glue.SecurityConfiguration {
    const configuration = new glue.SecurityConfiguration(this, 'SecurityConfiguration', {
      s3Encryption: this.bucket.encryptionKey
        ? glue.S3Encryption.kms(this.bucket.encryptionKey)
        : glue.S3Encryption.s3Managed(),
      cloudWatchEncryption: glue.CloudWatchEncryption.kms(encryptionKey),
      jobBookmarksEncryption: glue.JobBookmarksEncryption.clientSideKms(encryptionKey),
    });
    this.allowGlueLogsToUseKey();
    return configuration;
  }

  /** The default job, with the right to read its workflow run's event IDs. */
  private createDefaultJob(id: string, props: EventDrivenGlueWorkflowProps, wiring: DefaultJobWiring): ParquetConversionJob {
    const job = new ParquetConversionJob(this, 'ConversionJob', {
      ...props,
      bucket: this.bucket,
      inputPrefix: this.inputPrefix,
      ledgerQueue: this.ledgerQueue,
      ledgerDeadLetterQueue: this.ledgerDeadLetterQueue,
      ledgerSweepAlarm: this.ledgerSweepAlarm,
      ledgerSweepAfter: wiring.sweepAfter,
      securityConfiguration: wiring.securityConfiguration,
      encryptionKey: wiring.encryptionKey,
      maxConcurrentRuns: wiring.maxConcurrentRuns,
      tableName: props.tableName ?? defaultTableName(id),
    });
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadBatchEventIds',
      actions: ['glue:GetWorkflowRunProperties', 'glue:GetWorkflowRun'],
      resources: [this.workflow.workflowArn],
    }));
    return job;
  }

  /** CloudWatch Logs encrypts the job's log groups with the key: its key policy must allow that. */
  private allowGlueLogsToUseKey(): void {
    const key = this.encryptionKey;
    const stack = Stack.of(this);
    if (!(key instanceof kms.Key)) {
      warnImportedKeyNeedsLogsStatement(this, stack);
      return;
    }
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs', resource: 'log-group', resourceName: '/aws-glue/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }));
  }

  /** The job's own writes must never match the input filter, or every run would trigger the next. */
  private validateNoFeedbackLoop(id: string, props: EventDrivenGlueWorkflowProps): void {
    const defaults = defaultLocations(pipelineNamespace(props.tableName ?? defaultTableName(id), id));
    const locations: Record<string, string> = {
      outputPrefix: props.outputPrefix ?? defaults.outputPrefix,
      rejectedPrefix: props.rejectedPrefix ?? defaults.rejectedPrefix,
      statsPrefix: props.statsPrefix ?? defaults.statsPrefix,
      statePrefix: props.statePrefix ?? defaults.statePrefix,
    };
    if (Token.isUnresolved(this.inputPrefix)) {
      return;
    }
    for (const [prop, location] of Object.entries(locations)) {
      if (Token.isUnresolved(location)) {
        continue;
      }
      if (location.startsWith(this.inputPrefix) || this.inputPrefix.startsWith(location)) {
        throw new Error(
          `'${prop}' (${JSON.stringify(location)}) overlaps 'inputPrefix' (${JSON.stringify(this.inputPrefix)}): `
          + 'the job\'s own writes would match the rule and trigger the pipeline again, forever. '
          + 'Choose locations outside the input prefix.',
        );
      }
    }
  }

  /** The default job's name; the job publishes its row metrics under it. */
  private requireDefaultJob(method: string): string {
    if (!this.conversionJob) {
      throw new Error(`${method}() needs the default conversion job; with your own \`job\`, publish and read your own metrics`);
    }
    return this.conversionJob.job.jobName;
  }

  private requireLedger(method: string, queue: sqs.IQueue | undefined): sqs.IQueue {
    if (!queue) {
      throw new Error(`${method}() needs the event ledger; it is off for this pipeline (eventLedger: false)`);
    }
    return queue;
  }
}

/** What the pipeline hands its default job besides the user's props. */
interface DefaultJobWiring {
  readonly encryptionKey: kms.IKey;
  readonly securityConfiguration: glue.ISecurityConfiguration;
  readonly maxConcurrentRuns: number;
  /** The sweep's threshold, when the sweep is on. */
  readonly sweepAfter?: Duration;
}

/** Glue job arguments are strings: a number renders as one, a token stays a reference. */
function numberArgument(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

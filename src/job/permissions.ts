import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { TableFormat } from './options';
import { JobLocations, LEGACY_STATE_PREFIX } from '../private/locations';
import { acknowledgeIamWildcards, flattenCfnReference, PolicyStatementJson, statementIs } from '../private/nag';
import { JOB_METRICS_NAMESPACE } from '../private/observability';

// The default job role's policy: least privilege, one statement per need, each named; and the
// cdk-nag acknowledgements of the wildcards it keeps, each scoped to its statements.

/** What the job's policy is made for. */
export interface PermittedJob {
  readonly role: iam.IRole;
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
  /** The job's own prefixes: output, rejected, stats, state. */
  readonly locations: JobLocations;
  readonly tableFormat: TableFormat;
  /** The catalog, database and table ARNs of the output table. */
  readonly catalogArns: string[];
  readonly optimizerRole?: iam.IRole;
  /** The security configuration's key. */
  readonly encryptionKey?: kms.IKey;
  /** Whether the job reads the legacy state root (`--legacy_state_path`). */
  readonly readsLegacyState: boolean;
  readonly ledgerQueue?: sqs.IQueue;
  readonly ledgerDeadLetterQueue?: sqs.IQueue;
  readonly ledgerSweepAlarm?: cloudwatch.IAlarm;
}

export function grantJobPermissions(scope: IConstruct, job: PermittedJob): void {
  const ledgerQueue = job.ledgerQueue;
  // Without a ledger nothing is parked and there is no sweep to re-arm.
  const ledgerDeadLetterQueue = ledgerQueue ? job.ledgerDeadLetterQueue : undefined;
  const ledgerSweepAlarm = ledgerQueue ? job.ledgerSweepAlarm : undefined;
  const stack = Stack.of(scope);
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadInputPrefix',
      actions: ['s3:GetObject'],
      resources: [job.bucket.arnForObjects(`${job.inputPrefix}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'ReadWriteOutputLocations',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: Object.values(job.locations).map((prefix) => job.bucket.arnForObjects(`${prefix}*`)),
    }),
    new iam.PolicyStatement({
      sid: 'ListPipelineBucket',
      actions: ['s3:ListBucket'],
      // No s3:prefix condition: S3 connectors (S3A, EMRFS) probe parent "directories"
      // such as `_pipeline` or `parquet` without their trailing slash, and list with
      // prefixes outside `<prefix>*`. Listing reveals key names only, never content.
      resources: [job.bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'MaintainOwnTable',
      // Iceberg's GlueCatalog reads the database and commits by UpdateTable; it adds no partitions.
      actions: job.tableFormat === TableFormat.ICEBERG
        ? ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']
        : ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition'],
      resources: job.catalogArns,
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
    job.role.addToPrincipalPolicy(statement);
  }
  if (ledgerQueue) {
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DrainLedger',
      // GetQueueAttributes: whether messages are left when a run stops.
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      resources: [ledgerQueue.queueArn],
    }));
    if (ledgerQueue.encryptionMasterKey) {
      ledgerQueue.encryptionMasterKey.grantDecrypt(job.role);
    }
  }
  if (ledgerDeadLetterQueue) {
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ParkExpiredMessages',
      actions: ['sqs:SendMessage'],
      resources: [ledgerDeadLetterQueue.queueArn],
    }));
    if (ledgerDeadLetterQueue.encryptionMasterKey) {
      ledgerDeadLetterQueue.encryptionMasterKey.grant(job.role, 'kms:Encrypt', 'kms:GenerateDataKey');
    }
  }
  if (ledgerSweepAlarm) {
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReArmLedgerSweep',
      actions: ['cloudwatch:SetAlarmState'],
      resources: [ledgerSweepAlarm.alarmArn],
    }));
  }
  if (job.optimizerRole) {
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ManageTableOptimizers',
      // Data Catalog permissions are checked down the catalog, database, table hierarchy.
      actions: ['glue:CreateTableOptimizer', 'glue:UpdateTableOptimizer', 'glue:GetTableOptimizer'],
      resources: job.catalogArns,
    }));
    job.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'PassOptimizerRole',
      actions: ['iam:PassRole'],
      resources: [job.optimizerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'glue.amazonaws.com' } },
    }));
  }
  grantKey(job, job.role, ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']);
  acknowledgeScopedWildcards(scope, job);
}

function grantKey(job: PermittedJob, grantee: iam.IGrantable, actions: string[]): void {
  const keys = [job.encryptionKey, job.bucket.encryptionKey].filter((k): k is kms.IKey => k !== undefined);
  const unique = keys.filter((key, index) => keys.indexOf(key) === index);
  if (unique.length > 0) {
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: unique.map((key) => key.keyArn) });
  }
}

/** Catalog, database and table ARNs: the only catalog resources the job touches. */
export function catalogArns(scope: IConstruct, databaseName: string, tableName: string): string[] {
  const stack = Stack.of(scope);
  return [
    stack.formatArn({ service: 'glue', resource: 'catalog' }),
    stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
    stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${tableName}` }),
  ];
}

/**
 * cdk-nag flags every `*` in the role's policy. The ones left are scoped, and
 * each is acknowledged with its reason; any other `*` stays a finding.
 */
function acknowledgeScopedWildcards(scope: IConstruct, job: PermittedJob): void {
  const legacy = job.readsLegacyState ? [LEGACY_STATE_PREFIX] : [];
  const prefixes = [job.inputPrefix, ...Object.values(job.locations), ...legacy]
    .filter((p) => !Token.isUnresolved(p))
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const objects = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
  const logs = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'];
  acknowledgeIamWildcards(scope, [
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

/** The read grant the aws-glue L2 job adds for its script assets: read actions on the CDK asset bucket only. */
function isAssetBucketRead(statement: PolicyStatementJson): boolean {
  const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  return statement.Sid === undefined
    && actions.every((a) => a === 's3:GetObject*' || a === 's3:GetBucket*' || a === 's3:List*')
    // Compared in the form cdk-nag names resources in, which is the same whether the CDK
    // renders the bucket name as a plain string, a token or an Fn::Sub (it varies by release).
    && resources.every((r) => /^arn:<AWS::Partition>:s3:::cdk-[^/]+-assets-[^/]+(\/.*)?$/.test(flattenCfnReference(r)));
}

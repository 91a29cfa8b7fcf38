import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeRules } from './nag';

/** The bucket receiving server access logs of the pipeline's buckets, in `scope` with id `AccessLogsBucket`. */
export function createAccessLogsBucket(scope: Construct): s3.Bucket {
  const logs = new s3.Bucket(scope, 'AccessLogsBucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });
  acknowledgeRules(logs, {
    'AwsSolutions-S1': 'This bucket is the server access log destination; logging its own access would log forever.',
  });
  return logs;
}

/** Options of the data bucket. */
export interface DataBucketProps {
  /** SSE-KMS with this key; SSE-S3 without. */
  readonly encryptionKey?: kms.IKey;
  readonly versioned: boolean;
  readonly accessLogsBucket?: s3.IBucket;
  /** Whether S3 sends its events to EventBridge. */
  readonly eventBridge: boolean;
}

/** The pipeline's data bucket, in `scope` with id `Bucket`. */
export function createDataBucket(scope: Construct, props: DataBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'Bucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: props.encryptionKey ? true : undefined,
    enforceSSL: true,
    versioned: props.versioned,
    serverAccessLogsBucket: props.accessLogsBucket,
    serverAccessLogsPrefix: props.accessLogsBucket ? 'data-bucket/' : undefined,
  });
  if (!props.accessLogsBucket) {
    acknowledgeRules(bucket, {
      'AwsSolutions-S1': 'Server access logs were turned off with serverAccessLogs: false.',
    });
  }
  if (props.eventBridge) {
    // EventBridge delivery set on the bucket resource itself: no custom-resource Lambda.
    const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
  }
  return bucket;
}

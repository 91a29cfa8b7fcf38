import { Annotations, Aspects, Duration, Token } from 'aws-cdk-lib';
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

/** The id of the warning about an imported bucket, for `Annotations.acknowledgeWarning`. */
export const IMPORTED_BUCKET_WARNING = 'cdk-event-driven-glue-workflow:importedBucketNeedsEventBridge';

/**
 * A bucket you bring must send its events to EventBridge, or the rule never sees a new object.
 *
 * A `Bucket` of the app gets them turned on: on the bucket resource itself (no custom-resource
 * Lambda) and, when the bucket's notifications are managed by CDK's notifications custom
 * resource (the bucket has other event notifications, or `eventBridgeEnabled`), through it
 * too, since it replaces the bucket's whole notification configuration on deploy. An
 * imported bucket cannot be changed: a synth warning says what to turn on.
 */
export function ensureEventBridgeNotifications(scope: Construct, bucket: s3.IBucket): void {
  if (bucket instanceof s3.Bucket) {
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    // Once the app is built: event notifications added after this pipeline create the custom resource too.
    Aspects.of(bucket).add({
      visit: (node) => {
        if (node === bucket && bucket.node.tryFindChild('Notifications')) {
          bucket.enableEventBridgeNotification();
        }
      },
    });
    return;
  }
  const name = Token.isUnresolved(bucket.bucketName) ? 'you passed' : JSON.stringify(bucket.bucketName);
  Annotations.of(scope).addWarningV2(IMPORTED_BUCKET_WARNING,
    `The bucket ${name} is imported, so the construct cannot turn on its EventBridge notifications; without them `
    + 'no "Object Created" event reaches the rule and the pipeline never runs. Turn on "Amazon EventBridge" in the '
    + 'bucket\'s Properties > Event notifications (the API\'s NotificationConfiguration.EventBridgeConfiguration), or use '
    + `EventSource.cloudTrail(). Then acknowledge this warning: Annotations.of(pipeline).acknowledgeWarning('${IMPORTED_BUCKET_WARNING}')`);
}

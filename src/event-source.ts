import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Options for {@link EventSource.cloudTrail}.
 */
export interface CloudTrailSourceOptions {
  /**
   * A trail to log the bucket's S3 data events. The construct adds a selector
   * for write data events under the input prefix to it.
   *
   * @default - a new single-region trail with only those data events, logging to
   * its own encrypted, SSL-only bucket
   */
  readonly trail?: cloudtrail.Trail;
}

/**
 * Where the "new object" events come from.
 */
export abstract class EventSource {
  /**
   * S3 sends "Object Created" events to EventBridge directly. The construct turns
   * this on for a bucket it creates; a bucket you bring must have it on.
   */
  public static s3EventBridge(): EventSource {
    return new S3EventBridgeSource();
  }

  /**
   * CloudTrail S3 data events (PutObject, CompleteMultipartUpload, CopyObject)
   * reach EventBridge as "AWS API Call via CloudTrail". Costs CloudTrail data-event
   * charges, but works for buckets whose notification settings you cannot change.
   */
  public static cloudTrail(options: CloudTrailSourceOptions = {}): EventSource {
    return new CloudTrailSource(options);
  }

  /**
   * The kind of source, `S3_EVENTBRIDGE` or `CLOUDTRAIL`.
   */
  public abstract readonly kind: string;

  /**
   * Sets up the source and returns the rule pattern's `detail-type` and `detail`.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, options: EventSourceBindOptions): EventSourceConfig;
}

/** @internal */
export interface EventSourceBindOptions {
  readonly bucket: s3.IBucket;
  readonly inputPrefix: string;
  readonly keyFilter: string[] | undefined;
  readonly logBucket: s3.IBucket | undefined;
}

/** @internal */
export interface EventSourceConfig {
  readonly detailType: string[];
  readonly detail: Record<string, unknown>;
  readonly enableBucketEventBridge: boolean;
  readonly trail?: cloudtrail.Trail;
}

class S3EventBridgeSource extends EventSource {
  public readonly kind = 'S3_EVENTBRIDGE';

  public _bind(_scope: Construct, options: EventSourceBindOptions): EventSourceConfig {
    return {
      detailType: ['Object Created'],
      detail: {
        bucket: { name: [options.bucket.bucketName] },
        ...(options.keyFilter ? { object: { key: options.keyFilter } } : {}),
      },
      enableBucketEventBridge: true,
    };
  }
}

/** The CloudTrail events that create an object. */
const OBJECT_CREATING_CALLS = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'];

class CloudTrailSource extends EventSource {
  public readonly kind = 'CLOUDTRAIL';

  constructor(private readonly options: CloudTrailSourceOptions) {
    super();
  }

  public _bind(scope: Construct, options: EventSourceBindOptions): EventSourceConfig {
    const trail = this.options.trail ?? new cloudtrail.Trail(scope, 'Trail', {
      bucket: new s3.Bucket(scope, 'TrailBucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        serverAccessLogsBucket: options.logBucket,
        serverAccessLogsPrefix: options.logBucket ? 'trail-bucket/' : undefined,
      }),
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      enableFileValidation: true,
    });
    trail.addS3EventSelector([{ bucket: options.bucket, objectPrefix: options.inputPrefix || undefined }], {
      readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY,
      includeManagementEvents: false,
    });
    return {
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: OBJECT_CREATING_CALLS,
        requestParameters: {
          bucketName: [options.bucket.bucketName],
          ...(options.keyFilter ? { key: options.keyFilter } : {}),
        },
      },
      enableBucketEventBridge: false,
      trail,
    };
  }
}

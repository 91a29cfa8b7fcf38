import { Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Options for `EventSource.cloudTrail()`.
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
   * reach EventBridge as "AWS API Call via CloudTrail". Only successful calls match:
   * a call with an `errorCode` created no object. Costs CloudTrail data-event
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
  readonly inputSuffixes: string[] | undefined;
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
    const keyFilter = renderKeyFilter(options.inputPrefix, options.inputSuffixes);
    return {
      detailType: ['Object Created'],
      detail: {
        bucket: { name: [options.bucket.bucketName] },
        ...(keyFilter ? { object: { key: keyFilter } } : {}),
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
    const keyFilter = renderKeyFilter(options.inputPrefix, options.inputSuffixes);
    return {
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: OBJECT_CREATING_CALLS,
        // CloudTrail also logs calls S3 refused (AccessDenied, NoSuchUpload, ...): no object was created.
        errorCode: events.Match.doesNotExist(),
        requestParameters: {
          bucketName: [options.bucket.bucketName],
          ...(keyFilter ? { key: keyFilter } : {}),
        },
      },
      enableBucketEventBridge: false,
      trail,
    };
  }
}

/**
 * The object key filter of the rule pattern: EventBridge cannot combine `prefix`
 * and `suffix` on one field, so both together become one `wildcard` per suffix.
 */
function renderKeyFilter(prefix: string, suffixes: string[] | undefined): string[] | undefined {
  const hasSuffixes = suffixes !== undefined && suffixes.length > 0;
  if (prefix === '' && !hasSuffixes) {
    return undefined;
  }
  if (!hasSuffixes) {
    return events.Match.prefix(prefix);
  }
  if (prefix === '') {
    return suffixes.flatMap((suffix) => events.Match.suffix(suffix));
  }
  return suffixes.flatMap((suffix) => events.Match.wildcard(`${escapeWildcard(prefix)}*${escapeWildcard(suffix)}`));
}

/** Escapes the characters that EventBridge `wildcard` matching treats specially. */
function escapeWildcard(value: string): string {
  if (Token.isUnresolved(value)) {
    throw new Error(`'inputPrefix' and 'inputSuffixes' must be known at synth time when both are set, got a token: ${value}`);
  }
  return value.replace(/[\\*]/g, (c) => `\\${c}`);
}

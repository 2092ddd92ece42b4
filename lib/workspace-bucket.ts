import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Every run's workspace (`runs/<runId>/…`): what functions that touch runs are granted, not the whole bucket. */
export const RUN_OBJECTS = 'runs/*';

/** Tag the workspace writer puts on every object under `runs/<id>/temp/`, so one lifecycle rule covers all runs. */
const TEMP_OBJECT_TAG = { key: 'agentplane:area', value: 'temp' } as const;

/**
 * The S3 bucket that holds every run's workspace (`runs/<runId>/…`). Private, encrypted, TLS only.
 * Lifecycle rules are daily and by prefix or tag: `temp/` sits inside each run's prefix, so it is matched by tag.
 */
export class WorkspaceBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: { removalPolicy?: RemovalPolicy } = {}) {
    super(scope, id);
    // Server access logs go to a bucket of their own (which, being the log sink, does not log itself).
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    this.bucket = new Bucket(this, 'Bucket', {
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'workspace/',
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
      cors: [
        // Presigned uploads and downloads from the dashboard and CLI.
        { allowedMethods: [HttpMethods.GET, HttpMethods.PUT], allowedOrigins: ['*'], allowedHeaders: ['*'], maxAge: 3000 },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-temp', tagFilters: { [TEMP_OBJECT_TAG.key]: TEMP_OBJECT_TAG.value }, expiration: Duration.days(2) },
      ],
    });
  }
}

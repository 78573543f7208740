import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IDistribution } from 'aws-cdk-lib/aws-cloudfront';
import { AnyPrincipal, Effect, ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  BucketPolicy,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RecordingDeleteEnv, StorageEnv } from '../../../core/contracts/env.js';
import { MEDIA_CLASS_TAG, type MediaClass } from '../../../core/contracts/names.js';
import { type BindTarget, bindEnvironment } from '../binding.js';

/** LL-HLS parts are only listed near the live edge; S3 lifecycle cannot go below one day. */
const PART_EXPIRY_DAYS = 1;

export interface MediaStorageProps {
  /** Segments and init segments expire after this many days (the DVR window, rounded up). */
  readonly dvrWindowDays: number;
  /**
   * Unused since decision D40 (recordings stay in Standard: no transition pays within a 30-day retention); kept so
   * the stage configuration keeps parsing until media.recordingTransitionDays is retired with the cost bench.
   */
  readonly recordingTransitionDays: number;
  /** Recordings are deleted after this many days. */
  readonly recordingRetentionDays: number;
  /** Keep the buckets when the stack is deleted. */
  readonly retain: boolean;
}

/**
 * The media bucket (keys are URL paths without the leading slash, so they start with the stream id: decision D2) and
 * the log bucket for S3 server access logs and CloudFront access logs.
 */
export class MediaStorage extends Construct {
  readonly bucket: IBucket;
  readonly logBucket: IBucket;
  readonly readPolicy: ManagedPolicy;
  readonly writePolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: MediaStorageProps) {
    super(scope, id);
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const logBucket = new Bucket(this, 'Logs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logs are delivered through bucket ACLs.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(90) }],
      removalPolicy,
    });
    Validations.of(logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Media', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      // TLS-only is the first statement of the bucket's one policy, which createBucketPolicy() writes in the stack
      // that owns the distribution (D39): S3 keeps one policy per bucket, and only that stack can name it.
      enforceSSL: false,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 's3/media/',
      removalPolicy,
      lifecycleRules: [
        this.expireClass('part', PART_EXPIRY_DAYS),
        this.expireClass('segment', props.dvrWindowDays),
        this.expireClass('init', props.dvrWindowDays),
        // Each refresh rewrites a thumbnail (D41), restarting its age: only an ended stream's last picture expires.
        this.expireClass('thumbnail', 1),
        // Recordings stay in Standard for their whole retention (decision D40): within 30 days Intelligent-Tiering
        // never leaves its frequent tier (Standard's price) and charges a transition per object, Standard-IA
        // bills 30 days minimum after a transition that can only come on day 30, and Glacier IR's retrieval
        // charge passes its saving at the first playback. Chunks of 1 MB or more keep the PUTs small.
        {
          id: 'recordings',
          tagFilters: { [MEDIA_CLASS_TAG]: 'recording' },
          expiration: Duration.days(props.recordingRetentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.logBucket = logBucket;
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S10',
      reason:
        "The media bucket's policy, TLS-only first, is written by MediaStorage.createBucketPolicy() in the platform stack, which alone can name the distribution (D39).",
    });

    // ListBucket makes a missing key answer 404 rather than 403, which the manifest function's hold logic relies on.
    const list = new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] });
    this.readPolicy = new ManagedPolicy(this, 'ReadMedia', {
      description: 'Read Mirror media objects',
      statements: [
        list,
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('*')] }),
      ],
    });
    this.writePolicy = new ManagedPolicy(this, 'WriteMedia', {
      description: 'Publish Mirror media objects with their lifecycle tag',
      statements: [
        list,
        new PolicyStatement({
          actions: [
            's3:GetObject',
            's3:PutObject',
            's3:PutObjectTagging',
            's3:DeleteObject',
            's3:AbortMultipartUpload',
          ],
          resources: [this.bucket.arnForObjects('*')],
        }),
      ],
    });
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    for (const policy of [this.readPolicy, this.writePolicy]) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
        reason:
          'Object keys are created at run time (stream id first); the policy covers objects of the media bucket only.',
      });
    }
  }

  private expireClass(mediaClass: MediaClass, days: number) {
    return {
      id: `expire-${mediaClass}`,
      tagFilters: { [MEDIA_CLASS_TAG]: mediaClass },
      expiration: Duration.days(days),
    };
  }

  /**
   * The media bucket's one policy, created in `scope` (the stack of `distribution`, D39): requests without TLS are
   * denied, and `distribution` alone may read objects through origin access control. The distribution's stack
   * depends on this one, so the data stack cannot name the distribution without a cycle; S3 keeps one policy per
   * bucket, so the whole policy moves to the distribution's stack instead of a second one fighting the first. No
   * other principal needs the policy: the ingest task and the functions read and write through their IAM roles.
   */
  createBucketPolicy(scope: Construct, distribution: IDistribution): BucketPolicy {
    const policy = new BucketPolicy(scope, 'MediaBucketPolicy', {
      bucket: this.bucket,
      // The bucket outlives the distribution's stack; its policy goes with the distribution it names.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    policy.document.addStatements(
      // What `enforceSSL` would write, which the bucket cannot carry itself (see above).
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:*'],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      new PolicyStatement({
        sid: 'AllowCloudFrontOacRead',
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'AWS:SourceArn': distribution.distributionArn } },
      }),
    );
    return policy;
  }

  /**
   * MIRROR_BUCKET and MIRROR_STORAGE, plus a managed policy for reading (manifest) or writing tagged media (ingest).
   * The policies live next to the bucket, so their object ARNs are local references, not cross-stack exports.
   */
  bindTo(target: BindTarget, access: 'read' | 'readWrite'): void {
    bindEnvironment(target, StorageEnv, { MIRROR_STORAGE: 's3', MIRROR_BUCKET: this.bucket.bucketName });
    target.role.addManagedPolicy(access === 'readWrite' ? this.writePolicy : this.readPolicy);
  }

  /**
   * The control API's recording delete (D40): read and delete the recordings' objects only. Every recording name
   * (core/contracts/names.ts) is `{stream}/recording-{b}.m3u8` or `{stream}/{rendition}/{b}/rec...`, so the
   * resource `bucket/STAR/rec STAR` (an IAM `*` spans slashes) covers them and no live segment, part, init or playlist.
   */
  bindRecordingDeleteTo(target: BindTarget): void {
    bindEnvironment(target, RecordingDeleteEnv, { MIRROR_RECORDINGS_BUCKET: this.bucket.bucketName });
    const recordings = this.bucket.arnForObjects('*/rec*');
    const policy = new ManagedPolicy(this, 'DeleteRecordings', {
      description: 'Read and delete Mirror recording objects',
      statements: [
        new PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [recordings] }),
      ],
    });
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*/rec*]`,
      reason:
        'Recording keys are created at run time (stream and broadcast ids); the policy covers recording objects only.',
    });
    target.role.addManagedPolicy(policy);
  }
}

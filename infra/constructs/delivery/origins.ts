import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import {
  FunctionUrlOriginAccessControl,
  type IOrigin,
  OriginProtocolPolicy,
  OriginSslPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin, HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { OriginName } from '../../../core/contracts/delivery.js';

export interface DeliveryOriginsProps {
  readonly mediaBucket: IBucket;
  readonly manifestUrl: IFunctionUrl;
  /** The operator events function (D44). */
  readonly eventsUrl: IFunctionUrl;
  readonly apiDomainName: string;
  /** Headers CloudFront adds to every API request: the origin-verify secret (core/contracts/origin-verify.ts, D39). */
  readonly apiOriginHeaders?: Readonly<Record<string, string>>;
  readonly webBucket: IBucket;
}

/** The origin of each OriginName of the behaviour table. */
export function createOrigins(scope: Construct, props: DeliveryOriginsProps): Record<OriginName, IOrigin> {
  const originShieldRegion = Stack.of(scope).region;
  // The media bucket belongs to the stateful stack, which cannot name this distribution without a cycle: use a
  // reference that leaves its policy alone; MediaStorage.createBucketPolicy() writes the bucket's one policy, in
  // this stack, naming this distribution (D39).
  const mediaBucket = Bucket.fromBucketAttributes(scope, 'MediaBucketRef', {
    bucketArn: props.mediaBucket.bucketArn,
    bucketRegionalDomainName: props.mediaBucket.bucketRegionalDomainName,
  });
  Annotations.of(scope).acknowledgeWarning(
    '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
    'MediaStorage.createBucketPolicy() grants the OAC read to this distribution in the media bucket policy.',
  );
  const functionUrlAccess = new FunctionUrlOriginAccessControl(scope, 'ManifestAccess', {});
  return {
    // Playlists, and parts (served from the part store, D33).
    manifest: FunctionUrlOrigin.withOriginAccessControl(props.manifestUrl, {
      originAccessControl: functionUrlAccess,
      originShieldRegion,
      // Blocking playlist reloads and held parts answer within the function's 28 s timeout.
      readTimeout: Duration.seconds(30),
    }),
    // Segments and init segments.
    media: S3BucketOrigin.withOriginAccessControl(mediaBucket, { originShieldRegion }),
    api: new HttpOrigin(props.apiDomainName, {
      customHeaders: props.apiOriginHeaders && { ...props.apiOriginHeaders },
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
    }),
    webApp: S3BucketOrigin.withOriginAccessControl(props.webBucket),
    // The operator events (D44): the same origin access control, so only this distribution may invoke the URL. The
    // read timeout is the longest wait between two chunks: the stream sends a heartbeat every HEARTBEAT_MS (15 s).
    events: FunctionUrlOrigin.withOriginAccessControl(props.eventsUrl, {
      originAccessControl: functionUrlAccess,
      readTimeout: Duration.seconds(30),
    }),
  };
}

import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import {
  FunctionUrlOriginAccessControl,
  type IOrigin,
  OriginProtocolPolicy,
  OriginSslPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import {
  FunctionUrlOrigin,
  HttpOrigin,
  OriginGroup,
  S3BucketOrigin,
} from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { MEDIA_FAILOVER_STATUSES, type OriginName } from '../../../core/contracts/delivery.js';

export interface DeliveryOriginsProps {
  readonly mediaBucket: IBucket;
  readonly manifestUrl: IFunctionUrl;
  readonly apiDomainName: string;
  readonly webBucket: IBucket;
}

/** The origin of each OriginName of the behaviour table. */
export function createOrigins(scope: Construct, props: DeliveryOriginsProps): Record<OriginName, IOrigin> {
  const originShieldRegion = Stack.of(scope).region;
  // The media bucket belongs to the stateful stack, which cannot name this distribution without a cycle: use a
  // reference that leaves its policy alone; MediaStorage.allowCloudFrontRead() grants the read instead.
  const mediaBucket = Bucket.fromBucketAttributes(scope, 'MediaBucketRef', {
    bucketArn: props.mediaBucket.bucketArn,
    bucketRegionalDomainName: props.mediaBucket.bucketRegionalDomainName,
  });
  Annotations.of(scope).acknowledgeWarning(
    '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
    'MediaStorage.allowCloudFrontRead() grants the OAC read in the media bucket policy.',
  );
  const functionUrlAccess = new FunctionUrlOriginAccessControl(scope, 'ManifestAccess', {});
  const manifestOrigin = (): IOrigin =>
    FunctionUrlOrigin.withOriginAccessControl(props.manifestUrl, {
      originAccessControl: functionUrlAccess,
      originShieldRegion,
      // Blocking playlist reloads and held parts answer within the function's 28 s timeout.
      readTimeout: Duration.seconds(30),
    });
  // One storage origin, alone (segments, init segments) and as the group's primary (parts).
  const media = S3BucketOrigin.withOriginAccessControl(mediaBucket, { originShieldRegion });
  return {
    manifest: manifestOrigin(),
    mediaWithHold: new OriginGroup({
      primaryOrigin: media,
      fallbackOrigin: manifestOrigin(),
      fallbackStatusCodes: [...MEDIA_FAILOVER_STATUSES],
    }),
    media,
    api: new HttpOrigin(props.apiDomainName, {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
    }),
    webApp: S3BucketOrigin.withOriginAccessControl(props.webBucket),
  };
}

import { Duration, Validations } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  Distribution,
  type ErrorResponse,
  GeoRestriction,
  HttpVersion,
  type IKeyValueStore,
  PriceClass,
  SecurityPolicyProtocol,
} from 'aws-cdk-lib/aws-cloudfront';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { Bucket, IBucket } from 'aws-cdk-lib/aws-s3';
import { type BucketDeployment, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CACHED_ERROR_STATUSES, ERROR_CACHING_MIN_TTL_SECONDS } from '../../../core/contracts/delivery.js';
import { InvalidationEnv } from '../../../core/contracts/env.js';
import { type BindTarget, bindEnvironment } from '../binding.js';
import { type BehaviourTargets, distributionBehaviours } from './behaviours.js';
import { createOrigins } from './origins.js';
import {
  createCachePolicies,
  createOriginRequestPolicies,
  createResponseHeadersPolicies,
} from './policies.js';
import { createViewerFunctions } from './viewer-functions.js';
import { createWebBucket, deployWebApp } from './web-app.js';

const PRICE_CLASSES = {
  PriceClass_100: PriceClass.PRICE_CLASS_100,
  PriceClass_200: PriceClass.PRICE_CLASS_200,
  PriceClass_All: PriceClass.PRICE_CLASS_ALL,
} as const;

export interface DeliveryProps {
  /** Media bucket (in the stateful stack); read through origin access control. */
  readonly mediaBucket: IBucket;
  /** Bucket receiving CloudFront access logs and the web bucket's server access logs. */
  readonly logBucket: IBucket;
  /** The manifest function's URL: playlists, and held requests for parts not yet in S3. */
  readonly manifestUrl: IFunctionUrl;
  /** The operator events function's URL (response streaming, D44): `/api/operator/events`. */
  readonly eventsUrl: IFunctionUrl;
  /** Host name of the HTTP API behind `/api/*`. */
  readonly apiDomainName: string;
  /** Headers CloudFront adds to every API request (the origin-verify secret, D39). */
  readonly apiOriginHeaders?: Readonly<Record<string, string>>;
  /** The built web app (viewer and operator pages). */
  readonly webSource: ISource;
  readonly priceClass: 'PriceClass_100' | 'PriceClass_200' | 'PriceClass_All';
  /** ISO country codes allowed to reach the distribution; undefined means everywhere. */
  readonly geoAllowList?: readonly string[];
  readonly corsAllowOrigins: readonly string[];
  /** Custom domain names and their us-east-1 certificate. */
  readonly domainNames?: readonly string[];
  readonly certificateArn?: string;
  /**
   * Check playback tokens at the edge: a CloudFront Function reading this KeyValueStore (the playback keys, kept
   * by PlaybackKeys, D37) on the playlist and media behaviours. Absent: no check.
   */
  readonly playbackKeyStore?: IKeyValueStore;
}

/**
 * The CloudFront distribution (HTTP/2 and HTTP/3, HTTPS only), its behaviours built from the table in
 * core/contracts/delivery.ts: playlists from the manifest function, media from S3 with the manifest function as
 * failover for parts not yet published, `/api/*` to API Gateway uncached, and the web app as the default behaviour.
 */
export class Delivery extends Construct {
  readonly distribution: Distribution;
  readonly webBucket: Bucket;
  /** https://<domain> without a trailing slash. */
  readonly baseUrl: string;
  /** Every https://<host> the distribution answers on: its own domain, then the custom domain names. */
  readonly origins: readonly string[];
  private readonly webDeployment: BucketDeployment;
  /** Origins the pages may fetch from besides their own, for their CSP's connect-src (allowPageConnect). */
  private readonly pageConnectOrigins: string[] = [];

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    this.webBucket = createWebBucket(this, props.logBucket);
    const viewer = createViewerFunctions(this, props.playbackKeyStore);
    this.distribution = this.createDistribution(props, {
      cachePolicies: createCachePolicies(this),
      originRequestPolicies: createOriginRequestPolicies(this),
      responseHeaders: createResponseHeadersPolicies(
        this,
        props.corsAllowOrigins,
        () => this.pageConnectOrigins,
      ),
      origins: createOrigins(this, { ...props, webBucket: this.webBucket }),
      viewerFunctions: viewer.functions,
    });
    const domain =
      props.domainNames && props.certificateArn
        ? props.domainNames[0]!
        : this.distribution.distributionDomainName;
    this.baseUrl = `https://${domain}`;
    this.origins = [this.distribution.distributionDomainName, ...(props.domainNames ?? [])].map(
      (host) => `https://${host}`,
    );
    this.webDeployment = deployWebApp(this, {
      source: props.webSource,
      bucket: this.webBucket,
      distribution: this.distribution,
    });
  }

  private createDistribution(props: DeliveryProps, targets: BehaviourTargets): Distribution {
    const custom = props.domainNames && props.certificateArn;
    const errorResponses: ErrorResponse[] = CACHED_ERROR_STATUSES.map((httpStatus) => ({
      httpStatus,
      ttl: Duration.seconds(ERROR_CACHING_MIN_TTL_SECONDS),
    }));
    const distribution = new Distribution(this, 'Distribution', {
      comment: 'Mirror live video',
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: PRICE_CLASSES[props.priceClass],
      ...(custom
        ? {
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
            domainNames: [...props.domainNames!],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn!),
          }
        : {}),
      geoRestriction: props.geoAllowList ? GeoRestriction.allowlist(...props.geoAllowList) : undefined,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultRootObject: 'index.html',
      errorResponses,
      ...distributionBehaviours(targets),
    });
    Validations.of(distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF by default: playback is anonymous and cached, the control API needs SigV4, the session API is throttled by API Gateway. Add a WebACL per deployment if needed.',
      },
      ...(props.geoAllowList
        ? []
        : [
            {
              id: 'AwsSolutions-CFR1',
              reason: 'No geo allow-list configured for this stage (delivery.geoAllowList).',
            },
          ]),
      ...(custom
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes; configure delivery.domainNames to enforce TLSv1.2_2021.',
            },
          ]),
    );
    return distribution;
  }

  /**
   * Deploys a JSON file (deploy-time values allowed) into the web bucket next to the built app, e.g. the operator
   * page's runtime configuration. Under /operator/ it is invalidated with every deployment.
   */
  addWebJson(key: string, data: Record<string, unknown>): void {
    this.webDeployment.addSource(Source.jsonData(key, data));
  }

  /** Lets the pages fetch from `origin` (https://host): their Content-Security-Policy's connect-src (D39). */
  allowPageConnect(origin: string): void {
    this.pageConnectOrigins.push(origin);
  }

  /** MIRROR_DISTRIBUTION_ID and cloudfront:CreateInvalidation on this distribution only. */
  bindInvalidationTo(target: BindTarget): void {
    bindEnvironment(target, InvalidationEnv, { MIRROR_DISTRIBUTION_ID: this.distribution.distributionId });
    target.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['cloudfront:CreateInvalidation'],
        resources: [this.distribution.distributionArn],
      }),
    );
  }
}

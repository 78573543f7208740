import { Annotations, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachedMethods,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  Function as EdgeFunction,
  type ErrorResponse,
  type FunctionAssociation,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  FunctionUrlOriginAccessControl,
  GeoRestriction,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  type IOrigin,
  KeyValueStore,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import {
  FunctionUrlOrigin,
  HttpOrigin,
  OriginGroup,
  S3BucketOrigin,
} from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { playbackFunctionCode } from '../../../core/sessions/playback-function.js';
import type { BindTarget } from '../binding.js';

/** The only query parameters that change a playlist (RFC 8216bis 6.2.5 delivery directives). */
export const PLAYLIST_CACHE_KEY_QUERY = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;
/** Used when the manifest function sends no Cache-Control: about one part-hold-back at the seed's 100 ms parts. */
const PLAYLIST_DEFAULT_TTL = Duration.seconds(1);
const PLAYLIST_MAX_TTL = Duration.minutes(1);
/** Parts, segments and init segments never change once published. */
const MEDIA_DEFAULT_TTL = Duration.days(1);
const MEDIA_MAX_TTL = Duration.days(365);
/** CloudFront caches errors for 10 s by default; a player that asked a moment too early would be stuck. */
const ERROR_CACHING_TTL = Duration.seconds(1);
const CACHED_ERROR_CODES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];
/** The primary S3 origin answers 403 (no ListBucket) or 404 for a part that is not uploaded yet. */
const MEDIA_FAILOVER_CODES = [403, 404];

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
  /** Host name of the HTTP API behind `/api/*`. */
  readonly apiDomainName: string;
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
   * Check playback tokens at the edge: a CloudFront Function with a KeyValueStore on the playlist and media
   * behaviours (docs/sessions.md). The store's `playback-secret` key is filled once after deploy, outside the template.
   * @default false
   */
  readonly playbackProtection?: boolean;
}

/** Stands in for the store id in the function source: the real id is a deploy-time token, not a literal. */
const KVS_ID_PLACEHOLDER = 'mirror-kvs-id-placeholder';

/**
 * The CloudFront distribution (HTTP/2 and HTTP/3, HTTPS only): playlists from the manifest function, media from S3
 * with the manifest function as failover for parts not yet published, `/api/*` to API Gateway uncached, and the web
 * app as the default behaviour.
 */
export class Delivery extends Construct {
  readonly distribution: Distribution;
  readonly webBucket: Bucket;
  /** https://<domain> without a trailing slash. */
  readonly baseUrl: string;
  /** Every https://<host> the distribution answers on: its own domain, then the custom domain names. */
  readonly origins: readonly string[];
  private readonly webDeployment: BucketDeployment;
  /** Holds the playback token secret (key `playback-secret`) when playback protection is on. */
  readonly playbackKeys?: KeyValueStore;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const originShieldRegion = Stack.of(this).region;

    const playlistCache = new CachePolicy(this, 'PlaylistCache', {
      comment: 'LL-HLS playlists: keyed on the delivery directives only; honours the origin Cache-Control',
      queryStringBehavior: CacheQueryStringBehavior.allowList(...PLAYLIST_CACHE_KEY_QUERY),
      minTtl: Duration.seconds(0),
      defaultTtl: PLAYLIST_DEFAULT_TTL,
      maxTtl: PLAYLIST_MAX_TTL,
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const mediaCache = new CachePolicy(this, 'MediaCache', {
      comment: 'Immutable CMAF parts, segments and init segments: no query strings, headers or cookies',
      queryStringBehavior: CacheQueryStringBehavior.none(),
      minTtl: Duration.seconds(0),
      defaultTtl: MEDIA_DEFAULT_TTL,
      maxTtl: MEDIA_MAX_TTL,
    });
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'CORS for players on other origins, plus security headers',
      corsBehavior: {
        accessControlAllowOrigins: [...props.corsAllowOrigins],
        accessControlAllowMethods: ['GET', 'HEAD', 'OPTIONS'],
        accessControlAllowHeaders: ['*'],
        accessControlExposeHeaders: ['Age', 'Content-Length', 'Date'],
        accessControlAllowCredentials: false,
        accessControlMaxAge: Duration.minutes(10),
        originOverride: true,
      },
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.SAMEORIGIN, override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });

    // The media bucket belongs to the stateful stack, which cannot name this distribution without a cycle: use a
    // reference that leaves its policy alone; MediaStorage.allowCloudFrontRead() grants the read instead.
    const mediaBucket = Bucket.fromBucketAttributes(this, 'MediaBucketRef', {
      bucketArn: props.mediaBucket.bucketArn,
      bucketRegionalDomainName: props.mediaBucket.bucketRegionalDomainName,
    });
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      'MediaStorage.allowCloudFrontRead() grants the OAC read in the media bucket policy.',
    );
    const mediaOrigin = S3BucketOrigin.withOriginAccessControl(mediaBucket, { originShieldRegion });

    const functionUrlAccess = new FunctionUrlOriginAccessControl(this, 'ManifestAccess', {});
    const manifestOrigin = (): IOrigin =>
      FunctionUrlOrigin.withOriginAccessControl(props.manifestUrl, {
        originAccessControl: functionUrlAccess,
        originShieldRegion,
        readTimeout: Duration.seconds(30),
      });
    const mediaWithHold = new OriginGroup({
      primaryOrigin: mediaOrigin,
      fallbackOrigin: manifestOrigin(),
      fallbackStatusCodes: MEDIA_FAILOVER_CODES,
    });

    this.webBucket = new Bucket(this, 'Web', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/web/',
      // Content is a build artefact: BucketDeployment empties it on delete, then the bucket goes too.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const directoryIndex = new EdgeFunction(this, 'DirectoryIndex', {
      comment: 'Serve /operator/ as /operator/index.html',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(
        "function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
      ),
    });

    let playbackCheck: FunctionAssociation[] | undefined;
    if (props.playbackProtection) {
      this.playbackKeys = new KeyValueStore(this, 'PlaybackKeys', {
        comment:
          'Mirror playback token secret (key playback-secret), copied from the session secret after deploy',
      });
      const check = new EdgeFunction(this, 'PlaybackCheck', {
        comment: 'Check the playback token (cookie mirror_playback or ?token=) before the cache',
        runtime: FunctionRuntime.JS_2_0,
        keyValueStore: this.playbackKeys,
        // playbackFunctionCode checks that a literal id is an id; the store's id is a token resolved at deploy.
        code: FunctionCode.fromInline(
          playbackFunctionCode(KVS_ID_PLACEHOLDER).replaceAll(
            KVS_ID_PLACEHOLDER,
            this.playbackKeys.keyValueStoreId,
          ),
        ),
      });
      playbackCheck = [{ function: check, eventType: FunctionEventType.VIEWER_REQUEST }];
    }

    const errorResponses: ErrorResponse[] = CACHED_ERROR_CODES.map((httpStatus) => ({
      httpStatus,
      ttl: ERROR_CACHING_TTL,
    }));
    const custom = props.domainNames && props.certificateArn;
    const common = {
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      responseHeadersPolicy: headers,
      compress: true,
    };

    this.distribution = new Distribution(this, 'Distribution', {
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
      defaultBehavior: {
        ...common,
        origin: S3BucketOrigin.withOriginAccessControl(this.webBucket),
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        functionAssociations: [{ function: directoryIndex, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '*.m3u8': {
          ...common,
          functionAssociations: playbackCheck,
          origin: manifestOrigin(),
          cachePolicy: playlistCache,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: CachedMethods.CACHE_GET_HEAD_OPTIONS,
        },
        '*.m4s': {
          ...common,
          functionAssociations: playbackCheck,
          origin: mediaWithHold,
          cachePolicy: mediaCache,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: CachedMethods.CACHE_GET_HEAD_OPTIONS,
        },
        '*.mp4': {
          ...common,
          functionAssociations: playbackCheck,
          origin: mediaWithHold,
          cachePolicy: mediaCache,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: CachedMethods.CACHE_GET_HEAD_OPTIONS,
        },
        '/api/*': {
          ...common,
          origin: new HttpOrigin(props.apiDomainName, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          }),
          cachePolicy: CachePolicy.CACHING_DISABLED,
          // Host must stay the API's own name, or API Gateway cannot route the request.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          allowedMethods: AllowedMethods.ALLOW_ALL,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
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

    const domain = custom ? props.domainNames![0]! : this.distribution.distributionDomainName;
    this.baseUrl = `https://${domain}`;
    this.origins = [this.distribution.distributionDomainName, ...(props.domainNames ?? [])].map(
      (host) => `https://${host}`,
    );

    const deployment = new BucketDeployment(this, 'WebDeployment', {
      sources: [props.webSource],
      destinationBucket: this.webBucket,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/operator/*', '/*.js', '/*.js.map'],
      retainOnDelete: false,
      memoryLimit: 512,
    });
    this.webDeployment = deployment;
    // BucketDeployment's handler is a stack-level singleton; its role's parent is that function.
    const webBucketLogicalId = Stack.of(this).getLogicalId(this.webBucket.node.defaultChild as CfnElement);
    const deploymentHandler = deployment.handlerRole.node.scope!;
    const cdkOwned =
      'BucketDeployment handler generated by CDK to copy the web app build into the web bucket';
    Validations.of(deploymentHandler).acknowledge(
      { id: 'AwsSolutions-L1', reason: `${cdkOwned}; CDK picks its runtime.` },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${cdkOwned}; logs only.`,
      },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${cdkOwned}: read the staged asset, replace the web bucket contents.`,
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        reason: `${cdkOwned}: reads the staged asset from the bootstrap bucket.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${webBucketLogicalId}.Arn>/*]`,
        reason: `${cdkOwned}: writes the web bucket.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${cdkOwned}: cloudfront:CreateInvalidation takes no resource here.`,
      },
    );
  }

  /**
   * Deploys a JSON file (deploy-time values allowed) into the web bucket next to the built app, e.g. the operator
   * page's runtime configuration. Under /operator/ it is invalidated with every deployment.
   */
  addWebJson(key: string, data: Record<string, unknown>): void {
    this.webDeployment.addSource(Source.jsonData(key, data));
  }

  /** MIRROR_DISTRIBUTION_ID and cloudfront:CreateInvalidation on this distribution only. */
  bindInvalidationTo(target: BindTarget): void {
    target.addEnvironment('MIRROR_DISTRIBUTION_ID', this.distribution.distributionId);
    target.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['cloudfront:CreateInvalidation'],
        resources: [this.distribution.distributionArn],
      }),
    );
  }
}

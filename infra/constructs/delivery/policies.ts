import { Duration } from 'aws-cdk-lib';
import {
  CacheCookieBehavior,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  type ICachePolicy,
  type IOriginRequestPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  ResponseHeadersPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import {
  CACHE_POLICIES,
  type CachePolicyName,
  type CachePolicySpec,
  CORS,
  SECURITY_HEADERS,
} from '../../../core/contracts/delivery.js';
import { VIEWER_ADDRESS_HEADER } from '../../../core/contracts/viewer-address.js';

const MANAGED_CACHE_POLICIES = {
  CachingOptimized: CachePolicy.CACHING_OPTIMIZED,
  CachingDisabled: CachePolicy.CACHING_DISABLED,
} as const;

/** One CloudFront cache policy per entry of the table; managed entries refer to AWS's own (`PlaylistCache`, ...). */
export function createCachePolicies(scope: Construct): Record<CachePolicyName, ICachePolicy> {
  const policies = {} as Record<CachePolicyName, ICachePolicy>;
  for (const name of Object.keys(CACHE_POLICIES) as CachePolicyName[]) {
    const spec: CachePolicySpec = CACHE_POLICIES[name];
    policies[name] = spec.managed
      ? MANAGED_CACHE_POLICIES[spec.managed]
      : new CachePolicy(scope, `${name[0]!.toUpperCase()}${name.slice(1)}Cache`, cachePolicyProps(spec));
  }
  return policies;
}

function cachePolicyProps(spec: CachePolicySpec) {
  return {
    comment: spec.comment,
    queryStringBehavior:
      spec.queryStrings.length > 0
        ? CacheQueryStringBehavior.allowList(...spec.queryStrings)
        : CacheQueryStringBehavior.none(),
    headerBehavior:
      spec.headers.length > 0 ? CacheHeaderBehavior.allowList(...spec.headers) : CacheHeaderBehavior.none(),
    cookieBehavior:
      spec.cookies.length > 0 ? CacheCookieBehavior.allowList(...spec.cookies) : CacheCookieBehavior.none(),
    minTtl: Duration.seconds(spec.minTtlSeconds),
    defaultTtl: Duration.seconds(spec.defaultTtlSeconds),
    maxTtl: Duration.seconds(spec.maxTtlSeconds),
    enableAcceptEncodingGzip: spec.acceptEncoding,
    enableAcceptEncodingBrotli: spec.acceptEncoding,
  };
}

/**
 * The origin request policy of each `originRequest` of the table that needs one: the viewer's address only
 * (CloudFront sets the header itself, replacing any a client sent), or AWS's AllViewerExceptHostHeader, which also
 * carries CloudFront's headers, the viewer address among them. The cache key's query strings reach the origin anyway.
 */
export function createOriginRequestPolicies(
  scope: Construct,
): Record<'viewerAddress' | 'allViewerExceptHost', IOriginRequestPolicy> {
  return {
    viewerAddress: new OriginRequestPolicy(scope, 'ViewerAddressOrigin', {
      comment: 'The viewer address for the API rate limit, nothing else',
      headerBehavior: OriginRequestHeaderBehavior.allowList(VIEWER_ADDRESS_HEADER),
      queryStringBehavior: OriginRequestQueryStringBehavior.none(),
      cookieBehavior: OriginRequestCookieBehavior.none(),
    }),
    allViewerExceptHost: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
  };
}

/** The one response headers policy of every behaviour: the table's CORS set for `allowOrigins`, and security headers. */
export function createResponseHeadersPolicy(
  scope: Construct,
  allowOrigins: readonly string[],
): ResponseHeadersPolicy {
  const { strictTransportSecurity: hsts, xssProtection: xss } = SECURITY_HEADERS;
  return new ResponseHeadersPolicy(scope, 'Headers', {
    comment: 'CORS for players on other origins, plus security headers',
    corsBehavior: {
      accessControlAllowOrigins: [...allowOrigins],
      accessControlAllowMethods: [...CORS.allowMethods],
      accessControlAllowHeaders: [...CORS.allowHeaders],
      accessControlExposeHeaders: [...CORS.exposeHeaders],
      accessControlAllowCredentials: CORS.allowCredentials,
      accessControlMaxAge: Duration.seconds(CORS.maxAgeSeconds),
      originOverride: CORS.originOverride,
    },
    securityHeadersBehavior: {
      strictTransportSecurity: {
        accessControlMaxAge: Duration.seconds(hsts.maxAgeSeconds),
        includeSubdomains: hsts.includeSubdomains,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: HeadersFrameOption[SECURITY_HEADERS.frameOptions], override: true },
      referrerPolicy: { referrerPolicy: REFERRER_POLICIES[SECURITY_HEADERS.referrerPolicy], override: true },
      xssProtection: { protection: xss.protection, modeBlock: xss.modeBlock, override: true },
    },
  });
}

const REFERRER_POLICIES = {
  'strict-origin-when-cross-origin': HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
} as const;

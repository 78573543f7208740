import { Duration, Lazy } from 'aws-cdk-lib';
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
import { pageContentSecurityPolicy } from '../../../core/contracts/security-headers.js';
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

/** The response headers policy of each kind of behaviour: pages, and everything else (media, playlists, API). */
export interface ResponseHeadersPolicies {
  readonly default: ResponseHeadersPolicy;
  /** The default set plus the pages' Content-Security-Policy (core/contracts/security-headers.ts, D39). */
  readonly pages: ResponseHeadersPolicy;
}

/**
 * The table's CORS set for `allowOrigins` and security headers on every behaviour; the page behaviours add the
 * pages' CSP, whose `connect-src` takes `connectOrigins()` when the template is written (origins such as the
 * operator sign-in's Cognito domain are added after the distribution exists).
 */
export function createResponseHeadersPolicies(
  scope: Construct,
  allowOrigins: readonly string[],
  connectOrigins: () => readonly string[],
): ResponseHeadersPolicies {
  const policy = (id: string, comment: string, contentSecurityPolicy?: string) =>
    new ResponseHeadersPolicy(scope, id, {
      comment,
      corsBehavior: {
        accessControlAllowOrigins: [...allowOrigins],
        accessControlAllowMethods: [...CORS.allowMethods],
        accessControlAllowHeaders: [...CORS.allowHeaders],
        accessControlExposeHeaders: [...CORS.exposeHeaders],
        accessControlAllowCredentials: CORS.allowCredentials,
        accessControlMaxAge: Duration.seconds(CORS.maxAgeSeconds),
        originOverride: CORS.originOverride,
      },
      securityHeadersBehavior: securityHeadersBehavior(contentSecurityPolicy),
    });
  return {
    default: policy('Headers', 'CORS for players on other origins, plus security headers'),
    pages: policy(
      'PageHeaders',
      'The pages: CORS and security headers plus their Content-Security-Policy',
      Lazy.string({ produce: () => pageContentSecurityPolicy({ connectOrigins: connectOrigins() }) }),
    ),
  };
}

function securityHeadersBehavior(contentSecurityPolicy: string | undefined) {
  const { strictTransportSecurity: hsts, xssProtection: xss } = SECURITY_HEADERS;
  return {
    strictTransportSecurity: {
      accessControlMaxAge: Duration.seconds(hsts.maxAgeSeconds),
      includeSubdomains: hsts.includeSubdomains,
      override: true,
    },
    contentTypeOptions: { override: true },
    frameOptions: { frameOption: HeadersFrameOption[SECURITY_HEADERS.frameOptions], override: true },
    referrerPolicy: { referrerPolicy: REFERRER_POLICIES[SECURITY_HEADERS.referrerPolicy], override: true },
    xssProtection: { protection: xss.protection, modeBlock: xss.modeBlock, override: true },
    ...(contentSecurityPolicy === undefined
      ? {}
      : { contentSecurityPolicy: { contentSecurityPolicy, override: true } }),
  };
}

const REFERRER_POLICIES = {
  'strict-origin-when-cross-origin': HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
} as const;

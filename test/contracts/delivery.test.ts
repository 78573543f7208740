import { CachePolicy, OriginRequestPolicy } from 'aws-cdk-lib/aws-cloudfront';
import { describe, expect, it } from 'vitest';
import {
  BEHAVIOURS,
  type Behaviour,
  behaviourFor,
  CACHE_POLICIES,
  CACHED_ERROR_STATUSES,
  type CachePolicySpec,
  CORS,
  DEFAULT_PATH_PATTERN,
  ERROR_CACHING_MIN_TTL_SECONDS,
  METHOD_SETS,
  matchesPathPattern,
  type OriginName,
  PART_PATH_PATTERN,
  SECURITY_HEADERS,
} from '../../core/contracts/delivery.js';
import { renditionFiles } from '../../core/contracts/names.js';
import { isPageBehaviour, pageContentSecurityPolicy } from '../../core/contracts/security-headers.js';
import { VIEWER_ADDRESS_HEADER } from '../../core/contracts/viewer-address.js';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import { Edge, type EdgeOrigins } from '../../local/edge/edge.js';
import { onlyResource, synthStage } from '../infra/synth.js';

/**
 * One table (core/contracts/delivery.ts), two consumers: the synthesized CloudFront distribution and the local
 * edge must both do what it says, so changing a TTL, a failover status, a method set or the CORS set on one side
 * only fails here.
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const { platform } = synthStage('dev', { delivery: { playbackProtection: true } });
const config = onlyResource(platform, 'AWS::CloudFront::Distribution').properties.DistributionConfig as Json;
const resource = (logicalId: string): Json => platform.toJSON().Resources[logicalId].Properties;

function cloudFrontBehaviour(behaviour: Behaviour): Json {
  if (behaviour.pathPattern === DEFAULT_PATH_PATTERN) return config.DefaultCacheBehavior;
  return config.CacheBehaviors.find((b: Json) => b.PathPattern === behaviour.pathPattern);
}

/** A broadcast id (core/contracts/names.ts): media sit in its folder. */
const BROADCAST = '0k3x9a2bq1zz';
/** A path of each behaviour, as players and the web app request them. */
const SAMPLE_PATHS: Record<string, string> = {
  // The multivariant playlist: plain media-playlist requests are keyed by a time bucket as well (D31), tested in
  // test/local/edge-freshness.test.ts.
  '*.m3u8': '/cam1/master.m3u8',
  [PART_PATH_PATTERN]: `/cam1/360p/${renditionFiles.part(BROADCAST, 5, 0)}`,
  '*.m4s': `/cam1/360p/${renditionFiles.segment(BROADCAST, 5)}`,
  '*.mp4': `/cam1/360p/${renditionFiles.init(BROADCAST, 1)}`,
  '*.jpg': '/cam1/thumbnail-320.jpg',
  '*/recording.m3u8': `/cam1/360p/${BROADCAST}/recording.m3u8`,
  '*/recording-*.m3u8': `/cam1/recording-${BROADCAST}.m3u8`,
  '*/dvr.m3u8': '/cam1/360p/dvr.m3u8',
  '/api/sessions/streams': '/api/sessions/streams',
  '/api/operator/events': '/api/operator/events',
  '/api/*': '/api/sessions/AbCdEfGhIjKlMnOp',
  [DEFAULT_PATH_PATTERN]: '/operator/',
};
const sampleOf = (behaviour: Behaviour) => SAMPLE_PATHS[behaviour.pathPattern]!;

const sorted = (values: readonly (string | number)[]) => [...values].sort();

describe('which media reach the manifest function', () => {
  it.each(['cam1', 'part-1', 'seg-2'])(
    'parts of stream %s match the part pattern, segments and init segments do not',
    (stream) => {
      const folder = `/${stream}/360p`;
      const part = `${folder}/${renditionFiles.part(BROADCAST, 12, 3)}`;
      expect(matchesPathPattern(PART_PATH_PATTERN, part)).toBe(true);
      expect(behaviourFor(part).origin).toBe('manifest');
      for (const file of [renditionFiles.segment(BROADCAST, 12), renditionFiles.init(BROADCAST, 2)]) {
        const path = `${folder}/${file}`;
        // CloudFront's `*` crosses slashes: under a stream named part-..., segments match too (the function reads
        // them from storage; test/manifest/manifest.test.ts).
        const overlaps = stream.startsWith('part-') && path.endsWith('.m4s');
        expect(matchesPathPattern(PART_PATH_PATTERN, path)).toBe(overlaps);
        expect(behaviourFor(path)).toMatchObject({
          name: 'media',
          origin: overlaps ? 'manifest' : 'media',
        });
      }
    },
  );

  it('sends parts, and no other media behaviour, to the manifest function (the part store, D33)', () => {
    const media = BEHAVIOURS.filter((b) => b.name === 'media');
    expect(media.filter((b) => b.origin === 'manifest').map((b) => b.pathPattern)).toEqual([
      PART_PATH_PATTERN,
    ]);
    expect(media.filter((b) => b.origin !== 'manifest').every((b) => b.origin === 'media')).toBe(true);
  });
});

describe('the CloudFront distribution is the table', () => {
  it('has exactly the table behaviours, in its order', () => {
    const patterns = BEHAVIOURS.map((b) => b.pathPattern).filter((p) => p !== DEFAULT_PATH_PATTERN);
    expect(config.CacheBehaviors.map((b: Json) => b.PathPattern)).toEqual(patterns);
    expect(Object.keys(SAMPLE_PATHS).sort()).toEqual(BEHAVIOURS.map((b) => b.pathPattern).sort());
    for (const behaviour of BEHAVIOURS) expect(behaviourFor(sampleOf(behaviour))).toBe(behaviour);
  });

  it.each(BEHAVIOURS)('$pathPattern: cache policy TTLs and cache key', (behaviour) => {
    const spec: CachePolicySpec = CACHE_POLICIES[behaviour.cachePolicy];
    const id = cloudFrontBehaviour(behaviour).CachePolicyId;
    if (spec.managed) {
      expect(id).toBe(
        CachePolicy[spec.managed === 'CachingDisabled' ? 'CACHING_DISABLED' : 'CACHING_OPTIMIZED']
          .cachePolicyId,
      );
      return;
    }
    const policy = resource(id.Ref).CachePolicyConfig;
    expect([policy.MinTTL, policy.DefaultTTL, policy.MaxTTL]).toEqual([
      spec.minTtlSeconds,
      spec.defaultTtlSeconds,
      spec.maxTtlSeconds,
    ]);
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
    expect(key.QueryStringsConfig.QueryStrings ?? []).toEqual([...spec.queryStrings]);
    expect(key.QueryStringsConfig.QueryStringBehavior).toBe(
      spec.queryStrings.length > 0 ? 'whitelist' : 'none',
    );
    expect(key.HeadersConfig.Headers ?? []).toEqual([...spec.headers]);
    expect(key.CookiesConfig.Cookies ?? []).toEqual([...spec.cookies]);
    expect([key.EnableAcceptEncodingGzip, key.EnableAcceptEncodingBrotli]).toEqual([
      spec.acceptEncoding,
      spec.acceptEncoding,
    ]);
  });

  it.each(BEHAVIOURS)(
    '$pathPattern: methods, forwarding, compression, viewer-request function',
    (behaviour) => {
      const b = cloudFrontBehaviour(behaviour);
      expect(sorted(b.AllowedMethods)).toEqual(sorted(METHOD_SETS[behaviour.allowedMethods]));
      expect(sorted(b.CachedMethods ?? METHOD_SETS.GET_HEAD)).toEqual(
        sorted(METHOD_SETS[behaviour.cachedMethods]),
      );
      if (behaviour.originRequest === 'viewerAddress') {
        // The viewer's address and nothing else: no header, cookie or query a viewer sends reaches the origin.
        const policy = resource(b.OriginRequestPolicyId.Ref).OriginRequestPolicyConfig;
        expect(policy.HeadersConfig).toEqual({
          HeaderBehavior: 'whitelist',
          Headers: [VIEWER_ADDRESS_HEADER],
        });
        expect(policy.CookiesConfig.CookieBehavior).toBe('none');
        expect(policy.QueryStringsConfig.QueryStringBehavior).toBe('none');
      } else {
        expect(b.OriginRequestPolicyId).toBe(
          behaviour.originRequest === 'allViewerExceptHost'
            ? OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId
            : undefined,
        );
      }
      expect(b.Compress).toBe(behaviour.compress);
      // The freshness bucket says so in its comment; the token check is the other function with the KeyValueStore;
      // the directory index has none.
      const functions = (b.FunctionAssociations ?? []).map((a: Json) => {
        const config = resource(a.FunctionARN['Fn::GetAtt'][0]).FunctionConfig;
        if (/bucket/.test(config.Comment)) return 'playlistFreshness';
        return config.KeyValueStoreAssociations ? 'playbackCheck' : 'directoryIndex';
      });
      expect(functions).toEqual(behaviour.viewerRequest ? [behaviour.viewerRequest] : []);
    },
  );

  it.each(BEHAVIOURS)('$pathPattern: origin', (behaviour) => {
    const target = cloudFrontBehaviour(behaviour).TargetOriginId;
    const group = config.OriginGroups?.Items.find((g: Json) => g.Id === target);
    const domain = (id: string) => JSON.stringify(config.Origins.find((o: Json) => o.Id === id).DomainName);
    const expected: Record<OriginName, RegExp[]> = {
      manifest: [/ManifestFunctionFunctionUrl/],
      media: [/MediaStorageMedia.*RegionalDomainName/],
      api: [/ApiHttp.*ApiEndpoint/],
      webApp: [/DeliveryWeb/],
      events: [/OperatorEventsFunctionFunctionUrl/],
    };
    const members: string[] = group ? group.Members.Items.map((m: Json) => m.OriginId) : [target];
    expect(members.map(domain)).toEqual(expected[behaviour.origin].map((re) => expect.stringMatching(re)));
  });

  it('caches exactly one API path, the shared stream list, for at most two seconds, keyed on its cursor only', () => {
    const api = BEHAVIOURS.filter((b) => b.origin === 'api');
    const cached = api.filter((b) => CACHE_POLICIES[b.cachePolicy].maxTtlSeconds > 0);
    expect(cached.map((b) => b.pathPattern)).toEqual(['/api/sessions/streams']);
    const policy = resource(cloudFrontBehaviour(cached[0]!).CachePolicyId.Ref).CachePolicyConfig;
    expect(policy.MaxTTL).toBeLessThanOrEqual(2);
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
    // Nothing that differs per viewer (cookies, Authorization, the viewer address) is in the key or splits it.
    expect(key.QueryStringsConfig.QueryStrings).toEqual(['cursor']);
    expect(key.HeadersConfig.HeaderBehavior).toBe('none');
    expect(key.CookiesConfig.CookieBehavior).toBe('none');
    // Every other API path stays uncached, with what API Gateway needs (Authorization, no Host) and the
    // viewer address among CloudFront's headers.
    for (const b of api.filter((x) => !cached.includes(x))) {
      expect(b.cachePolicy).toBe('uncached');
      expect(b.originRequest).toBe('allViewerExceptHost');
    }
  });

  it('has no origin group: parts no longer fail over from storage (D33)', () => {
    expect(config.OriginGroups).toBeUndefined();
  });

  it('caches the table error statuses for the error caching TTL', () => {
    expect(config.CustomErrorResponses).toEqual(
      CACHED_ERROR_STATUSES.map((code) => ({
        ErrorCode: code,
        ErrorCachingMinTTL: ERROR_CACHING_MIN_TTL_SECONDS,
      })),
    );
  });

  it.each(BEHAVIOURS)("$pathPattern: carries the table's CORS and security headers", (b) => {
    const policy = resource(cloudFrontBehaviour(b).ResponseHeadersPolicyId.Ref).ResponseHeadersPolicyConfig;
    // The pages' policy alone adds their Content-Security-Policy (core/contracts/security-headers.ts, D39).
    expect(policy.SecurityHeadersConfig.ContentSecurityPolicy !== undefined).toBe(isPageBehaviour(b.name));
    expect(policy.CorsConfig).toEqual({
      AccessControlAllowOrigins: { Items: ['*'] },
      AccessControlAllowMethods: { Items: [...CORS.allowMethods] },
      AccessControlAllowHeaders: { Items: [...CORS.allowHeaders] },
      AccessControlExposeHeaders: { Items: [...CORS.exposeHeaders] },
      AccessControlAllowCredentials: CORS.allowCredentials,
      AccessControlMaxAgeSec: CORS.maxAgeSeconds,
      OriginOverride: CORS.originOverride,
    });
    expect(policy.SecurityHeadersConfig.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: SECURITY_HEADERS.strictTransportSecurity.maxAgeSeconds,
      IncludeSubdomains: SECURITY_HEADERS.strictTransportSecurity.includeSubdomains,
    });
  });
});

/** Fake origins recording what reached them; `media` answers `mediaStatus`, every answer carries `cacheControl`. */
function harness(options: { mediaStatus?: number; cacheControl?: string; viewerRequest?: boolean } = {}) {
  const calls: Record<keyof EdgeOrigins, HttpRequest[]> = {
    manifest: [],
    media: [],
    control: [],
    session: [],
    web: [],
    events: [],
  };
  const origin = (name: keyof EdgeOrigins, status = 200): HttpApp => ({
    async handle(request) {
      calls[name].push(request);
      const headers: Record<string, string> = {};
      if (options.cacheControl !== undefined) headers['cache-control'] = options.cacheControl;
      return { status, headers, body: name } satisfies HttpResponse;
    },
  });
  let now = 1_000_000;
  const edge = new Edge(
    {
      manifest: origin('manifest'),
      media: origin('media', options.mediaStatus),
      control: origin('control'),
      session: origin('session'),
      web: origin('web'),
      events: origin('events'),
    },
    {
      now: () => now,
      viewerRequest: options.viewerRequest
        ? async () => ({ status: 403, headers: {}, body: 'refused' })
        : undefined,
    },
  );
  const get = (path: string, query: Record<string, string> = {}, method = 'GET') =>
    edge.handle({ method, path, query, headers: {} });
  return { edge, calls, get, advance: (ms: number) => (now += ms) };
}

/** Which fake origins a behaviour's origin is, in the order they are asked. */
const LOCAL_ORIGINS: Record<OriginName, (keyof EdgeOrigins)[]> = {
  manifest: ['manifest'],
  media: ['media'],
  api: ['session'],
  webApp: ['web'],
  events: ['events'],
};

/** The local edge keeps no copy of the web app (routes.ts says why); every other behaviour caches per its policy. */
const cachedLocally = (behaviour: Behaviour) =>
  behaviour.name !== 'web' && CACHE_POLICIES[behaviour.cachePolicy].maxTtlSeconds > 0;

describe('the local edge is the table', () => {
  it.each(BEHAVIOURS)(
    '$pathPattern: routes to its origin, forwarding the query its policy forwards',
    async (b) => {
      const { calls, get } = harness();
      const query = { _HLS_msn: '4', _HLS_part: '1', cb: '123' };
      await get(sampleOf(b), query);
      const [first] = LOCAL_ORIGINS[b.origin];
      const asked = Object.entries(calls).filter(([, c]) => c.length > 0);
      expect(asked.map(([name]) => name)).toEqual([first]);
      const forwarded = calls[first!][0]!.query;
      const spec: CachePolicySpec = CACHE_POLICIES[b.cachePolicy];
      const keyed = spec.queryStrings.filter((name) => name in query);
      expect(Object.keys(forwarded)).toEqual(
        b.originRequest === 'allViewerExceptHost' ? Object.keys(query) : keyed,
      );
    },
  );

  it.each(BEHAVIOURS)(
    '$pathPattern: forwards the connection as the viewer address where CloudFront does, never the client value',
    async (b) => {
      const { edge, calls } = harness();
      await edge.handle(
        {
          method: 'GET',
          path: sampleOf(b),
          query: {},
          headers: { [VIEWER_ADDRESS_HEADER]: '203.0.113.9:1' },
          sourceIp: '198.51.100.7',
        },
        undefined,
        '198.51.100.7:50123',
      );
      const [first] = LOCAL_ORIGINS[b.origin];
      const seen = calls[first!][0]!.headers[VIEWER_ADDRESS_HEADER];
      expect(seen).toBe(b.originRequest === 'cacheKeyOnly' ? undefined : '198.51.100.7:50123');
    },
  );

  it.each(BEHAVIOURS.filter(cachedLocally))(
    '$pathPattern: keeps an answer without Cache-Control for the default TTL',
    async (b) => {
      const { get, advance } = harness();
      const ttlMs = CACHE_POLICIES[b.cachePolicy].defaultTtlSeconds * 1000;
      expect((await get(sampleOf(b))).cache).toBe('miss');
      advance(ttlMs - 1);
      expect((await get(sampleOf(b))).cache).toBe('hit');
      advance(1);
      expect((await get(sampleOf(b))).cache).toBe('miss');
    },
  );

  it.each(BEHAVIOURS.filter(cachedLocally))('$pathPattern: clamps max-age to the TTL range', async (b) => {
    const spec: CachePolicySpec = CACHE_POLICIES[b.cachePolicy];
    const long = harness({ cacheControl: `max-age=${spec.maxTtlSeconds * 10}` });
    await long.get(sampleOf(b));
    long.advance(spec.maxTtlSeconds * 1000 - 1);
    expect((await long.get(sampleOf(b))).cache).toBe('hit');
    long.advance(1);
    expect((await long.get(sampleOf(b))).cache).toBe('miss');

    const none = harness({ cacheControl: 'no-store' });
    await none.get(sampleOf(b));
    none.advance(spec.minTtlSeconds * 1000);
    expect((await none.get(sampleOf(b))).cache).toBe('miss');
  });

  it.each(BEHAVIOURS.filter((b) => !cachedLocally(b)))(
    '$pathPattern: asks the origin every time',
    async (b) => {
      const { get } = harness({ cacheControl: 'max-age=600' });
      expect((await get(sampleOf(b))).cache).toBe('uncached');
      expect((await get(sampleOf(b))).cache).toBe('uncached');
    },
  );

  it('asks the manifest function, never storage, for a part', async () => {
    const part = BEHAVIOURS.find((b) => b.pathPattern === PART_PATH_PATTERN)!;
    for (const status of [403, 404, 500]) {
      const { calls, get } = harness({ mediaStatus: status });
      await get(sampleOf(part));
      expect(calls.manifest).toHaveLength(1);
      expect(calls.media).toHaveLength(0);
    }
  });

  it.each(BEHAVIOURS.filter((b) => b.origin === 'media'))(
    '$pathPattern: never fails over; a miss is the storage answer, cached for the error TTL',
    async (b) => {
      for (const status of [403, 404]) {
        const { calls, get, advance } = harness({ mediaStatus: status });
        const first = await get(sampleOf(b));
        expect(first.status).toBe(status);
        expect(calls.manifest).toHaveLength(0);
        advance(ERROR_CACHING_MIN_TTL_SECONDS * 1000 - 1);
        expect((await get(sampleOf(b))).cache).toBe('error-hit');
        advance(1);
        expect((await get(sampleOf(b))).cache).toBe('miss');
        expect(calls.media).toHaveLength(2);
      }
    },
  );

  it.each(BEHAVIOURS)('$pathPattern: refuses the methods CloudFront refuses', async (b) => {
    const allowed: string[] = cloudFrontBehaviour(b).AllowedMethods;
    for (const method of METHOD_SETS.ALL) {
      const response = await harness().get(sampleOf(b), {}, method);
      expect(response.status === 403, `${method} ${sampleOf(b)}`).toBe(!allowed.includes(method));
    }
  });

  it.each(BEHAVIOURS)('$pathPattern: runs the viewer-request function where CloudFront does', async (b) => {
    const checked = cloudFrontBehaviour(b).FunctionAssociations?.some(
      (a: Json) => resource(a.FunctionARN['Fn::GetAtt'][0]).FunctionConfig.KeyValueStoreAssociations,
    );
    const { get } = harness({ viewerRequest: true });
    expect((await get(sampleOf(b))).status === 403).toBe(checked === true);
  });

  it.each(BEHAVIOURS)(
    '$pathPattern: sends the CORS and security headers of the CloudFront policy',
    async (b) => {
      const policy = resource(cloudFrontBehaviour(b).ResponseHeadersPolicyId.Ref).ResponseHeadersPolicyConfig;
      const cors = policy.CorsConfig;
      const hsts = policy.SecurityHeadersConfig.StrictTransportSecurity;
      const { headers } = await harness().get(sampleOf(b));
      // The local edge has no Cognito sign-in: its pages' CSP is the table's without extra connect origins.
      expect(headers['content-security-policy']).toBe(
        isPageBehaviour(b.name) ? pageContentSecurityPolicy() : undefined,
      );
      expect(headers).toMatchObject({
        'access-control-allow-origin': cors.AccessControlAllowOrigins.Items.join(', '),
        'access-control-allow-methods': cors.AccessControlAllowMethods.Items.join(', '),
        'access-control-allow-headers': cors.AccessControlAllowHeaders.Items.join(', '),
        'access-control-expose-headers': cors.AccessControlExposeHeaders.Items.join(', '),
        'access-control-max-age': String(cors.AccessControlMaxAgeSec),
        'strict-transport-security': `max-age=${hsts.AccessControlMaxAgeSec}${hsts.IncludeSubdomains ? '; includeSubDomains' : ''}`,
      });
    },
  );
});

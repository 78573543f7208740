import { allowsMethod, behaviourFor, corsHeaders, securityHeaders } from '../../core/contracts/delivery.js';
import { type FreshnessRequest, loadFreshness } from '../../core/contracts/playlist-freshness.js';
import { behaviourSecurityHeaders } from '../../core/contracts/security-headers.js';
import { formatViewerAddress, VIEWER_ADDRESS_HEADER } from '../../core/contracts/viewer-address.js';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';
import { type CacheStatus, EdgeCache } from './cache.js';
import { cacheKeyFor, cachePolicyOf, originQuery, type Route, routeFor, streamIdOf } from './routes.js';
import { isViewerResponse, type ViewerRequestFunction } from './viewer-request.js';

export interface EdgeOrigins {
  /** The manifest function: playlists, and parts (from the part store, held until published when hinted). */
  readonly manifest: HttpApp;
  /** Media storage (local disk here, S3 on AWS): the origin of segments and init segments. */
  readonly media: HttpApp;
  readonly control?: HttpApp;
  readonly session?: HttpApp;
  /** The built web app. */
  readonly web?: HttpApp;
  /** The operator events (Server-Sent Events, D44): its responses stream (HttpResponse.stream). */
  readonly events?: HttpApp;
}

export interface EdgeResponse extends HttpResponse {
  readonly route: Route;
  readonly cache: CacheStatus | 'uncached';
}

export interface EdgeStats {
  readonly cache: EdgeCache['stats'];
  /** Origin requests by route (after the cache and collapsing). */
  readonly origin: Record<Route | 'parts', number>;
  /** Viewer requests by route. */
  readonly requests: Record<Route, number>;
  /** Requests the viewer-request function answered itself (a 403 without a valid playback token). */
  readonly viewerRequestAnswers: number;
}

/** The one response headers policy CloudFront puts on every behaviour: security headers and the CORS set. */
const RESPONSE_HEADERS: Readonly<Record<string, string>> = { ...securityHeaders(), ...corsHeaders() };

/** How long a client counts as a viewer of a stream after its last playlist request. */
const VIEWER_WINDOW_MS = 10_000;

/**
 * The local edge: the CloudFront distribution's behaviours (the table in core/contracts/delivery.ts) in one
 * object, independent of the socket (see server.ts). Playlists go to the manifest app, cached by path plus the LL-HLS directives;
 * parts to the manifest app too (the part store, D33), segments and init segments to storage; APIs uncached;
 * everything else to the web app.
 */
export class Edge {
  readonly cache: EdgeCache;
  readonly #origins: EdgeOrigins;
  readonly #viewers = new Map<string, Map<string, number>>();
  readonly #now: () => number;
  readonly #viewerRequest: ViewerRequestFunction | undefined;
  /** The playlist behaviour's freshness bucket (D31), from the same source text as CloudFront's function. */
  readonly #fresh: (request: FreshnessRequest) => FreshnessRequest;
  #viewerRequestAnswers = 0;
  readonly #origin: EdgeStats['origin'] = {
    playlist: 0,
    media: 0,
    parts: 0,
    streamList: 0,
    events: 0,
    control: 0,
    session: 0,
    api: 0,
    web: 0,
  };
  readonly #requests: EdgeStats['requests'] = {
    playlist: 0,
    media: 0,
    streamList: 0,
    events: 0,
    control: 0,
    session: 0,
    api: 0,
    web: 0,
  };

  constructor(
    origins: EdgeOrigins,
    options: {
      cache?: EdgeCache;
      now?: () => number;
      /**
       * Runs on viewer requests of the behaviours with the playback check (playlists and media) before the
       * cache, as a CloudFront Function on viewer-request does (playback protection: viewer-request.ts).
       */
      viewerRequest?: ViewerRequestFunction;
    } = {},
  ) {
    this.#origins = origins;
    this.#now = options.now ?? Date.now;
    this.#viewerRequest = options.viewerRequest;
    this.#fresh = loadFreshness(this.#now);
    this.cache = options.cache ?? new EdgeCache({ now: this.#now });
  }

  get stats(): EdgeStats {
    return {
      cache: { ...this.cache.stats },
      origin: { ...this.#origin },
      requests: { ...this.#requests },
      viewerRequestAnswers: this.#viewerRequestAnswers,
    };
  }

  /** Distinct clients that asked for a stream's playlists in the last few seconds. */
  viewers(streamId: string): number {
    const clients = this.#viewers.get(streamId);
    if (clients === undefined) return 0;
    const since = this.#now() - VIEWER_WINDOW_MS;
    for (const [client, seen] of clients) if (seen < since) clients.delete(client);
    return clients.size;
  }

  /**
   * `clientId` is the viewer's connection as `ip:port` (server.ts): it counts viewers and is the viewer address
   * the API behaviours forward.
   */
  async handle(viewerRequest: HttpRequest, signal?: AbortSignal, clientId?: string): Promise<EdgeResponse> {
    const behaviour = behaviourFor(viewerRequest.path);
    let request = withViewerAddress(viewerRequest, behaviour.originRequest !== 'cacheKeyOnly', clientId);
    const route = routeFor(request.path);
    this.#requests[route]++;
    if (!allowsMethod(behaviour, request.method)) {
      // CloudFront's own answer to a method the behaviour does not allow.
      const refused = errorBody(
        403,
        'method_not_allowed',
        `${request.method} is not allowed on ${request.path}`,
      );
      return { ...refused, headers: { ...refused.headers, ...RESPONSE_HEADERS }, route, cache: 'uncached' };
    }
    if (request.method === 'OPTIONS' && behaviour.cachedMethods === 'GET_HEAD_OPTIONS') {
      // A preflight: behind CloudFront its origin answers it with
      // 204 and the policy's headers, and CloudFront keeps that answer; the edge gives the same answer itself.
      return { status: 204, headers: { ...RESPONSE_HEADERS }, body: '', route, cache: 'uncached' };
    }
    const checksPlayback =
      behaviour.viewerRequest === 'playbackCheck' || behaviour.viewerRequest === 'playlistFreshness';
    if (this.#viewerRequest !== undefined && checksPlayback) {
      // Before the cache lookup: a function's own answer goes back as is, never cached, no origin request.
      const result = await this.#viewerRequest(request);
      if (isViewerResponse(result)) {
        this.#viewerRequestAnswers++;
        const body = request.method === 'HEAD' ? '' : result.body;
        return { ...result, body, route, cache: 'uncached' };
      }
      request = result;
    }
    if (behaviour.viewerRequest === 'playlistFreshness') request = this.#freshened(request);
    const key =
      request.method === 'GET' || request.method === 'HEAD'
        ? cacheKeyFor(route, request.path, request.query)
        : null;
    if (route === 'playlist' && clientId !== undefined) this.#seen(request.path, clientId);
    const originRequest: HttpRequest = {
      ...request,
      method: request.method === 'HEAD' ? 'GET' : request.method,
      query: originQuery(route, request.query),
    };
    let response: HttpResponse;
    let cache: EdgeResponse['cache'] = 'uncached';
    if (key === null) {
      response = await this.#fromOrigin(route, originRequest, signal);
    } else {
      // A collapsed origin request outlives any one viewer: it gets no viewer's abort signal.
      const origin = () => this.#fromOrigin(route, originRequest);
      const result = await this.cache.fetch(key, origin, cachePolicyOf(route));
      response = result.response;
      cache = result.status;
      if (result.ageSeconds > 0) response = withHeaders(response, { age: String(result.ageSeconds) });
    }
    // The page behaviour's policy adds the pages' CSP (core/contracts/security-headers.ts, D39).
    const extra: Record<string, string> = {
      ...RESPONSE_HEADERS,
      ...behaviourSecurityHeaders(behaviour.name),
    };
    if (cache !== 'uncached') extra['x-cache'] = `${cache === 'miss' ? 'Miss' : 'Hit'} from mirror-edge`;
    const body = request.method === 'HEAD' ? '' : response.body;
    const cookies = response.cookies ? { cookies: response.cookies } : {};
    // A streamed answer (the operator events, D44) passes through as it is produced, as CloudFront passes chunks on. A
    // HEAD's is started and ended at once, so that the origin lets go of what it holds for it (its subscription).
    if (response.stream && request.method === 'HEAD') void endStream(response.stream);
    const stream = response.stream && request.method !== 'HEAD' ? { stream: response.stream } : {};
    return {
      status: response.status,
      headers: { ...response.headers, ...extra },
      body,
      route,
      cache,
      ...cookies,
      ...stream,
    };
  }

  async #fromOrigin(route: Route, request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    this.#origin[route]++;
    try {
      switch (route) {
        case 'playlist':
          // DVR playlists (D43) are written to storage; live ones come from the manifest function.
          if (behaviourFor(request.path).origin === 'media') {
            return await this.#origins.media.handle(request, signal);
          }
          return await this.#origins.manifest.handle(request, signal);
        case 'media': {
          // Parts: the manifest function (the behaviour's origin is `manifest`, D33), counted apart as well.
          // Segments and init segments: storage alone (their behaviour's origin is `media`).
          if (behaviourFor(request.path).origin === 'media') {
            return await this.#origins.media.handle(request, signal);
          }
          this.#origin.parts++;
          return await this.#origins.manifest.handle(request, signal);
        }
        case 'streamList':
        case 'session':
          return await missing(this.#origins.session, 'session').handle(request, signal);
        case 'control':
          return await missing(this.#origins.control, 'control').handle(request, signal);
        case 'events':
          return await missing(this.#origins.events, 'events').handle(request, signal);
        case 'api':
          return errorBody(404, 'not_found', `no API at ${request.path}`);
        case 'web':
          return await missing(this.#origins.web, 'web').handle(request, signal);
      }
    } catch (error) {
      // CloudFront answers 502 when its origin fails; the error is cached for the error TTL.
      return errorBody(
        502,
        'origin_error',
        `origin failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The freshness step of the playlist behaviour's function, on the edge's request shape. */
  #freshened(request: HttpRequest): HttpRequest {
    const querystring: Record<string, { value: string }> = {};
    for (const [name, value] of Object.entries(request.query)) querystring[name] = { value };
    const out = this.#fresh({ uri: request.path, querystring });
    const query: Record<string, string> = {};
    for (const [name, { value }] of Object.entries(out.querystring ?? {})) query[name] = value;
    return { ...request, query };
  }

  #seen(path: string, clientId: string): void {
    const streamId = streamIdOf(path);
    if (streamId === undefined) return;
    let clients = this.#viewers.get(streamId);
    if (clients === undefined) {
      clients = new Map();
      this.#viewers.set(streamId, clients);
    }
    clients.set(clientId, this.#now());
  }
}

/**
 * The request as CloudFront hands it on: a `CloudFront-Viewer-Address` the client sent is dropped, and behaviours
 * whose origin request policy forwards the viewer's address get the connection's own (D27).
 */
function withViewerAddress(
  request: HttpRequest,
  forward: boolean,
  connection: string | undefined,
): HttpRequest {
  const { [VIEWER_ADDRESS_HEADER]: _spoofed, ...sent } = request.headers;
  const headers: Record<string, string> = { ...sent };
  const address =
    connection ?? (request.sourceIp === undefined ? undefined : formatViewerAddress(request.sourceIp, 0));
  if (forward && address !== undefined) headers[VIEWER_ADDRESS_HEADER] = address;
  return { ...request, headers };
}

async function endStream(stream: AsyncIterable<string>): Promise<void> {
  for await (const _ of stream) break;
}

function withHeaders(response: HttpResponse, headers: Record<string, string>): HttpResponse {
  return { ...response, headers: { ...response.headers, ...headers } };
}

function errorBody(status: number, error: string, message: string): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({ error, message }),
  };
}

function missing(app: HttpApp | undefined, name: string): HttpApp {
  return (
    app ?? {
      handle: async () => errorBody(503, 'not_running', `the ${name} app is not running in this platform`),
    }
  );
}

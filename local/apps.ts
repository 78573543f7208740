import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { OperatorEventHub } from '../core/adapters/events.js';
import { LiveState } from '../core/adapters/live/live-state.js';
import { RedisPartStore } from '../core/adapters/live/part-store.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { createLogger } from '../core/adapters/log.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { LocalRecordingObjects } from '../core/adapters/storage/local-recordings.js';
import { S3Storage } from '../core/adapters/storage/s3.js';
import { S3RecordingObjects } from '../core/adapters/storage/s3-recordings.js';
import type { SrtEndpoint } from '../core/adapters/streams/registry.js';
import { mirrorSigningKey } from '../core/auth/keys.js';
import type { HttpApp } from '../core/http.js';
import type { MediaStorage } from '../core/storage/index.js';
import type { DataKeyProvider } from '../core/streams/secrets.js';
import { bearerAuthenticator, createControlApp } from '../functions/control/app.js';
import { createEventsApp } from '../functions/events/app.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { createSessionApp } from '../functions/session/app.js';
import { entitlementSettings, stageEntitlementVerifier } from '../functions/session/entitlements.js';
import { staticSigner } from '../functions/session/playback-signer.js';
import { buildWebAppSync } from '../web/build.js';
import type { EdgeCache } from './edge/cache.js';
import { selfSignedCertificate } from './edge/cert.js';
import { Edge } from './edge/edge.js';
import { LocalEdgeInvalidation } from './edge/invalidation.js';
import { type EdgeServer, listenEdge } from './edge/server.js';
import { createWebOrigin } from './edge/static-origin.js';
import type { ViewerRequestFunction } from './edge/viewer-request.js';
import type { LocalPlaybackKeys } from './playback-keys.js';
import type { Teardown } from './teardown.js';

/** The three Lambda apps, built as their handlers build them, on the local redis-server and media storage. */
export interface LocalApps {
  readonly control: HttpApp;
  readonly manifest: HttpApp;
  readonly session: HttpApp;
  /** The operator events (D44), as the events function serves them behind CloudFront. */
  readonly events: HttpApp;
}

export interface AppsOptions {
  readonly redis: Redis;
  /** The media bucket: its local-disk twin, or s3rver (`--storage s3`). */
  readonly storage: MediaStorage;
  readonly controlToken: string;
  /** Where encoders reach the SRT listener (for the credentials the control API hands out). */
  readonly srt: SrtEndpoint;
  readonly sessionSecret: string;
  /** Playback protection's key ring (D37): the session app signs from it, the control API rotates it. */
  readonly playbackKeys?: LocalPlaybackKeys;
  /** Each app's own connection as its component's ACL user (D38); `redis` (the operator's) where absent. */
  readonly componentRedis?: Readonly<Partial<Record<'control' | 'manifest' | 'session' | 'events', Redis>>>;
  /** Seals new SRT passphrases (the local key file, as KMS on AWS). */
  readonly keys?: DataKeyProvider;
  /** The RTP listener's port, named in the destination the control API hands out (decision D46). */
  readonly rtpPort?: number;
  /**
   * The local edge's cache (serveEdge's `cache`): the control API invalidates it as it invalidates CloudFront on
   * AWS, so a deleted recording (D40) or a purged stream is not served from it afterwards.
   */
  readonly edgeCache?: EdgeCache;
}

export function createApps(options: AppsOptions, teardown: Teardown): LocalApps {
  // Mirror's entitlement key, new at each start (D36): streams stay public by default here, so `npm start` plays as
  // before; /api/control/viewer-tokens mints for private ones. MIRROR_ENTITLEMENTS adds a customer's keys.
  const viewerTokenSecret = randomBytes(32).toString('base64url');
  const redisOf = (app: 'control' | 'manifest' | 'session' | 'events') =>
    options.componentRedis?.[app] ?? options.redis;
  const control = createControlApp({
    redis: redisOf('control'),
    ...(options.keys ? { keys: options.keys } : {}),
    logger: createLogger('control'),
    srt: options.srt,
    authenticate: bearerAuthenticator(options.controlToken),
    viewerTokenKey: mirrorSigningKey(viewerTokenSecret),
    ...(options.playbackKeys ? { playbackKeys: options.playbackKeys } : {}),
    ...recordingObjectsOf(options.storage),
    ...(options.edgeCache ? { invalidation: new LocalEdgeInvalidation(options.edgeCache) } : {}),
    ...(options.rtpPort === undefined ? {} : { rtpPort: options.rtpPort }),
  });
  const live = new LiveState(redisOf('manifest'));
  // One subscriber connection per process carries every blocking request's wake-up.
  const subscriber = redisOf('manifest').duplicate();
  // Reconnects on its own after redis-server comes back (the fault suite); the waiters see the outage as timeouts.
  subscriber.on('error', () => undefined);
  teardown.add(() => subscriber.disconnect());
  const manifest = createManifestApp({
    live,
    waiters: new LiveWaiters(subscriber, live),
    storage: options.storage,
    parts: new RedisPartStore(redisOf('manifest')),
    logger: createLogger('manifest'),
  });
  const session = createSessionApp({
    redis: redisOf('session'),
    logger: createLogger('session'),
    secret: options.sessionSecret,
    verifyEntitlement: stageEntitlementVerifier(
      entitlementSettings(process.env.MIRROR_ENTITLEMENTS),
      viewerTokenSecret,
      Date.now,
    ),
    ...(options.playbackKeys
      ? { playbackSigner: staticSigner(options.playbackKeys.ring.bind(options.playbackKeys), Date.now) }
      : {}),
  });
  return {
    control,
    manifest,
    session,
    events: localEventsApp(redisOf('events'), options.controlToken, teardown),
  };
}

/**
 * The operator events (D44) on one subscriber connection for every page, authenticated with the control token as
 * /api/control is here (the Cognito access token on AWS).
 */
function localEventsApp(redis: Redis, controlToken: string, teardown: Teardown): HttpApp {
  const subscriber = redis.duplicate();
  subscriber.on('error', () => undefined);
  teardown.add(() => subscriber.disconnect());
  const token = bearerAuthenticator(controlToken);
  return createEventsApp({
    source: new OperatorEventHub(subscriber, { viewers: redis }),
    // The same constant-time comparison as the control API's, on the credential the events request carries.
    authenticate: async (credential) =>
      token({ method: 'GET', path: '', query: {}, headers: { authorization: `Bearer ${credential}` } }),
  });
}

/** Recordings' delete (D40) on the media directory or on s3rver, as the control function's S3 port on AWS. */
function recordingObjectsOf(storage: MediaStorage) {
  if (storage instanceof LocalDiskStorage) return { recordings: new LocalRecordingObjects(storage.root) };
  if (storage instanceof S3Storage)
    return { recordings: new S3RecordingObjects(storage.client, storage.bucket) };
  return {};
}

export interface EdgeOptions {
  readonly apps: LocalApps;
  /** Media storage as the edge's origin (the media directory, or the bucket on s3rver). */
  readonly media: HttpApp;
  /** Where the web build and the self-signed certificate go. */
  readonly dataDir: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  /** The playback-protection function, when on (as the CloudFront Function on AWS). */
  readonly viewerRequest?: ViewerRequestFunction;
  /** The cache the control API invalidates (AppsOptions.edgeCache); the edge makes its own without it. */
  readonly cache?: EdgeCache;
}

/**
 * Builds the web app and serves it, media storage and the apps through the local edge (CloudFront's
 * behaviours) over HTTPS and plain HTTP; the teardown closes the server.
 */
export async function serveEdge(
  options: EdgeOptions,
  teardown: Teardown,
): Promise<{ edge: Edge; server: EdgeServer }> {
  const webDir = join(options.dataDir, 'web');
  buildWebAppSync(webDir);
  const edge = new Edge(
    {
      manifest: options.apps.manifest,
      media: options.media,
      control: options.apps.control,
      session: options.apps.session,
      events: options.apps.events,
      web: createWebOrigin(webDir),
    },
    {
      ...(options.viewerRequest ? { viewerRequest: options.viewerRequest } : {}),
      ...(options.cache ? { cache: options.cache } : {}),
    },
  );
  const server = await listenEdge(edge, {
    tls: selfSignedCertificate(options.dataDir),
    httpsPort: options.httpsPort,
    httpPort: options.httpPort,
  });
  teardown.add(() => server.close());
  return { edge, server };
}

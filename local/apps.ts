import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { createLogger } from '../core/adapters/log.js';
import type { SrtEndpoint } from '../core/adapters/streams/registry.js';
import type { HttpApp } from '../core/http.js';
import type { MediaStorage } from '../core/storage/index.js';
import { bearerAuthenticator, createControlApp } from '../functions/control/app.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { createSessionApp } from '../functions/session/app.js';
import { buildWebAppSync } from '../web/build.js';
import { selfSignedCertificate } from './edge/cert.js';
import { Edge } from './edge/edge.js';
import { type EdgeServer, listenEdge } from './edge/server.js';
import { createWebOrigin } from './edge/static-origin.js';
import type { ViewerRequestFunction } from './edge/viewer-request.js';
import type { Teardown } from './teardown.js';

/** The three Lambda apps, built as their handlers build them, on the local redis-server and media storage. */
export interface LocalApps {
  readonly control: HttpApp;
  readonly manifest: HttpApp;
  readonly session: HttpApp;
}

export interface AppsOptions {
  readonly redis: Redis;
  /** The media bucket: its local-disk twin, or s3rver (`--storage s3`). */
  readonly storage: MediaStorage;
  readonly controlToken: string;
  /** Where encoders reach the SRT listener (for the credentials the control API hands out). */
  readonly srt: SrtEndpoint;
  readonly sessionSecret: string;
  readonly playbackProtection: boolean;
}

export function createApps(options: AppsOptions, teardown: Teardown): LocalApps {
  const control = createControlApp({
    redis: options.redis,
    logger: createLogger('control'),
    srt: options.srt,
    authenticate: bearerAuthenticator(options.controlToken),
  });
  const live = new LiveState(options.redis);
  // One subscriber connection per process carries every blocking request's wake-up.
  const subscriber = options.redis.duplicate();
  // Reconnects on its own after redis-server comes back (the fault suite); the waiters see the outage as timeouts.
  subscriber.on('error', () => undefined);
  teardown.add(() => subscriber.disconnect());
  const manifest = createManifestApp({
    live,
    waiters: new LiveWaiters(subscriber, live),
    storage: options.storage,
    logger: createLogger('manifest'),
  });
  const session = createSessionApp({
    redis: options.redis,
    logger: createLogger('session'),
    secret: options.sessionSecret,
    playbackProtection: options.playbackProtection,
  });
  return { control, manifest, session };
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
      web: createWebOrigin(webDir),
    },
    options.viewerRequest ? { viewerRequest: options.viewerRequest } : {},
  );
  const server = await listenEdge(edge, {
    tls: selfSignedCertificate(options.dataDir),
    httpsPort: options.httpsPort,
    httpPort: options.httpPort,
  });
  teardown.add(() => server.close());
  return { edge, server };
}

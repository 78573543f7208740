import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { createLogger } from '../core/adapters/log.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import type { SrtEndpoint } from '../core/adapters/streams/registry.js';
import type { HttpApp } from '../core/http.js';
import { bearerAuthenticator, createControlApp } from '../functions/control/app.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { createSessionApp } from '../functions/session/app.js';
import { buildWebAppSync } from '../web/build.js';
import { selfSignedCertificate } from './edge/cert.js';
import { Edge } from './edge/edge.js';
import { type EdgeServer, listenEdge } from './edge/server.js';
import { createMediaOrigin, createWebOrigin } from './edge/static-origin.js';
import type { ViewerRequestFunction } from './edge/viewer-request.js';
import type { Teardown } from './teardown.js';

/** The three Lambda apps, built as their handlers build them, on the local redis-server and media directory. */
export interface LocalApps {
  readonly control: HttpApp;
  readonly manifest: HttpApp;
  readonly session: HttpApp;
}

export interface AppsOptions {
  readonly redis: Redis;
  /** The local-disk twin of the media bucket. */
  readonly mediaDir: string;
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
  teardown.add(() => subscriber.disconnect());
  const manifest = createManifestApp({
    live,
    waiters: new LiveWaiters(subscriber, live),
    storage: new LocalDiskStorage(options.mediaDir),
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
  readonly mediaDir: string;
  /** Where the web build and the self-signed certificate go. */
  readonly dataDir: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  /** The playback-protection function, when on (as the CloudFront Function on AWS). */
  readonly viewerRequest?: ViewerRequestFunction;
}

/**
 * Builds the web app and serves it, the media directory and the apps through the local edge (CloudFront's
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
      media: createMediaOrigin(options.mediaDir),
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

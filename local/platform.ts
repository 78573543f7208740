import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { HttpApp } from '../core/http.js';
import type { LadderPreset } from '../core/ladder.js';
import { createLogger } from '../core/log.js';
import { viewerCounts } from '../core/sessions/viewers.js';
import { StreamRegistry, srtUrls } from '../core/streams/registry.js';
import { bearerAuthenticator, createControlApp } from '../functions/control/app.js';
import { buildWebAppSync } from '../web/build.js';
import { selfSignedCertificate } from './edge/cert.js';
import { Edge } from './edge/edge.js';
import { type EdgeServer, listenEdge } from './edge/server.js';
import { createMediaOrigin, createWebOrigin } from './edge/static-origin.js';
import { DEFAULT_CLIP } from './encoders/args.js';
import { availableFont, ensureClip } from './encoders/clip.js';
import { SyntheticEncoder } from './encoders/encoder.js';
import { newParts, type PlaylistPosition, readPlaylistPosition } from './playlist-stats.js';
import { freeTcpPort, freeUdpPort, type Managed, startManaged, startRedisServer } from './processes.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface PlatformOptions {
  /** Synthetic encoders to start (0 = none; push your own). */
  readonly streams: number;
  readonly ladder: LadderPreset;
  /** GPU transcoding: `auto` uses NVENC when an NVIDIA GPU is present, `off` forces libx264. */
  readonly gpu: 'auto' | 'off';
  /** HTTPS (HTTP/2) port of the edge; 0 picks a free one. */
  readonly httpsPort: number;
  /** Plain HTTP/1.1 port of the edge; 0 picks a free one. */
  readonly httpPort: number;
  /** UDP port of the SRT listener; 0 picks a free one. */
  readonly srtPort: number;
  /** redis-server's port; 0 picks a free one. */
  readonly redisPort: number;
  /** Where media, the web build, clips and the certificate go (gitignored `.mirror/` by default). */
  readonly dataDir: string;
  /** Operator token for the control API; random per run unless given. */
  readonly controlToken?: string;
  /** Where the ingest service's JSON logs go (default: a file in dataDir). */
  readonly ingestLog?: 'inherit' | 'file';
  /** Also create a stream without an encoder (`studio`), for the operator's own ffmpeg or OBS. */
  readonly ownStream?: boolean;
}

export const DEFAULT_OPTIONS: PlatformOptions = {
  streams: 2,
  ladder: 'tile',
  gpu: 'auto',
  httpsPort: 8443,
  httpPort: 8080,
  srtPort: 9000,
  redisPort: 6390,
  dataDir: join(ROOT, '.mirror'),
};

export interface PlatformStream {
  readonly id: string;
  /** Fed by a synthetic encoder (false: waiting for the operator's own encoder). */
  readonly synthetic: boolean;
  readonly name: string;
  /** Carries the publish key and passphrase: print it to the operator, never log it. */
  readonly srtUrl: string;
  readonly rendition: string;
}

export interface StreamStatus {
  readonly id: string;
  readonly state: string;
  readonly inputKbps?: number;
  readonly partsPerSecond?: number;
  /** Now minus the end of the newest part, per PROGRAM-DATE-TIME stamped at ingest (ms). */
  readonly latencyMs?: number;
  /** Viewer sessions (session API) and distinct connections polling the playlists (edge). */
  readonly sessions: number;
  readonly connections: number;
  readonly encoderRestarts: number;
}

export interface Platform {
  readonly options: PlatformOptions;
  readonly urls: {
    readonly https: string;
    readonly http: string;
    readonly viewer: string;
    readonly operator: string;
    readonly srt: string;
  };
  readonly controlToken: string;
  readonly redisUrl: string;
  readonly mediaDir: string;
  readonly streams: readonly PlatformStream[];
  readonly edge: Edge;
  readonly registry: StreamRegistry;
  /** Pids of every process the platform started (for checks that nothing is left running). */
  pids(): number[];
  /** Ports the platform listens on. */
  readonly ports: {
    readonly https: number;
    readonly http: number;
    readonly srt: number;
    readonly redis: number;
  };
  /** Components that are not available in this tree (reported honestly by run.ts). */
  readonly missing: readonly string[];
  status(): Promise<StreamStatus[]>;
  stop(): Promise<void>;
}

/** The rendition the status line and examples use: the ladder's smallest rung (what a tile plays). */
function firstRendition(ladder: LadderPreset): string {
  return ladder === 'passthrough' ? 'source' : '360p';
}

/**
 * Starts the whole platform in this process and its children: redis-server, the ingest service
 * (child process), the manifest/control/session apps behind the local edge, the web app, and
 * synthetic encoders for `streams` new streams. stop() ends everything it started.
 */
export async function startPlatform(partial: Partial<PlatformOptions> = {}): Promise<Platform> {
  const options: PlatformOptions = { ...DEFAULT_OPTIONS, ...partial };
  const logger = createLogger('local');
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn('stop step failed', { error: String(error) });
      }
    }
  };
  try {
    return await start(options, cleanup, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function start(
  options: PlatformOptions,
  cleanup: (() => Promise<void>)[],
  stopAll: () => Promise<void>,
): Promise<Platform> {
  const logger = createLogger('local');
  const ports = {
    https: options.httpsPort || (await freeTcpPort()),
    http: options.httpPort || (await freeTcpPort()),
    srt: options.srtPort || (await freeUdpPort()),
    redis: options.redisPort || (await freeTcpPort()),
  };
  const mediaDir = join(options.dataDir, 'media');
  // Redis starts empty every run, so media from a previous run would only be orphans.
  rmSync(mediaDir, { recursive: true, force: true });
  mkdirSync(mediaDir, { recursive: true });
  const missing: string[] = [];
  const managed: Managed[] = [];

  const redisServer = await startRedisServer(ports.redis);
  managed.push(redisServer);
  cleanup.push(() => redisServer.stop());
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  cleanup.push(async () => {
    redis.disconnect();
  });

  const controlToken = options.controlToken ?? randomBytes(18).toString('base64url');
  const srtEndpoint = { host: '127.0.0.1', port: ports.srt };
  const control: HttpApp = createControlApp({
    redis,
    logger: createLogger('control'),
    srt: srtEndpoint,
    authenticate: bearerAuthenticator(controlToken),
  });
  const integration = await loadIntegrations({
    redis,
    redisUrl: redisServer.url,
    mediaDir,
    missing,
    cleanup,
  });

  const webDir = join(options.dataDir, 'web');
  buildWebAppSync(webDir);
  const edge = new Edge({
    manifest: integration.manifest,
    media: createMediaOrigin(mediaDir),
    control,
    session: integration.session,
    web: createWebOrigin(webDir),
  });
  const server: EdgeServer = await listenEdge(edge, {
    tls: selfSignedCertificate(options.dataDir),
    httpsPort: ports.https,
    httpPort: ports.http,
  });
  cleanup.push(() => server.close());

  const ingest = startIngest(options, { redisUrl: redisServer.url, mediaDir, srtPort: ports.srt }, missing);
  if (ingest !== undefined) {
    managed.push(ingest);
    cleanup.push(() => ingest.stop(8000));
  }

  const registry = new StreamRegistry(redis);
  const streams: PlatformStream[] = [];
  const encoders: SyntheticEncoder[] = [];
  cleanup.push(async () => {
    await Promise.all(encoders.map((e) => e.stop()));
  });
  const clipsDir = join(options.dataDir, 'clips');
  for (let i = 1; i <= options.streams; i++) {
    const id = `cam-${i}`;
    const { record } = await registry.create({
      id,
      name: `Synthetic camera ${i}`,
      ladder: options.ladder,
      latency: 'low',
      encrypted: true,
      keyLength: 16,
    });
    const srtUrl = srtUrls(record, srtEndpoint).url;
    streams.push({
      id,
      name: record.name,
      srtUrl,
      rendition: firstRendition(options.ladder),
      synthetic: true,
    });
    const clip = await ensureClip(clipsDir, {
      ...DEFAULT_CLIP,
      label: id,
      toneHz: 330 + 110 * i,
      fontFile: availableFont(),
    });
    const encoder = new SyntheticEncoder(id, clip, srtUrl);
    encoders.push(encoder);
    encoder.start();
  }

  if (options.ownStream === true) {
    const { record } = await registry.create({
      id: 'studio',
      name: 'Your own encoder',
      ladder: options.ladder,
      latency: 'low',
      encrypted: true,
      keyLength: 16,
    });
    streams.push({
      id: record.id,
      name: record.name,
      srtUrl: srtUrls(record, srtEndpoint).url,
      rendition: firstRendition(options.ladder),
      synthetic: false,
    });
  }

  const https = `https://localhost:${server.httpsPort}`;
  const http = `http://127.0.0.1:${server.httpPort}`;
  const previous = new Map<string, { position: PlaylistPosition; at: number }>();
  const status = async (): Promise<StreamStatus[]> => {
    const ids = streams.map((s) => s.id);
    const [statuses, sessions] = await Promise.all([
      registry.statuses(ids).catch(() => ids.map(() => undefined)),
      viewerCounts(redis, ids).catch(() => ids.map(() => 0)),
    ]);
    return Promise.all(
      streams.map(async (stream, i): Promise<StreamStatus> => {
        const ingestStatus = statuses[i];
        let latencyMs: number | undefined;
        let partsPerSecond: number | undefined;
        try {
          const response = await integration.manifest.handle({
            method: 'GET',
            path: `/${stream.id}/${stream.rendition}/playlist.m3u8`,
            query: {},
            headers: {},
          });
          if (response.status === 200) {
            const position = readPlaylistPosition(String(response.body));
            const now = Date.now();
            if (position.liveEdgeMs !== undefined) latencyMs = now - position.liveEdgeMs;
            const before = previous.get(stream.id);
            if (before !== undefined && now > before.at) {
              partsPerSecond = (newParts(before.position, position) * 1000) / (now - before.at);
            }
            previous.set(stream.id, { position, at: now });
          }
        } catch {
          // The status line shows what it can; a failing manifest shows as missing figures.
        }
        return {
          id: stream.id,
          state: ingestStatus?.state ?? 'idle',
          inputKbps: ingestStatus?.input?.bitrateKbps,
          partsPerSecond,
          latencyMs,
          sessions: sessions[i] ?? 0,
          connections: edge.viewers(stream.id),
          encoderRestarts: encoders[i]?.state.restarts ?? 0,
        };
      }),
    );
  };

  logger.debug('platform started', { ports });
  return {
    options,
    urls: {
      https,
      http,
      viewer: `${https}/`,
      operator: `${https}/operator/#token=${controlToken}`,
      srt: `srt://127.0.0.1:${ports.srt}`,
    },
    controlToken,
    redisUrl: redisServer.url,
    mediaDir,
    streams,
    edge,
    registry,
    ports: { https: server.httpsPort, http: server.httpPort, srt: ports.srt, redis: ports.redis },
    missing,
    pids: () =>
      [...managed.map((m) => m.child.pid), ...encoders.map((e) => e.pid)].filter(
        (pid): pid is number => pid !== undefined,
      ),
    status,
    stop: stopAll,
  };
}

interface IntegrationContext {
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly mediaDir: string;
  readonly missing: string[];
  readonly cleanup: (() => Promise<void>)[];
}

function unavailable(name: string): HttpApp {
  return {
    handle: async () => ({
      status: 503,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({ error: 'not_running', message: `the ${name} is not available in this build` }),
    }),
  };
}

/** The manifest and session apps. */
async function loadIntegrations(
  context: IntegrationContext,
): Promise<{ manifest: HttpApp; session: HttpApp }> {
  context.missing.push('manifest app', 'session app');
  return { manifest: unavailable('manifest app'), session: unavailable('session app') };
}

function startIngest(
  options: PlatformOptions,
  config: { redisUrl: string; mediaDir: string; srtPort: number },
  missing: string[],
): Managed | undefined {
  void options;
  void config;
  missing.push('ingest service');
  return startManagedPlaceholder();
}

function startManagedPlaceholder(): Managed | undefined {
  void startManaged;
  return undefined;
}

import type { SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LiveState } from '../core/adapters/live/live-state.js';
import { LiveWaiters } from '../core/adapters/live/waiters.js';
import { createLogger } from '../core/adapters/log.js';
import { viewerCounts } from '../core/adapters/sessions/viewers.js';
import { LocalDiskStorage } from '../core/adapters/storage/local.js';
import { StreamRegistry, srtUrls } from '../core/adapters/streams/registry.js';
import type { HttpApp } from '../core/http.js';
import { type LadderPreset, smallestRung, TILE_RUNG } from '../core/ladder.js';
import { Packager } from '../core/packager/index.js';
import { bearerAuthenticator, createControlApp } from '../functions/control/app.js';
import { createManifestApp } from '../functions/manifest/app.js';
import { createSessionApp } from '../functions/session/app.js';
import { buildWebAppSync } from '../web/build.js';
import { selfSignedCertificate } from './edge/cert.js';
import { Edge } from './edge/edge.js';
import { type EdgeServer, listenEdge } from './edge/server.js';
import { createMediaOrigin, createWebOrigin } from './edge/static-origin.js';
import { playbackViewerRequest } from './edge/viewer-request.js';
import { DEFAULT_CLIP } from './encoders/args.js';
import { availableFont, ensureClip } from './encoders/clip.js';
import { DirectFeed } from './encoders/direct.js';
import { SyntheticEncoder } from './encoders/encoder.js';
import { newParts, type PlaylistPosition, readPlaylistPosition } from './playlist-stats.js';
import { freeTcpPort, freeUdpPort, type Managed, startManaged, startRedisServer } from './processes.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every port picked free by the system: several platforms (tests, benchmarks) side by side on one machine. */
export const EPHEMERAL_PORTS = { httpsPort: 0, httpPort: 0, srtPort: 0, redisPort: 0 } as const;

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
  /**
   * `srt`: synthetic encoders push over SRT to the ingest service (the real path, default).
   * `direct`: ffmpeg transcodes the clip straight into an in-process packager, skipping SRT and ingest
   * (benchmarks that isolate packaging and delivery; a fallback while no ingest service exists).
   */
  readonly feed?: 'srt' | 'direct';
  /**
   * Playback protection, as `delivery.playbackProtection` on AWS (default off): the session app issues
   * playback tokens and the edge runs the CloudFront Function that checks them on playlists and media.
   */
  readonly playbackProtection?: boolean;
}

/** The seed's LL-HLS targets, as infra/config.ts sets them for AWS: 100 ms parts in 500 ms segments. */
export const PART_TARGET_MS = 100;
export const SEGMENT_TARGET_MS = 500;

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
  status(): Promise<StreamStatus[]>;
  stop(): Promise<void>;
}

/** The rendition the status line and examples use: the ladder's smallest rung (what a tile plays). */
function firstRendition(ladder: LadderPreset): string {
  return smallestRung(ladder).name;
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
  const managed: Managed[] = [];
  const encoders: (SyntheticEncoder | DirectFeed)[] = [];
  // The children run in process groups of their own (Ctrl-C reaches only this process, which stops
  // them in order), so they would outlive a crash of this process: its exit kills what is left.
  const killLeftovers = () => {
    for (const m of managed)
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    for (const e of encoders) {
      try {
        if (e.pid !== undefined) process.kill(e.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  };
  process.once('exit', killLeftovers);
  cleanup.push(async () => {
    process.off('exit', killLeftovers);
  });

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
  // The session secret; with protection on, also what the edge function's KeyValueStore holds.
  const sessionSecret = randomBytes(32).toString('base64url');
  const playbackProtection = options.playbackProtection === true;
  const integration = await loadIntegrations({
    redis,
    redisUrl: redisServer.url,
    mediaDir,
    cleanup,
    sessionSecret,
    playbackProtection,
  });

  const webDir = join(options.dataDir, 'web');
  buildWebAppSync(webDir);
  const edge = new Edge(
    {
      manifest: integration.manifest,
      media: createMediaOrigin(mediaDir),
      control,
      session: integration.session,
      web: createWebOrigin(webDir),
    },
    playbackProtection ? { viewerRequest: playbackViewerRequest(sessionSecret) } : {},
  );
  const server: EdgeServer = await listenEdge(edge, {
    tls: selfSignedCertificate(options.dataDir),
    httpsPort: ports.https,
    httpPort: ports.http,
  });
  cleanup.push(() => server.close());

  const feed = options.feed ?? 'srt';
  if (feed === 'srt') {
    const healthPort = await freeTcpPort();
    const ingest = startIngest(options, {
      redisUrl: redisServer.url,
      mediaDir,
      srtPort: ports.srt,
      healthPort,
    });
    managed.push(ingest);
    cleanup.push(() => ingest.stop(8000));
    await waitForIngest(ingest, healthPort, join(options.dataDir, 'ingest.log'));
  }
  const packager =
    feed === 'direct'
      ? new Packager({
          storage: new LocalDiskStorage(mediaDir),
          live: new LiveState(redis),
          partTargetMs: PART_TARGET_MS,
          segmentTargetMs: SEGMENT_TARGET_MS,
          logger: createLogger('packager'),
        })
      : undefined;

  const registry = new StreamRegistry(redis);
  const streams: PlatformStream[] = [];
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
    const encoder =
      packager === undefined
        ? new SyntheticEncoder(id, clip, srtUrl)
        : new DirectFeed(id, clip, TILE_RUNG, packager, {
            partTargetMs: PART_TARGET_MS,
            segmentTargetMs: SEGMENT_TARGET_MS,
          });
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
          encoderRestarts: (encoders[i] as Partial<SyntheticEncoder> | undefined)?.state?.restarts ?? 0,
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
      operator: `${https}/operator/`,
      srt: `srt://127.0.0.1:${ports.srt}`,
    },
    controlToken,
    redisUrl: redisServer.url,
    mediaDir,
    streams,
    edge,
    registry,
    ports: { https: server.httpsPort, http: server.httpPort, srt: ports.srt, redis: ports.redis },
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
  readonly cleanup: (() => Promise<void>)[];
  readonly sessionSecret: string;
  readonly playbackProtection: boolean;
}

/**
 * The manifest and session apps, built as the Lambda handlers build them, on the local redis-server
 * and the local-disk twin of the media bucket.
 */
async function loadIntegrations(
  context: IntegrationContext,
): Promise<{ manifest: HttpApp; session: HttpApp }> {
  const live = new LiveState(context.redis);
  // One subscriber connection per process carries every blocking request's wake-up.
  const subscriber = context.redis.duplicate();
  context.cleanup.push(async () => {
    subscriber.disconnect();
  });
  const manifest = createManifestApp({
    live,
    waiters: new LiveWaiters(subscriber, live),
    storage: new LocalDiskStorage(context.mediaDir),
    logger: createLogger('manifest'),
  });
  const session = createSessionApp({
    redis: context.redis,
    logger: createLogger('session'),
    secret: context.sessionSecret,
    playbackProtection: context.playbackProtection,
  });
  return { manifest, session };
}

/**
 * The ingest service as a child process, exactly as the container runs it (`main.ts`), configured by
 * its MIRROR_* variables: local-disk storage, this redis-server, the chosen ladder and GPU mode.
 */
function startIngest(
  options: PlatformOptions,
  config: { redisUrl: string; mediaDir: string; srtPort: number; healthPort: number },
): Managed {
  const logFile = join(options.dataDir, 'ingest.log');
  const stdio: SpawnOptions['stdio'] =
    options.ingestLog === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
  const ingest = startManaged(
    'ingest',
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'containers', 'ingest', 'src', 'main.ts')],
    {
      cwd: ROOT,
      stdio,
      env: {
        ...process.env,
        MIRROR_REDIS_URL: config.redisUrl,
        MIRROR_SRT_PORT: String(config.srtPort),
        MIRROR_HEALTH_PORT: String(config.healthPort),
        MIRROR_GPU: options.gpu,
        MIRROR_LADDER: options.ladder,
        MIRROR_PART_TARGET_MS: String(PART_TARGET_MS),
        MIRROR_SEGMENT_TARGET_MS: String(SEGMENT_TARGET_MS),
        MIRROR_STORAGE: 'local',
        MIRROR_MEDIA_DIR: config.mediaDir,
        MIRROR_TASK_ID: 'local',
        MIRROR_STAGE: 'local',
        MIRROR_METRICS: 'off',
        MIRROR_DRAIN_S: '5',
      },
    },
  );
  if (options.ingestLog !== 'inherit') {
    const out = createWriteStream(logFile, { flags: 'w' });
    ingest.child.stdout?.pipe(out);
    ingest.child.stderr?.pipe(out);
  }
  return ingest;
}

/** Waits for the ingest health endpoint, failing early (with the log's tail) if the process died. */
async function waitForIngest(ingest: Managed, healthPort: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (ingest.child.exitCode !== null) {
      const tail = existsSync(logFile)
        ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')
        : '';
      throw new Error(`the ingest service exited (code ${ingest.child.exitCode}): ${tail}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${healthPort}/health`);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`the ingest service did not answer on :${healthPort}/health within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

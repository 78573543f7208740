import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLogger } from '../core/adapters/log.js';
import { createRedisClient } from '../core/adapters/redis.js';
import { FileDataKeys } from '../core/adapters/streams/data-keys.js';
import { StreamRegistry } from '../core/adapters/streams/registry.js';
import { type LadderPreset, TILE_RUNG } from '../core/ladder.js';
import {
  DEFAULT_LATENCY_PROFILE,
  type LatencyProfile,
  PROFILE_TARGETS,
  renditionTargets,
} from '../core/latency-profiles.js';
import type { MediaStorage } from '../core/storage/index.js';
import { createApps, serveEdge } from './apps.js';
import { EdgeCache } from './edge/cache.js';
import type { Edge } from './edge/edge.js';
import { playbackViewerRequest } from './edge/viewer-request.js';
import { directFeeds, srtFeeds } from './encoders/feeds.js';
import { type IngestHandle, startIngestChild } from './ingest-child.js';
import { type StreamStatus, statusReader } from './platform-status.js';
import { LocalPlaybackKeys } from './playback-keys.js';
import { freeTcpPort, freeUdpPort } from './ports.js';
import { localSecretsKeyFile, type RedisServerHandle, startLocalRedis } from './redis.js';
import { ROOT } from './root.js';
import type { S3Handle } from './s3.js';
import { mediaAsServed, type StorageKind, startStorage } from './storage.js';
import { createStreams, type PlatformStream, type RtpExample, type StreamSpec } from './synthetic-streams.js';
import { Teardown } from './teardown.js';

export type { IngestHandle } from './ingest-child.js';
export type { StreamStatus } from './platform-status.js';
export type { RedisServerHandle } from './redis.js';
export { ROOT } from './root.js';
export type { S3Handle, StoredObject } from './s3.js';
export type { StorageKind } from './storage.js';
export type { PlatformStream, StreamSpec } from './synthetic-streams.js';

/** Every port picked free by the system: several platforms (tests, benchmarks) side by side on one machine. */
export const EPHEMERAL_PORTS = { httpsPort: 0, httpPort: 0, srtPort: 0, rtpPort: 0, redisPort: 0 } as const;

export interface PlatformOptions {
  /** Synthetic encoders to start (0 = none; push your own). */
  readonly streams: number;
  readonly ladder: LadderPreset;
  /** The synthetic streams' delivery profile (decision D28); DEFAULT_LATENCY_PROFILE when absent. */
  readonly latencyProfile?: LatencyProfile;
  /** Per synthetic camera (`cam-<i+1>` takes entry i): another ladder or profile than the platform's. */
  readonly streamSpecs?: readonly StreamSpec[];
  /** GPU transcoding: `auto` uses NVENC when an NVIDIA GPU is present, `off` forces libx264. */
  readonly gpu: 'auto' | 'off';
  /** HTTPS (HTTP/2) port of the edge; 0 picks a free one. */
  readonly httpsPort: number;
  /** Plain HTTP/1.1 port of the edge; 0 picks a free one. */
  readonly httpPort: number;
  /** UDP port of the SRT listener; 0 picks a free one. */
  readonly srtPort: number;
  /** UDP port of the RTP listener (decision D46); 0 or absent picks a free one (`npm start`: 5004). */
  readonly rtpPort?: number;
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
  /**
   * `local` (default): media in `dataDir/media`. `s3`: the S3 implementation (core/adapters/storage/s3.ts) against
   * s3rver in a child process, objects in `dataDir/s3`: the code path of AWS, and an endpoint the fault suite can
   * take away.
   */
  readonly storage?: StorageKind;
  /**
   * Seconds live state outlives its last publish (MIRROR_LIVE_TTL_S; the ingest's default is 120 s): the fault
   * suite shortens it so "stopped for longer than the TTL" takes seconds.
   */
  readonly liveTtlS?: number;
}

/** LL-HLS targets of a stream on the default latency profile (decision D28); each stream's profile sets its own. */
export const PART_TARGET_MS = PROFILE_TARGETS[DEFAULT_LATENCY_PROFILE].partMs;
export const SEGMENT_TARGET_MS = PROFILE_TARGETS[DEFAULT_LATENCY_PROFILE].segmentMs;

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

export interface Platform {
  readonly options: PlatformOptions;
  readonly urls: {
    readonly https: string;
    readonly http: string;
    readonly viewer: string;
    readonly operator: string;
    readonly srt: string;
    readonly rtp: string;
  };
  readonly controlToken: string;
  /** With ownStream and an ingest: the RTP stream for the operator's own RTP encoder (decision D46). */
  readonly rtpExample?: RtpExample;
  readonly redisUrl: string;
  /** The media directory with `local` storage (empty with `s3`). */
  readonly mediaDir: string;
  /** The platform's media storage (the directory, or the bucket on s3rver); reads as served (parts from Redis, D33). */
  readonly storage: MediaStorage;
  /** redis-server, to kill and start again (the fault suite). */
  readonly redisServer: RedisServerHandle;
  /** s3rver, with `storage: 's3'`. */
  readonly s3?: S3Handle;
  /** The ingest service's process; absent with `feed: 'direct'`. */
  readonly ingest?: IngestHandle;
  readonly streams: readonly PlatformStream[];
  readonly edge: Edge;
  readonly registry: StreamRegistry;
  /** The playback key ring, with playback protection on (rotate it as the control API does). */
  readonly playbackKeys?: LocalPlaybackKeys;
  /** Pids of every process the platform started (for checks that nothing is left running). */
  pids(): number[];
  /** Ports the platform listens on. */
  readonly ports: {
    readonly https: number;
    readonly http: number;
    readonly srt: number;
    readonly rtp: number;
    readonly redis: number;
  };
  status(): Promise<StreamStatus[]>;
  stop(): Promise<void>;
}

/**
 * Starts the whole platform in this process and its children: redis-server, the ingest service
 * (child process), the manifest/control/session apps behind the local edge, the web app, and
 * synthetic encoders for `streams` new streams. stop() ends everything it started.
 */
export async function startPlatform(partial: Partial<PlatformOptions> = {}): Promise<Platform> {
  const options: PlatformOptions = { ...DEFAULT_OPTIONS, ...partial };
  const logger = createLogger('local');
  const teardown = new Teardown((error) => logger.warn('stop step failed', { error: String(error) }));
  try {
    return await start(options, teardown, logger);
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

/** The pieces in order: each registers its own stop step, so a failure half-way stops what already runs. */
async function start(options: PlatformOptions, teardown: Teardown, logger: Logger): Promise<Platform> {
  const ports = {
    https: options.httpsPort || (await freeTcpPort()),
    http: options.httpPort || (await freeTcpPort()),
    srt: options.srtPort || (await freeUdpPort()),
    rtp: options.rtpPort || (await freeUdpPort()),
    redis: options.redisPort || (await freeTcpPort()),
  };
  const mediaDir = join(options.dataDir, 'media');
  teardown.guardExit();

  const {
    url: redisUrl,
    redis,
    server: redisServer,
    componentUrls,
  } = await startLocalRedis(ports.redis, teardown);
  // Each app as its own Redis user (D38), as on AWS: the manifest and session cannot read secrets.
  const componentRedis = Object.fromEntries(
    (['control', 'manifest', 'session', 'events'] as const).map((app) => {
      const client = createRedisClient(componentUrls[app], { autoPipelining: true });
      client.on('error', () => undefined); // outages reach the apps' callers (503), as on Lambda
      teardown.add(() => client.disconnect());
      return [app, client];
    }),
  );
  // The SRT passphrases' master key (KMS's stand-in), kept across runs in the data directory.
  const keys = new FileDataKeys(localSecretsKeyFile(options.dataDir));
  const media = await startStorage(options.storage ?? 'local', options.dataDir, teardown);
  const controlToken = options.controlToken ?? randomBytes(18).toString('base64url');
  const srt = { host: '127.0.0.1', port: ports.srt };
  // The session secret; with protection on, also what the edge function's KeyValueStore holds.
  const sessionSecret = randomBytes(32).toString('base64url');
  // Playback protection's key ring (D37), filled with its first key as a deploy fills the real one.
  const playbackKeys = options.playbackProtection === true ? new LocalPlaybackKeys() : undefined;
  if (playbackKeys) {
    await playbackKeys.run('maintain');
    // The schedule's local twin: retires a rotated-out key once its last token has expired.
    const upkeep = setInterval(() => void playbackKeys.run('maintain'), 60_000);
    upkeep.unref();
    teardown.add(() => clearInterval(upkeep));
  }
  // One edge cache, shared by the edge and the control API's invalidations (a recording's delete, a purge).
  const edgeCache = new EdgeCache();
  const apps = createApps(
    {
      redis,
      componentRedis,
      keys,
      storage: media.storage,
      controlToken,
      srt,
      rtpPort: ports.rtp,
      sessionSecret,
      playbackKeys,
      edgeCache,
    },
    teardown,
  );
  const { edge, server } = await serveEdge(
    {
      apps,
      media: media.origin,
      dataDir: options.dataDir,
      httpsPort: ports.https,
      httpPort: ports.http,
      viewerRequest: playbackKeys ? playbackViewerRequest(playbackKeys.lookup) : undefined,
      cache: edgeCache,
    },
    teardown,
  );

  // The direct feed writes the tile rung alone, with the platform's profile.
  const targets = renditionTargets(options.latencyProfile ?? DEFAULT_LATENCY_PROFILE, [TILE_RUNG], TILE_RUNG);
  const direct = options.feed === 'direct';
  let ingest: IngestHandle | undefined;
  if (!direct) {
    const { ladder, gpu, dataDir, ingestLog: log, liveTtlS } = options;
    ingest = await startIngestChild(
      {
        redisUrl: componentUrls.ingest,
        storage: media.ingest,
        srtPort: ports.srt,
        rtpPort: ports.rtp,
        ladder,
        gpu,
        dataDir,
        log,
        liveTtlS,
      },
      teardown,
    );
  }
  const registry = new StreamRegistry(redis, undefined, { keys });
  const { streams, feeds, rtpExample } = await createStreams(
    {
      registry,
      srt,
      rtp: { host: srt.host, port: ports.rtp },
      ladder: options.ladder,
      latencyProfile: options.latencyProfile ?? DEFAULT_LATENCY_PROFILE,
      specs: options.streamSpecs ?? [],
      synthetic: options.streams,
      ownStream: options.ownStream === true,
      clipsDir: join(options.dataDir, 'clips'),
      feeds: direct ? directFeeds(redis, media.storage, targets) : srtFeeds,
    },
    teardown,
  );
  const status = statusReader({
    streams,
    feeds,
    registry,
    redis,
    manifest: apps.manifest,
    connections: (id) => edge.viewers(id),
  });

  logger.debug('platform started', { ports });
  const https = `https://localhost:${server.httpsPort}`;
  return {
    options,
    urls: {
      https,
      http: `http://127.0.0.1:${server.httpPort}`,
      viewer: `${https}/`,
      operator: `${https}/operator/`,
      srt: `srt://127.0.0.1:${ports.srt}`,
      rtp: `rtp://127.0.0.1:${ports.rtp}`,
    },
    controlToken,
    redisUrl,
    mediaDir,
    storage: mediaAsServed(apps.manifest, media.storage),
    redisServer,
    ...(media.s3 === undefined ? {} : { s3: media.s3 }),
    ...(ingest === undefined ? {} : { ingest }),
    streams,
    ...(rtpExample === undefined ? {} : { rtpExample }),
    edge,
    registry,
    ...(playbackKeys === undefined ? {} : { playbackKeys }),
    ports: {
      https: server.httpsPort,
      http: server.httpPort,
      srt: ports.srt,
      rtp: ports.rtp,
      redis: ports.redis,
    },
    pids: () => teardown.pids(),
    status,
    stop: () => teardown.run(),
  };
}

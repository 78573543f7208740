import { dvrSegmentTargetMs } from '../../core/dvr/window.js';
import { LADDERS, type Rung } from '../../core/ladder.js';
import type { LatencyProfile } from '../../core/latency-profiles.js';
import { partTtlMs } from '../../core/packager/part-store.js';
import { SESSION_CALL_SECONDS, viewerApiSizing } from '../../core/sessions/api-sizing.js';
import { dvrWindowDays, HELD_REQUESTS_PER_RENDITION, type StageConfig } from '../../infra/config.js';
import { type Alternative, alternatives } from './alternatives.js';
import {
  API_ACCESS_LOG_BYTES,
  CLOUDFRONT_LOG_GZIP_BYTES,
  CONTRIBUTION_KBPS,
  DEFAULT_QUOTAS,
  ELASTICACHE_NODE_MEMORY_GIB,
  ELASTICACHE_USABLE_SHARE,
  EXPIRY_ROUNDING_DAYS,
  GIB,
  HOURS_PER_DAY,
  LAMBDA_MEMORY_GB,
  LAMBDA_PLATFORM_LOG_BYTES,
  LOG_ARCHIVE_RATIO,
  LOG_BUCKET_EXPIRY_DAYS,
  LOG_RETENTION_DAYS,
  NAT_GATEWAYS,
  PART_INVOCATION_MS,
  REGIONAL_EDGE_CACHES,
  SECONDS_PER_HOUR,
  VPC_AZS,
} from './assumptions.js';
import { CostInputError, segmentMsFor, type TileView, tieredCost, viewerTiles } from './audience.js';
import { HOURS_PER_MONTH, type Prices } from './prices.js';
import { recordingsPerHour } from './recordings.js';

/** The stage configuration the model reads: the same validated object `cdk synth` builds stacks from. */
export type CostStage = Pick<StageConfig, 'ingest' | 'media' | 'redis' | 'delivery' | 'audience'>;

export interface Audience {
  readonly streams: number;
  /** Viewers = streams x viewersPerStream; each plays `tiles` distinct streams. */
  readonly viewersPerStream: number;
  readonly tiles: number;
  /** Rendition of the focused (or only) tile; defaultFocusRung() unless given. */
  readonly focusRung?: string;
  /** Origin Shield in front of the origins (as deployed: infra/constructs/delivery/origins.ts). */
  readonly originShield: boolean;
  /** Price keeping the top rung of every stream as a recording (nothing writes recordings yet). */
  readonly record: boolean;
}

export interface CostLine {
  readonly key: string;
  readonly usdPerHour: number;
  /** The volume and unit price behind the figure. */
  readonly note: string;
}

export interface QuotaCheck {
  readonly name: string;
  readonly need: number;
  readonly quota: number;
  /** What to do when the need exceeds it; `request an increase` by default. */
  readonly remedy?: string;
}

export interface CostReport {
  readonly profile: LatencyProfile;
  readonly viewers: number;
  readonly tiles: readonly TileView[];
  /** Playlist and part requests per viewer-second (what the scale simulation measures per client). */
  readonly mediaRequestsPerViewerSecond: number;
  /** Session API requests per viewer-second (heartbeats, stream list). */
  readonly apiRequestsPerViewerSecond: number;
  readonly lines: readonly CostLine[];
  readonly usdPerHour: number;
  readonly usdPerViewerHour: number;
  readonly usdPerStreamHour: number;
  readonly alternatives: readonly Alternative[];
  readonly quotas: readonly QuotaCheck[];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const monthly = (perHour: number) => perHour * HOURS_PER_MONTH;

/** Cost per hour of `audience` watching on `profile`, line by line, sustained 24x7 at list prices. */
export function costReport(
  stage: CostStage,
  audience: Audience,
  profile: LatencyProfile,
  prices: Prices,
): CostReport {
  checkAudience(stage, audience);
  const ladder = LADDERS[stage.media.ladder];
  const tiles = viewerTiles(ladder, profile, audience.tiles, audience.focusRung);
  const viewers = audience.streams * audience.viewersPerStream;
  const mediaRps = tiles.reduce((s, t) => s + t.requestsPerSecond, 0);
  // The viewer API's traffic under the heartbeat policy, as the stage's throttles are sized (D27).
  const viewerApi = viewerApiSizing(viewers);
  const apiRps = viewerApi.requestsPerViewerSecond.total + viewerApi.streamListPerViewerSecond;
  const viewerBytesPerS = tiles.reduce((s, t) => s + t.bytesPerSecond, 0);

  // Origin side: every stream has viewers on each rendition some tile plays (focus spread over the streams).
  const watched = new Map(tiles.map((t) => [t.rung.name, t.partMs]));
  const caches = REGIONAL_EDGE_CACHES[stage.delivery.priceClass];
  const fanIn = audience.originShield ? 1 : caches;
  const partsPerS = audience.streams * [...watched.values()].reduce((s, ms) => s + 1000 / ms, 0);
  const playlistKeys = HELD_REQUESTS_PER_RENDITION - 1; // cache-key variants of the blocking reload
  const manifestInvokesPerS = fanIn * partsPerS * playlistKeys;
  const manifestConcurrency = fanIn * audience.streams * watched.size * playlistKeys; // each held ~one part
  const heartbeatsPerS = viewers * viewerApi.requestsPerViewerSecond.heartbeats;
  const listsPerS = viewerApi.streamListOriginPerSecond; // edge-cache misses only
  const apiPerS = viewerApi.sessionRequestsPerSecond;
  const cfRequestsPerS = viewers * (mediaRps + apiRps);

  const lines: CostLine[] = [];
  const add = (key: string, usdPerHour: number, note: string) => lines.push({ key, usdPerHour, note });

  add(
    'cloudfront.requests',
    cfRequestsPerS * SECONDS_PER_HOUR * prices.cloudfront.httpsRequests.usd,
    `${fmt(cfRequestsPerS)} req/s (${fmt(mediaRps, 2)} media + ${fmt(apiRps, 2)} API per viewer) x $${prices.cloudfront.httpsRequests.usd * 10_000}/10k`,
  );
  const egressGbPerHour = (viewers * viewerBytesPerS * SECONDS_PER_HOUR) / GIB;
  const egress = tieredCost(monthly(egressGbPerHour), prices.cloudfront.egressTiers.tiers);
  for (const [i, t] of egress.byTier.entries()) {
    add(
      `cloudfront.egress.tier${i + 1}`,
      t.usd / HOURS_PER_MONTH,
      `${fmt(t.volume / 1024)} TB/month at $${t.price}/GB (${fmt(egressGbPerHour)} GB/h sustained)`,
    );
  }
  // The playlist behaviour's freshness bucket runs on every playlist request (D31): half the media requests (one
  // blocking playlist per part fetched); with playback protection the token check runs on the parts as well.
  const functionRps = stage.delivery.playbackProtection ? mediaRps : mediaRps / 2;
  add(
    'cloudfront.functions',
    viewers * functionRps * SECONDS_PER_HOUR * prices.cloudfront.functionInvocations.usd,
    stage.delivery.playbackProtection
      ? 'playback-token check on every playlist and media request (with the freshness bucket on playlists)'
      : 'playlist freshness bucket on every playlist request (D31)',
  );
  const shieldPerS = caches * partsPerS * HELD_REQUESTS_PER_RENDITION;
  add(
    'cloudfront.origin_shield',
    audience.originShield ? shieldPerS * SECONDS_PER_HOUR * prices.cloudfront.originShieldRequests.usd : 0,
    audience.originShield
      ? `${fmt(shieldPerS)} req/s: ${caches} regional caches x ${fmt(partsPerS)} parts/s x ${HELD_REQUESTS_PER_RENDITION} keys`
      : 'off: every regional cache reaches the origins',
  );
  add(
    'lambda.manifest.requests',
    manifestInvokesPerS * SECONDS_PER_HOUR * prices.lambda.requests.usd,
    `${fmt(manifestInvokesPerS)} blocking reloads/s after collapsing (${fanIn} x ${fmt(partsPerS)} parts/s x ${playlistKeys} keys)`,
  );
  add(
    'lambda.manifest.gb_s',
    manifestConcurrency * LAMBDA_MEMORY_GB * SECONDS_PER_HOUR * prices.lambda.gbSecond.usd,
    `${fmt(manifestConcurrency)} held invocations x ${LAMBDA_MEMORY_GB} GB`,
  );
  add(
    'lambda.session.requests',
    apiPerS * SECONDS_PER_HOUR * prices.lambda.requests.usd,
    `${fmt(apiPerS)} calls/s: ${fmt(heartbeatsPerS)} heartbeats, ${fmt(apiPerS - heartbeatsPerS - listsPerS)} changes and session starts/ends, ${fmt(listsPerS, 1)} stream-list misses`,
  );
  add(
    'lambda.session.gb_s',
    apiPerS * SESSION_CALL_SECONDS * LAMBDA_MEMORY_GB * SECONDS_PER_HOUR * prices.lambda.gbSecond.usd,
    `${SESSION_CALL_SECONDS * 1000} ms x ${LAMBDA_MEMORY_GB} GB per call (core/sessions/api-sizing.ts)`,
  );
  const api = tieredCost(monthly(apiPerS * SECONDS_PER_HOUR), prices.apiGateway.httpApiTiers.tiers);
  add('api_gateway', api.usd / HOURS_PER_MONTH, `${fmt(apiPerS)} req/s, monthly tiers`);
  const watchedBytesPerS = [...watched.keys()].reduce((s, name) => s + rungBytesPerS(ladder, name), 0);
  const storage = storageLines(stage, audience, profile, fanIn, { partsPerS, watchedBytesPerS }, prices);
  lines.push(...storage.lines);
  lines.push(...computeLines(stage, audience, prices));
  const logsGbPerHour =
    ((apiPerS * (API_ACCESS_LOG_BYTES + LAMBDA_PLATFORM_LOG_BYTES) +
      manifestInvokesPerS * LAMBDA_PLATFORM_LOG_BYTES) *
      SECONDS_PER_HOUR) /
    GIB;
  add(
    'cloudwatch.logs',
    logsGbPerHour * prices.cloudwatchLogs.ingestGb.usd +
      (logsGbPerHour *
        HOURS_PER_DAY *
        LOG_RETENTION_DAYS *
        LOG_ARCHIVE_RATIO *
        prices.cloudwatchLogs.storageGbMonth.usd) /
        HOURS_PER_MONTH,
    `${fmt(logsGbPerHour, 1)} GB/h (API access + Lambda platform lines), kept ${LOG_RETENTION_DAYS} days`,
  );
  const cfLogGbPerHour = (cfRequestsPerS * CLOUDFRONT_LOG_GZIP_BYTES * SECONDS_PER_HOUR) / GIB;
  add(
    's3.cloudfront_logs',
    (cfLogGbPerHour *
      HOURS_PER_DAY *
      (LOG_BUCKET_EXPIRY_DAYS + EXPIRY_ROUNDING_DAYS) *
      prices.s3.standardGbMonth.usd) /
      HOURS_PER_MONTH,
    `${fmt(cfLogGbPerHour, 1)} GB/h of gzipped standard logs kept ${LOG_BUCKET_EXPIRY_DAYS} days`,
  );

  const usdPerHour = lines.reduce((s, l) => s + l.usdPerHour, 0);
  // What any LL-HLS origin behind CloudFront pays for the same players: their media requests and bytes.
  const cloudfrontMediaPerHour =
    viewers * mediaRps * SECONDS_PER_HOUR * prices.cloudfront.httpsRequests.usd +
    egress.usd / HOURS_PER_MONTH;
  return {
    profile,
    viewers,
    tiles,
    mediaRequestsPerViewerSecond: mediaRps,
    apiRequestsPerViewerSecond: apiRps,
    lines,
    usdPerHour,
    usdPerViewerHour: usdPerHour / viewers,
    usdPerStreamHour: usdPerHour / audience.streams,
    alternatives: alternatives({
      ladder,
      tiles,
      viewers,
      streams: audience.streams,
      cloudfrontPerHour: cloudfrontMediaPerHour,
      prices,
    }),
    quotas: [
      {
        name: 'CloudFront requests/s per distribution',
        need: cfRequestsPerS,
        quota: DEFAULT_QUOTAS.cloudfrontRequestsPerSecond,
      },
      {
        name: 'CloudFront Gbps per distribution',
        need: (viewers * viewerBytesPerS * 8) / 1e9,
        quota: DEFAULT_QUOTAS.cloudfrontGbps,
      },
      {
        name: 'Lambda concurrent executions',
        need: manifestConcurrency + apiPerS * SESSION_CALL_SECONDS,
        quota: DEFAULT_QUOTAS.lambdaConcurrency,
      },
      storage.redisMemory,
      {
        name: 'API Gateway requests/s (account)',
        need: apiPerS,
        quota: DEFAULT_QUOTAS.apiGatewayRequestsPerSecond,
      },
    ],
  };
}

function checkAudience(stage: CostStage, audience: Audience): void {
  if (!Number.isInteger(audience.streams) || audience.streams < 1) {
    throw new CostInputError('--streams: must be a whole number of at least 1');
  }
  if (!Number.isInteger(audience.viewersPerStream) || audience.viewersPerStream < 1) {
    throw new CostInputError('--viewers-per-stream: must be a whole number of at least 1');
  }
  if (!Number.isInteger(audience.tiles) || audience.tiles < 1 || audience.tiles > 25) {
    throw new CostInputError('--tiles: must be a whole number from 1 to 25 (a 5x5 wall)');
  }
  if (audience.tiles > audience.streams) {
    throw new CostInputError(
      `--tiles: ${audience.tiles} tiles need at least as many streams (--streams ${audience.streams})`,
    );
  }
  const capacity = stage.ingest.maxTasks * stage.ingest.nvencSessionsPerGpu;
  if (audience.streams > capacity) {
    throw new CostInputError(
      `--streams: ${audience.streams} exceeds the stage's ingest capacity (ingest.maxTasks ${stage.ingest.maxTasks} x ingest.nvencSessionsPerGpu ${stage.ingest.nvencSessionsPerGpu} = ${capacity})`,
    );
  }
}

/** Average bytes per second of one rung (video + audio), by name. */
function rungBytesPerS(ladder: readonly Rung[], name: string): number {
  const rung = ladder.find((r) => r.name === name)!;
  return ((rung.videoKbps + rung.audioKbps) * 1000) / 8;
}

/**
 * Ingest storage (decision D33): parts live in the live state's Redis, so S3 takes one PUT per segment per rung
 * (and one init segment per rung per broadcast, negligible); players' part requests reach the manifest function,
 * which reads Redis; what the lifecycle rules keep in S3; and the Redis memory the parts need.
 */
function storageLines(
  stage: CostStage,
  audience: Audience,
  profile: LatencyProfile,
  fanIn: number,
  watched: { readonly partsPerS: number; readonly watchedBytesPerS: number },
  prices: Prices,
): { lines: CostLine[]; redisMemory: QuotaCheck } {
  const ladder = LADDERS[stage.media.ladder];
  const segmentMs = segmentMsFor(profile);
  const putsPerStreamS = (ladder.length * 1000) / segmentMs;
  const putsPerS = audience.streams * putsPerStreamS;
  const partRequestsPerS = fanIn * watched.partsPerS;
  const streamBytesPerS = ladder.reduce((s, r) => s + rungBytesPerS(ladder, r.name), 0);
  const gbMonthPerHour = (days: number) =>
    (audience.streams * streamBytesPerS * (days + EXPIRY_ROUNDING_DAYS) * HOURS_PER_DAY * SECONDS_PER_HOUR) /
    GIB /
    HOURS_PER_MONTH;
  const dvrDays = dvrWindowDays(stage.media.dvrWindowS);
  // Every part of every rung goes into Redis once; each watched part comes out once per shield (or regional cache).
  const crossAz = (VPC_AZS - 1) / VPC_AZS;
  const redisGbPerHour =
    ((audience.streams * streamBytesPerS + fanIn * audience.streams * watched.watchedBytesPerS) *
      SECONDS_PER_HOUR) /
    GIB;
  // Parts stay for their TTL at the rungs' peak rates (core/packager/part-store.ts), beside the live state.
  const ttlS = partTtlMs(segmentMs) / 1000;
  const peakBytesPerS = ladder.reduce((s, r) => s + ((r.maxVideoKbps + r.audioKbps) * 1000) / 8, 0);
  const nodeGib = ELASTICACHE_NODE_MEMORY_GIB[stage.redis.nodeType] ?? Number.NaN;
  const lines: CostLine[] = [
    {
      key: 's3.put',
      usdPerHour: putsPerS * SECONDS_PER_HOUR * prices.s3.put.usd,
      note: `${fmt(putsPerS, 1)} PUT/s (${fmt(putsPerStreamS, 2)} per stream: the segments of ${ladder.length} rungs; parts are in Redis, D33)`,
    },
    {
      key: 'lambda.manifest.parts',
      usdPerHour:
        partRequestsPerS *
        SECONDS_PER_HOUR *
        (prices.lambda.requests.usd +
          (PART_INVOCATION_MS / 1000) * LAMBDA_MEMORY_GB * prices.lambda.gbSecond.usd),
      note: `${fmt(partRequestsPerS)} part reads/s from Redis: one per watched part per ${audience.originShield ? 'shield' : 'regional cache'}, ${PART_INVOCATION_MS} ms each`,
    },
    {
      key: 'redis.network',
      usdPerHour: redisGbPerHour * crossAz * 2 * prices.interAzGb.usd,
      note: `${fmt(redisGbPerHour, 1)} GB/h of parts in and out of Redis, ${fmt(crossAz * 100)} % across zones, billed both ways`,
    },
    {
      key: 's3.storage.dvr_segments',
      usdPerHour: gbMonthPerHour(dvrDays) * prices.s3.standardGbMonth.usd,
      note: `segments kept ${dvrDays} day(s) (media.dvrWindowS ${stage.media.dvrWindowS} s, whole days)`,
    },
    // The DVR window (D43): every rung again as DVR segments, same lifecycle, a PUT per DVR segment and per playlist
    // rewrite (bench/dvr-cost.ts has the viewer side).
    {
      key: 's3.dvr_window',
      usdPerHour:
        gbMonthPerHour(dvrDays) * prices.s3.standardGbMonth.usd +
        dvrPutsPerHour(audience.streams, ladder.length, stage.media.dvrWindowS) * prices.s3.put.usd,
      note: `DVR segments of ${dvrSegmentTargetMs(stage.media.dvrWindowS) / 1000} s kept ${dvrDays} day(s); ${fmt(dvrPutsPerHour(1, ladder.length, stage.media.dvrWindowS))} PUT/h per stream`,
    },
  ];
  if (audience.record)
    lines.push(recordingsPerHour(stage.media, ladder[0]!, segmentMs, audience.streams, prices));
  const redisMemory: QuotaCheck = {
    name: `Redis memory for parts, MiB (${stage.redis.nodeType}, ${ELASTICACHE_USABLE_SHARE * 100} % usable)`,
    need: (audience.streams * peakBytesPerS * ttlS) / 1024 ** 2,
    quota: Math.floor(nodeGib * ELASTICACHE_USABLE_SHARE * 1024),
    remedy: 'choose a larger redis.nodeType',
  };
  return { lines, redisMemory };
}

/** GPU instances for the streams, Redis nodes, the SRT load balancer, NAT. */
function computeLines(stage: CostStage, audience: Audience, prices: Prices): CostLine[] {
  const gpu = prices.ec2Hourly[stage.ingest.instanceType];
  if (gpu === undefined) {
    throw new CostInputError(
      `ingest.instanceType: no price for ${stage.ingest.instanceType} in bench/cost/prices.ts`,
    );
  }
  const cache = prices.elasticacheHourly[stage.redis.nodeType];
  if (cache === undefined) {
    throw new CostInputError(`redis.nodeType: no price for ${stage.redis.nodeType} in bench/cost/prices.ts`);
  }
  const tasks = Math.max(
    stage.ingest.minTasks,
    Math.ceil(audience.streams / stage.ingest.nvencSessionsPerGpu),
  );
  const nodes = 1 + stage.redis.replicas;
  // A UDP NLCU: 1 GB processed per hour (the flows are few and long-lived, so bytes decide).
  const nlbGbPerHour = (audience.streams * CONTRIBUTION_KBPS * 1000 * SECONDS_PER_HOUR) / 8 / GIB;
  return [
    {
      key: 'ec2.gpu',
      usdPerHour: tasks * gpu.usd,
      note: `${tasks} x ${stage.ingest.instanceType} (${stage.ingest.nvencSessionsPerGpu} streams per task, at least ingest.minTasks ${stage.ingest.minTasks})`,
    },
    {
      key: 'elasticache',
      usdPerHour: nodes * cache.usd,
      note: `${nodes} x ${stage.redis.nodeType}`,
    },
    {
      key: 'nlb',
      usdPerHour: prices.nlb.hourly.usd + Math.max(1, nlbGbPerHour) * prices.nlb.nlcuHourly.usd,
      note: `${fmt(nlbGbPerHour, 1)} NLCU (${CONTRIBUTION_KBPS / 1000} Mbps SRT contribution per stream)`,
    },
    {
      key: 'vpc.nat',
      usdPerHour: NAT_GATEWAYS * prices.natGatewayHourly.usd,
      note: `${NAT_GATEWAYS} NAT gateway`,
    },
  ];
}

/** DVR PUTs per hour (D43): per rung, one DVR segment and one rewrite of its DVR playlist per DVR segment. */
function dvrPutsPerHour(streams: number, rungs: number, dvrWindowS: number): number {
  return (streams * rungs * 2 * 3_600_000) / dvrSegmentTargetMs(dvrWindowS);
}

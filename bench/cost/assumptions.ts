/**
 * What the cost model assumes that is neither a price (prices.ts) nor in the stage configuration (infra/config.ts):
 * each figure with where it comes from, so a change in the code it restates is easy to carry over here.
 */

/** hls.js in low-latency mode makes, per tile and per part, one blocking playlist reload and one part fetch. */
export const REQUESTS_PER_PART = 2;

/**
 * A compressed LL-HLS delta playlist response body (research/cost.md: about 0.5 KB), and the response headers of
 * any response: together they add about 17% to a 360p tile's bytes at 100 ms parts (500 + 2 x 240 bytes per part).
 */
export const PLAYLIST_BODY_BYTES = 500;
export const RESPONSE_HEADER_BYTES = 240;

/**
 * CloudFront regional edge caches a distribution of each price class reaches: without Origin Shield each one sends
 * its own collapsed request per cache key to the origin; with it, they all go through the one shield. 13 in all
 * (research/cost.md); the split by price class is an estimate (verify).
 */
export const REGIONAL_EDGE_CACHES = { PriceClass_All: 13, PriceClass_200: 11, PriceClass_100: 6 } as const;

/** AppFunction's default memory (infra/constructs/app-function): every function uses it. */
export const LAMBDA_MEMORY_GB = 512 / 1024;

/** Log lines per request: an HTTP API access log line, and Lambda's START/END/REPORT platform lines. */
export const API_ACCESS_LOG_BYTES = 300;
export const LAMBDA_PLATFORM_LOG_BYTES = 350;
/** CloudWatch Logs bills archived logs on their compressed size (verify: about 15% of the raw bytes). */
export const LOG_ARCHIVE_RATIO = 0.15;
/** Every log group's retention (RetentionDays.ONE_MONTH in infra/constructs/api, app-function, ingest). */
export const LOG_RETENTION_DAYS = 30;

/**
 * CloudFront standard logs (delivery.ts: enableLogging into the log bucket): a gzipped log line per viewer request
 * (about 500 bytes raw, verify), kept until the log bucket's 90-day expiry (infra/constructs/media-storage).
 */
export const CLOUDFRONT_LOG_GZIP_BYTES = 60;
export const LOG_BUCKET_EXPIRY_DAYS = 90;

/**
 * A part request the manifest function answers from the part store (D33): one GETBUFFER of a 10-200 KB part and the
 * response, billed per millisecond. Measured locally through the app with a real redis-server: p50 0.19 ms for a
 * 20 KB part, 0.46 ms for 190 KB; 5 ms leaves room for Lambda's event conversion and base64 response (verify).
 */
export const PART_INVOCATION_MS = 5;
/**
 * Availability Zones the VPC spreads the ingest tasks, the functions and the Redis primary over (infra/constructs/
 * network: maxAzs 2): on average (AZS - 1) / AZS of the bytes between them and Redis cross a zone boundary.
 */
export const VPC_AZS = 2;
/**
 * Memory of the ElastiCache node types the stages use (GiB, AWS's node table, verify), and the share Redis may
 * fill: the default parameter group (infra/constructs/live-state sets none) reserves 25 % (reserved-memory-percent)
 * for replication buffers and snapshots.
 */
export const ELASTICACHE_NODE_MEMORY_GIB: Readonly<Record<string, number>> = {
  'cache.r7g.large': 13.07,
  'cache.t4g.small': 1.37,
};
export const ELASTICACHE_USABLE_SHARE = 0.75;
/**
 * S3 expiry adds the rule's days to the creation time and rounds up to the next midnight UTC, so an object lives
 * half a day longer than its rule on average (and is billed until then).
 */
export const EXPIRY_ROUNDING_DAYS = 0.5;

/** Objects of at least 128 KB are monitored (and charged for) by Intelligent-Tiering. */
export const IT_MONITORED_MIN_BYTES = 128 * 1024;
/** Intelligent-Tiering moves an object not read for 30 days to infrequent access, for 90 days to archive instant. */
export const IT_INFREQUENT_AFTER_DAYS = 30;
export const IT_ARCHIVE_INSTANT_AFTER_DAYS = 90;

/** A contribution feed over SRT (what the NLB carries per stream): a 1080p30 H.264 encoder at about 6 Mbps. */
export const CONTRIBUTION_KBPS = 6000;
/** NAT gateways of the VPC (natGateways default in infra/constructs/network). */
export const NAT_GATEWAYS = 1;

/** Default account and distribution quotas (research/cost.md) the model checks the audience against. */
export const DEFAULT_QUOTAS = {
  cloudfrontRequestsPerSecond: 250_000,
  cloudfrontGbps: 150,
  lambdaConcurrency: 1000,
  apiGatewayRequestsPerSecond: 10_000,
} as const;

/** IVS Low-Latency bills a viewer-hour by the rendition played: SD up to 480p, HD up to 720p, Full HD above. */
export const IVS_SD_MAX_HEIGHT = 480;
export const IVS_HD_MAX_HEIGHT = 720;

export const GIB = 1024 ** 3;
export const SECONDS_PER_HOUR = 3600;
export const HOURS_PER_DAY = 24;

/**
 * Every price the cost model uses, and nothing else: list prices, us-east-1 / US edge, on-demand, gathered 2026-12
 * (figures from ../shared/research/cost.md unless a line says otherwise). `verify: true` marks figures the research
 * took from memory or a secondary source, or that it does not carry at all: check them against the source page
 * before quoting them outside this project. Change a price here and every figure of `npm run cost` follows.
 */

export interface Price {
  readonly usd: number;
  /** What one `usd` buys. */
  readonly per: string;
  readonly source: string;
  readonly date: '2026-12';
  readonly verify?: true;
}

/**
 * A month volume tier as the price page states it: `usd` per unit for the next `size` units of the month, after the
 * tiers before it (Infinity: everything above).
 */
export interface Tier {
  readonly size: number;
  readonly usd: number;
}

const TB = 1024; // AWS counts CloudFront's tiers in GB, 1 TB = 1,024 GB (10 TB + ... + 524 TB = 1 PB).
const PB = 1024 * TB;

const CLOUDFRONT = 'https://aws.amazon.com/cloudfront/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const API_GATEWAY = 'https://aws.amazon.com/api-gateway/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const EC2 = 'https://aws.amazon.com/ec2/pricing/on-demand/';
const ELASTICACHE = 'https://aws.amazon.com/elasticache/pricing/';
const ELB = 'https://aws.amazon.com/elasticloadbalancing/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const VPC = 'https://aws.amazon.com/vpc/pricing/';
const IVS = 'https://aws.amazon.com/ivs/pricing/';
const MEDIALIVE = 'https://aws.amazon.com/medialive/pricing/';
const MEDIAPACKAGE = 'https://aws.amazon.com/mediapackage/pricing/';
const DATE = '2026-12' as const;

export const PRICES = {
  cloudfront: {
    /** Data transfer out to viewers, US/EU, month volume tiers. */
    egressTiers: {
      tiers: [
        { size: 10 * TB, usd: 0.085 },
        { size: 40 * TB, usd: 0.08 },
        { size: 100 * TB, usd: 0.06 },
        { size: 350 * TB, usd: 0.04 },
        { size: 524 * TB, usd: 0.03 },
        { size: 4 * PB, usd: 0.025 },
        { size: Number.POSITIVE_INFINITY, usd: 0.02 },
      ] satisfies readonly Tier[],
      per: 'GB, for the next size GB of the month',
      source: CLOUDFRONT,
      date: DATE,
    },
    /** HTTPS requests, US; no volume tiers (EU $0.0120, South America / Middle East up to about $0.022). */
    httpsRequests: { usd: 0.01 / 10_000, per: 'request', source: CLOUDFRONT, date: DATE },
    /** Every regional-cache -> shield request, hits included. */
    originShieldRequests: {
      usd: 0.0075 / 10_000,
      per: 'request',
      source: CLOUDFRONT,
      date: DATE,
      verify: true,
    },
    /** CloudFront Functions (the playlists' freshness bucket; the playback-token check when protection is on). */
    functionInvocations: { usd: 0.1 / 1e6, per: 'invocation', source: CLOUDFRONT, date: DATE },
  },
  lambda: {
    /** arm64; function URLs cost nothing extra. */
    requests: { usd: 0.2 / 1e6, per: 'request', source: LAMBDA, date: DATE },
    gbSecond: { usd: 0.0000133334, per: 'GB-second (arm64)', source: LAMBDA, date: DATE },
  },
  apiGateway: {
    /** HTTP API: $1.00 per million for the first 300 million of the month, then $0.90. */
    httpApiTiers: {
      tiers: [
        { size: 300e6, usd: 1.0 / 1e6 },
        { size: Number.POSITIVE_INFINITY, usd: 0.9 / 1e6 },
      ] satisfies readonly Tier[],
      per: 'request, for the next size requests of the month',
      source: API_GATEWAY,
      date: DATE,
      verify: true,
    },
  },
  s3: {
    standardGbMonth: { usd: 0.023, per: 'GB-month, Standard', source: S3, date: DATE },
    /** Intelligent-Tiering's frequent tier costs what Standard does; infrequent after 30 days without access. */
    itInfrequentGbMonth: {
      usd: 0.0125,
      per: 'GB-month, Intelligent-Tiering infrequent access',
      source: S3,
      date: DATE,
      verify: true,
    },
    /** Intelligent-Tiering archive instant access, after 90 days without access. */
    itArchiveInstantGbMonth: {
      usd: 0.004,
      per: 'GB-month, Intelligent-Tiering archive instant access',
      source: S3,
      date: DATE,
      verify: true,
    },
    itMonitoring: { usd: 0.0025 / 1000, per: 'object-month (objects >= 128 KB)', source: S3, date: DATE },
    lifecycleTransition: { usd: 0.01 / 1000, per: 'object transitioned', source: S3, date: DATE },
    put: { usd: 0.005 / 1000, per: 'PUT request', source: S3, date: DATE },
    get: { usd: 0.0004 / 1000, per: 'GET request', source: S3, date: DATE },
  },
  /** On-demand per instance-hour; a type missing here is refused by the model (add it with its source). */
  ec2Hourly: {
    'g4dn.xlarge': { usd: 0.526, per: 'instance-hour', source: EC2, date: DATE, verify: true },
    'g5.xlarge': { usd: 1.006, per: 'instance-hour', source: EC2, date: DATE },
    'g6.xlarge': { usd: 0.805, per: 'instance-hour', source: EC2, date: DATE, verify: true },
  } as Readonly<Record<string, Price>>,
  /** Per node-hour (Redis OSS; Valkey about 20% less). */
  elasticacheHourly: {
    'cache.r7g.large': { usd: 0.219, per: 'node-hour', source: ELASTICACHE, date: DATE, verify: true },
    'cache.t4g.small': { usd: 0.032, per: 'node-hour', source: ELASTICACHE, date: DATE, verify: true },
  } as Readonly<Record<string, Price>>,
  nlb: {
    hourly: { usd: 0.0225, per: 'load balancer-hour', source: ELB, date: DATE, verify: true },
    /** A UDP NLCU is 400 new flows/s, 50,000 active flows or 1 GB processed per hour, whichever is highest. */
    nlcuHourly: { usd: 0.006, per: 'NLCU-hour', source: ELB, date: DATE, verify: true },
  },
  cloudwatchLogs: {
    /** Not in research/cost.md. */
    ingestGb: { usd: 0.5, per: 'GB ingested (standard class)', source: CLOUDWATCH, date: DATE, verify: true },
    /** Not in research/cost.md; billed on the compressed size. */
    storageGbMonth: { usd: 0.03, per: 'GB-month archived', source: CLOUDWATCH, date: DATE, verify: true },
  },
  /** Not in research/cost.md. */
  natGatewayHourly: { usd: 0.045, per: 'NAT gateway-hour', source: VPC, date: DATE, verify: true },
  /**
   * Data between Availability Zones of a region (EC2, Lambda in a VPC, ElastiCache): billed on both sides, $0.01 per
   * GB out of one zone and $0.01 per GB into the other. ElastiCache's own replication is not billed (verify).
   */
  interAzGb: {
    usd: 0.01,
    per: 'GB, each direction between Availability Zones',
    source: 'https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer_within_the_same_AWS_Region',
    date: DATE,
    verify: true,
  },
  ivs: {
    /** Low-Latency input, Standard channel (transcoded ABR ladder). */
    lowLatencyInputStandardHourly: { usd: 2.0, per: 'channel-hour', source: IVS, date: DATE },
    /** Low-Latency output per viewer-hour, North America, first tier; by the rendition the viewer watches. */
    lowLatencySdViewerHour: { usd: 0.0375, per: 'SD viewer-hour', source: IVS, date: DATE },
    lowLatencyHdViewerHour: { usd: 0.075, per: 'HD viewer-hour', source: IVS, date: DATE },
    lowLatencyFullHdViewerHour: { usd: 0.15, per: 'Full HD viewer-hour', source: IVS, date: DATE },
    /** Real-Time: every participant (publisher or subscriber) per hour; 720p maximum. */
    realTimeParticipantHour: { usd: 0.036, per: 'participant-hour', source: IVS, date: DATE, verify: true },
  },
  medialive: {
    /** Channel rates from AWS's Live Streaming solution example; single-pipeline is lower. */
    hdAvcInputHourly: { usd: 0.294, per: 'input-hour (HD AVC)', source: MEDIALIVE, date: DATE, verify: true },
    sdAvcOutputHourly: {
      usd: 0.354,
      per: 'output-hour (SD AVC)',
      source: MEDIALIVE,
      date: DATE,
      verify: true,
    },
    hdAvcOutputHourly: {
      usd: 0.702,
      per: 'output-hour (HD AVC)',
      source: MEDIALIVE,
      date: DATE,
      verify: true,
    },
  },
  mediapackage: {
    ingestGb: { usd: 0.03, per: 'GB ingested', source: MEDIAPACKAGE, date: DATE, verify: true },
    originationGb: { usd: 0.05, per: 'GB originated', source: MEDIAPACKAGE, date: DATE, verify: true },
  },
};

export type Prices = typeof PRICES;

/** Hours in a billing month as AWS's calculator counts them (24 x 365 / 12). */
export const HOURS_PER_MONTH = 730;

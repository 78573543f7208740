// DVR time-shift figures at the default 4 h window (decision D43): the DVR playlist's size (plain, gzip, brotli:
// CloudFront compresses it), a DVR viewer's requests and bytes per hour beside a live LL-HLS viewer's, and what the
// window costs to keep per stream-hour.
// Usage: node --import tsx bench/dvr-cost.ts [--window-s 14400] [--ladder full|tile]
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { dvrFiles, newBroadcastId } from '../core/contracts/names.js';
import { DEFAULT_DVR_WINDOW_S } from '../core/dvr/constants.js';
import { DvrWindow, dvrSegmentTargetMs, renderDvrMultivariant } from '../core/dvr/window.js';
import { LADDERS, type LadderPreset } from '../core/ladder.js';
import { DEFAULT_LATENCY_PROFILE, PROFILE_TARGETS } from '../core/latency-profiles.js';
import { EXPIRY_ROUNDING_DAYS } from './cost/assumptions.js';
import { HOURS_PER_MONTH, PRICES } from './cost/prices.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const windowS = Number(arg('window-s') ?? DEFAULT_DVR_WINDOW_S);
const ladder = LADDERS[(arg('ladder') ?? 'full') as LadderPreset];
const HOUR_S = 3600;
const GB = 1e9;
const GIB = 1024 ** 3;

// A full window of DVR segments as the ingest lists them: one reconnect in it, realistic broadcast ids.
const targetMs = dvrSegmentTargetMs(windowS);
const window = new DvrWindow(windowS * 1000, targetMs);
const t0 = Date.parse('2026-12-01T08:00:00.000Z');
const count = Math.ceil((windowS * 1000) / targetMs) + 1;
let b = newBroadcastId(t0);
for (let i = 0, at = t0; i < count; i++, at += targetMs) {
  const reconnect = i === Math.floor(count / 2);
  if (reconnect) b = newBroadcastId(at);
  window.add({
    uri: dvrFiles.chunk(b, i),
    mapUri: dvrFiles.init(b, 1),
    durationS: targetMs / 1000 + (i % 7) * 0.001,
    startMs: at,
    discontinuity: reconnect,
  });
}
const text = window.render();
const plain = Buffer.byteLength(text);
const gzip = gzipSync(text).byteLength;
const brotli = brotliCompressSync(text).byteLength;
const master = Buffer.byteLength(
  renderDvrMultivariant(
    ladder.map((r) => ({
      rendition: r.name,
      bandwidth: (r.maxVideoKbps + r.audioKbps) * 1000,
      codecs: ['avc1.640028', 'mp4a.40.2'],
    })),
  ),
);

// A DVR viewer (hls.js, Shaka): a live playlist without parts is reloaded once per target duration (RFC 8216bis
// 6.3.4), and one segment is fetched per segment duration.
const segmentS = targetMs / 1000;
const reloadsPerHour = HOUR_S / segmentS;
const dvrRequests = 2 * reloadsPerHour;
const requestUsd = PRICES.cloudfront.httpsRequests.usd;
const egressUsdPerGb = PRICES.cloudfront.egressTiers.tiers[0]!.usd;
const playlistGbPerHour = (reloadsPerHour * gzip) / GB;
// A live LL-HLS viewer: one blocking playlist and one part request per part (docs/cost.md).
const partMs = PROFILE_TARGETS[DEFAULT_LATENCY_PROFILE].partMs;
const liveRequests = (2 * HOUR_S * 1000) / partMs;

// Keeping the window: every rung's media again as DVR segments, with the segments' lifecycle (whole days, rounded
// to the next midnight), a PUT per DVR segment and one per playlist rewrite, per rung.
const windowDays = Math.max(1, Math.ceil(windowS / 86_400));
const streamBytesPerHour = ladder.reduce((s, r) => s + ((r.videoKbps + r.audioKbps) * 1000 * HOUR_S) / 8, 0);
const storageUsd =
  (streamBytesPerHour / GIB) *
  (((windowDays + EXPIRY_ROUNDING_DAYS) * 24) / HOURS_PER_MONTH) *
  PRICES.s3.standardGbMonth.usd;
const putsPerHour = ladder.length * 2 * reloadsPerHour;
const putUsd = putsPerHour * PRICES.s3.put.usd;

const round = (v: number, d = 4) => Number(v.toFixed(d));
console.log(
  JSON.stringify(
    {
      windowS,
      dvrSegmentS: segmentS,
      playlist: {
        entries: window.length,
        bytes: plain,
        gzipBytes: gzip,
        brotliBytes: brotli,
        multivariantBytes: master,
      },
      perViewerHour: {
        dvr: {
          requests: dvrRequests,
          requestUsd: round(dvrRequests * requestUsd),
          playlistMB: round(playlistGbPerHour * 1000, 1),
          playlistEgressUsd: round(playlistGbPerHour * egressUsdPerGb),
        },
        liveLlHls: {
          partMs: round(partMs, 1),
          requests: liveRequests,
          requestUsd: round(liveRequests * requestUsd),
        },
      },
      perStreamHour: {
        ladder: ladder.map((r) => r.name),
        keptDays: `${windowDays} (+${EXPIRY_ROUNDING_DAYS} on average: expiry rounds to the next midnight UTC)`,
        gib: round(streamBytesPerHour / GIB, 3),
        storageUsd: round(storageUsd),
        puts: putsPerHour,
        putUsd: round(putUsd),
        totalUsd: round(storageUsd + putUsd),
      },
    },
    null,
    2,
  ),
);

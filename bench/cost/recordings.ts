import type { Rung } from '../../core/ladder.js';
import type { MediaConfig } from '../../infra/config.js';
import {
  EXPIRY_ROUNDING_DAYS,
  GIB,
  HOURS_PER_DAY,
  IT_ARCHIVE_INSTANT_AFTER_DAYS,
  IT_INFREQUENT_AFTER_DAYS,
  IT_MONITORED_MIN_BYTES,
  SECONDS_PER_HOUR,
} from './assumptions.js';
import type { CostLine } from './model.js';
import { HOURS_PER_MONTH, type Prices } from './prices.js';

const DAY_S = HOURS_PER_DAY * SECONDS_PER_HOUR;

/**
 * Keeping the top rung of every stream as a recording, one object per segment, under the bucket's lifecycle rule
 * (infra/constructs/media-storage): Standard until media.recordingTransitionDays, then Intelligent-Tiering (never
 * read again: frequent for 30 days, infrequent to 90, archive instant after), expired after recordingRetentionDays.
 * Priced per hour of steady state: storage of everything held, the PUT and the transition of what one hour adds,
 * and monitoring of the objects held in Intelligent-Tiering.
 */
export function recordingsPerHour(
  media: Pick<MediaConfig, 'recordingTransitionDays' | 'recordingRetentionDays'>,
  top: Rung,
  segmentMs: number,
  streams: number,
  prices: Prices,
): CostLine {
  const bytesPerS = (streams * (top.videoKbps + top.audioKbps) * 1000) / 8;
  const objectsPerS = (streams * 1000) / segmentMs;
  const lifeDays = media.recordingRetentionDays + EXPIRY_ROUNDING_DAYS;
  const transition = media.recordingTransitionDays;
  const held = (fromDay: number, toDay: number) => Math.max(0, Math.min(toDay, lifeDays) - fromDay) * DAY_S;
  const gbHeld = (fromDay: number, toDay: number) => (bytesPerS * held(fromDay, toDay)) / GIB;
  const infrequentFrom = transition + IT_INFREQUENT_AFTER_DAYS;
  const archiveFrom = transition + IT_ARCHIVE_INSTANT_AFTER_DAYS;
  const storageMonth =
    gbHeld(0, infrequentFrom) * prices.s3.standardGbMonth.usd +
    gbHeld(infrequentFrom, archiveFrom) * prices.s3.itInfrequentGbMonth.usd +
    gbHeld(archiveFrom, Number.POSITIVE_INFINITY) * prices.s3.itArchiveInstantGbMonth.usd;
  const monitored = bytesPerS / objectsPerS >= IT_MONITORED_MIN_BYTES; // one segment's bytes
  const monitoringMonth = monitored
    ? objectsPerS * held(transition, Number.POSITIVE_INFINITY) * prices.s3.itMonitoring.usd
    : 0;
  const perHourObjects = objectsPerS * SECONDS_PER_HOUR;
  const usdPerHour =
    (storageMonth + monitoringMonth) / HOURS_PER_MONTH +
    perHourObjects * (prices.s3.put.usd + prices.s3.lifecycleTransition.usd);
  return {
    key: 's3.recordings',
    usdPerHour,
    note: `${top.name} of every stream, ${media.recordingRetentionDays} days (Intelligent-Tiering after ${transition}); nothing writes recordings yet`,
  };
}

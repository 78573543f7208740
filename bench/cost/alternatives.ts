import type { Rung } from '../../core/ladder.js';
import { GIB, IVS_HD_MAX_HEIGHT, IVS_SD_MAX_HEIGHT, SECONDS_PER_HOUR } from './assumptions.js';
import type { TileView } from './audience.js';
import type { Prices } from './prices.js';

/** The same audience priced on a managed service. */
export interface Alternative {
  readonly key: 'ivs_low_latency' | 'ivs_real_time' | 'medialive_mediapackage_cloudfront';
  readonly usdPerHour: number;
  readonly usdPerViewerHour: number;
  readonly note: string;
}

export interface AlternativesInput {
  readonly ladder: readonly Rung[];
  /** One viewer's tiles (each is a separate playback on a managed service). */
  readonly tiles: readonly TileView[];
  readonly viewers: number;
  readonly streams: number;
  /** CloudFront media requests and egress per hour: the same players fetch the same bytes from any LL-HLS origin. */
  readonly cloudfrontPerHour: number;
  readonly prices: Prices;
}

type IvsClass = 'SD' | 'HD' | 'Full HD';

/** IVS bills a viewer-hour by the rendition played. */
export function ivsClassOf(rung: Rung): IvsClass {
  const height = rung.height ?? Number.POSITIVE_INFINITY;
  if (height <= IVS_SD_MAX_HEIGHT) return 'SD';
  return height <= IVS_HD_MAX_HEIGHT ? 'HD' : 'Full HD';
}

const isSd = (rung: Rung) => ivsClassOf(rung) === 'SD';
const rungBytesPerHour = (r: Rung) => (((r.videoKbps + r.audioKbps) * 1000) / 8) * SECONDS_PER_HOUR;

export function alternatives(input: AlternativesInput): Alternative[] {
  const { ladder, tiles, viewers, streams, prices } = input;
  const ivs = prices.ivs;
  const rate: Record<IvsClass, number> = {
    SD: ivs.lowLatencySdViewerHour.usd,
    HD: ivs.lowLatencyHdViewerHour.usd,
    'Full HD': ivs.lowLatencyFullHdViewerHour.usd,
  };
  const classes = tiles.map((t) => ivsClassOf(t.rung));
  const llOutput = viewers * classes.reduce((s, c) => s + rate[c], 0);
  const llInput = streams * ivs.lowLatencyInputStandardHourly.usd;
  const ll = llOutput + llInput;

  // Real-Time: each tile is a subscription to a stage (a participant-hour), plus one publisher per stream.
  const participants = viewers * tiles.length + streams;
  const rt = participants * ivs.realTimeParticipantHour.usd;

  const ml = prices.medialive;
  const medialive =
    streams *
    (ml.hdAvcInputHourly.usd +
      ladder.reduce((s, r) => s + (isSd(r) ? ml.sdAvcOutputHourly.usd : ml.hdAvcOutputHourly.usd), 0));
  const ingestGb = (streams * ladder.reduce((s, r) => s + rungBytesPerHour(r), 0)) / GIB;
  const watched = [...new Map(tiles.map((t) => [t.rung.name, t.rung])).values()];
  const originatedGb = (streams * watched.reduce((s, r) => s + rungBytesPerHour(r), 0)) / GIB; // behind a shield
  const mediapackage =
    ingestGb * prices.mediapackage.ingestGb.usd + originatedGb * prices.mediapackage.originationGb.usd;
  const managed = medialive + mediapackage + input.cloudfrontPerHour;

  return [
    {
      key: 'ivs_low_latency',
      usdPerHour: ll,
      usdPerViewerHour: ll / viewers,
      note: `${classes.join(' + ')} viewer-hours per viewer-hour, plus Standard input for ${streams} channels (2-5 s latency)`,
    },
    {
      key: 'ivs_real_time',
      usdPerHour: rt,
      usdPerViewerHour: rt / viewers,
      note: `${tiles.length} subscriber participant(s) per viewer plus ${streams} publishers (720p maximum, sub-300 ms)`,
    },
    {
      key: 'medialive_mediapackage_cloudfront',
      usdPerHour: managed,
      usdPerViewerHour: managed / viewers,
      note: `MediaLive $${medialive.toFixed(2)}/h (${ladder.length} outputs per channel), MediaPackage $${mediapackage.toFixed(2)}/h, CloudFront media as Mirror's $${input.cloudfrontPerHour.toFixed(2)}/h`,
    },
  ];
}

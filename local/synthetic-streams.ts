import { type SrtEndpoint, type StreamRegistry, srtUrls } from '../core/adapters/streams/registry.js';
import { type LadderPreset, smallestRung } from '../core/ladder.js';
import type { LatencyProfile } from '../core/latency-profiles.js';
import { encoderCommand, type RtpDestination, rtpUrl } from '../core/streams/rtp-sdp.js';
import type { StreamCredentials } from '../core/streams/schema.js';
import { DEFAULT_CLIP } from './encoders/args.js';
import { availableFont, ensureClip } from './encoders/clip.js';
import type { Feed, FeedFactory } from './encoders/feeds.js';
import type { Teardown } from './teardown.js';

export interface PlatformStream {
  readonly id: string;
  /** Fed by a synthetic encoder (false: waiting for the operator's own encoder). */
  readonly synthetic: boolean;
  readonly name: string;
  /** Carries the publish key and passphrase: print it to the operator, never log it. */
  readonly srtUrl: string;
  readonly rendition: string;
}

/** The RTP stream `npm start` creates for the operator's own RTP encoder (decision D46). */
export interface RtpExample {
  readonly id: string;
  /** `rtp://host:port` */
  readonly url: string;
  /** A ready ffmpeg command (MPEG-TS over SRTP): carries the SRTP key, print it to the operator, never log it. */
  readonly command: string;
}

/** One synthetic camera's own ladder or delivery profile, over the platform's. */
export interface StreamSpec {
  readonly ladder?: LadderPreset;
  readonly latencyProfile?: LatencyProfile;
}

export interface StreamsOptions {
  readonly registry: StreamRegistry;
  readonly srt: SrtEndpoint;
  /** The RTP listener; with ownStream, `studio-rtp` is created for it. */
  readonly rtp?: RtpDestination;
  readonly ladder: LadderPreset;
  readonly latencyProfile: LatencyProfile;
  /** Per synthetic camera, in order; cameras beyond the list take the platform's ladder and profile. */
  readonly specs: readonly StreamSpec[];
  /** Synthetic cameras to create (`cam-1`...), each with a feed. */
  readonly synthetic: number;
  /** Also create `studio`, without a feed, for the operator's own encoder. */
  readonly ownStream: boolean;
  /** Where the cameras' clips are made (once, then reused). */
  readonly clipsDir: string;
  readonly feeds: FeedFactory;
}

/**
 * Creates the streams `npm start` shows and starts a feed for each synthetic one; the teardown stops the
 * feeds. `feeds[i]` feeds `streams[i]` (the own stream, last, has none).
 */
export async function createStreams(
  options: StreamsOptions,
  teardown: Teardown,
): Promise<{ streams: PlatformStream[]; feeds: Feed[]; rtpExample?: RtpExample }> {
  const streams: PlatformStream[] = [];
  const feeds: Feed[] = [];
  teardown.add(() => Promise.all(feeds.map((feed) => feed.stop())));
  for (let i = 1; i <= options.synthetic; i++) {
    const stream = await register(options, `cam-${i}`, `Synthetic camera ${i}`, true, options.specs[i - 1]);
    streams.push(stream);
    const clip = await ensureClip(options.clipsDir, {
      ...DEFAULT_CLIP,
      label: stream.id,
      toneHz: 330 + 110 * i,
      fontFile: availableFont(),
    });
    const feed = options.feeds(stream.id, clip, stream.srtUrl);
    feeds.push(feed);
    teardown.trackFeed(feed);
    feed.start();
  }
  if (options.ownStream) streams.push(await register(options, 'studio', 'Your own encoder', false));
  const rtpExample = options.ownStream && options.rtp ? await registerRtp(options, options.rtp) : undefined;
  return { streams, feeds, ...(rtpExample ? { rtpExample } : {}) };
}

/** `studio-rtp`: MPEG-TS over RTP with SRTP, the simplest RTP setup an encoder offers. */
async function registerRtp(options: StreamsOptions, destination: RtpDestination): Promise<RtpExample> {
  const { record, credentials } = await options.registry.create({
    id: 'studio-rtp',
    name: 'Your own RTP encoder',
    ladder: options.ladder,
    latency: 'low',
    latencyProfile: options.latencyProfile,
    encrypted: true,
    keyLength: 16,
    protocol: 'rtp',
    rtp: { payload: 'mp2t' },
  });
  const srtpKey = credentials?.srtpKey ?? null;
  return {
    id: record.id,
    url: rtpUrl(destination),
    command: encoderCommand({ streamId: record.id, payload: 'mp2t', destination, srtpKey }),
  };
}

/** A low-latency encrypted stream on the platform's ladder, shown with the smallest rung (what a tile plays). */
async function register(
  options: StreamsOptions,
  id: string,
  name: string,
  synthetic: boolean,
  spec: StreamSpec = {},
): Promise<PlatformStream> {
  const ladder = spec.ladder ?? options.ladder;
  const { record, credentials } = await options.registry.create({
    id,
    name,
    ladder,
    latency: 'low',
    latencyProfile: spec.latencyProfile ?? options.latencyProfile,
    encrypted: true,
    keyLength: 16,
  });
  return {
    id: record.id,
    name: record.name,
    // A fresh id: create always issues credentials here (no clientToken, so never a replay).
    srtUrl: srtUrls({ ...record, ...(credentials as StreamCredentials) }, options.srt).url,
    rendition: smallestRung(ladder).name,
    synthetic,
  };
}

import type { RtpPayload } from './schema.js';

/**
 * What an RTP encoder is told to send (issue 15, decision D46): the SDP for elementary video + AAC, and a ready
 * ffmpeg command. Pure: the control API answers them once at create/rotate (they carry the SRTP key), `npm start`
 * prints the command.
 */

/** The one SRTP suite Mirror accepts (RFC 3711 default; what `ffmpeg -srtp_out_suite` names it). */
export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Dynamic payload types (RFC 3551 6: 96-127): video first, audio next, as ffmpeg's rtp muxer numbers them. */
export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 97;
/** RFC 2250: MPEG-TS over RTP has the static payload type 33. */
export const MP2T_PAYLOAD_TYPE = 33;
/** RFC 6184 / 7798: video RTP timestamps tick at 90 kHz. */
export const VIDEO_CLOCK_HZ = 90_000;
/** AAC at 48 kHz stereo: the rate the transcode ladder's audio is cut at, so the ingest resamples nothing. */
export const AUDIO_CLOCK_HZ = 48_000;
export const AUDIO_CHANNELS = 2;
/**
 * AudioSpecificConfig of AAC-LC, 48 kHz, 2 channels (ISO 14496-3 1.6.2.1): object type 2 (5 bits), sampling index
 * 3 (4 bits), channel configuration 2 (4 bits), 3 zero bits = 0b00010_0011_0010_000 = 0x1190.
 */
export const AAC_LC_48K_STEREO_CONFIG = '1190';

export interface RtpDestination {
  /** The ingest's public name (the same host as the SRT URL's). */
  readonly host: string;
  readonly port: number;
}

export interface EncoderSettings {
  readonly streamId: string;
  readonly payload: RtpPayload;
  readonly destination: RtpDestination;
  /** The SRTP master key+salt (base64, 30 bytes); null = plain RTP (the operator allowed it from listed sources). */
  readonly srtpKey: string | null;
}

/** One `m=` section: the port is explicit even where both media share one (the issue asks the SDP to say it). */
export interface SdpMedia {
  readonly kind: 'video' | 'audio';
  readonly port: number;
  readonly protocol: 'RTP/AVP' | 'RTP/SAVP';
  readonly payloadType: number;
  /** `a=rtpmap` encoding name/clock[/channels]. */
  readonly rtpmap: string;
  /** `a=fmtp` parameters, in order. */
  readonly fmtp: readonly (readonly [string, string])[];
  /** SDES key (RFC 4568): present only with SRTP. */
  readonly crypto?: { readonly tag: number; readonly suite: string; readonly key: string };
}

/** The SDP session model (RFC 8866): built first, rendered by renderSdp. */
export interface SessionDescription {
  readonly sessionName: string;
  /** Connection address: where the encoder sends to. */
  readonly host: string;
  readonly media: readonly SdpMedia[];
}

/** `IP6` for an IPv6 literal, `IP4` for an IPv4 literal or a DNS name (RFC 8866 5.7 allows an FQDN there). */
function addressType(host: string): 'IP4' | 'IP6' {
  return host.includes(':') ? 'IP6' : 'IP4';
}

/**
 * The SDP an encoder should use for elementary video (H.264 RFC 6184 / HEVC RFC 7798) and AAC (RFC 3640 AAC-hbr)
 * to Mirror, both media to the one RTP port (the ingest tells the two apart by SSRC and payload type). Undefined for
 * `mp2t`: MPEG-TS over RTP carries its own description (PAT/PMT), PT 33 is static, no SDP is needed.
 */
export function encoderSdp(settings: EncoderSettings): SessionDescription | undefined {
  if (settings.payload === 'mp2t') return undefined;
  const protocol = settings.srtpKey === null ? 'RTP/AVP' : 'RTP/SAVP';
  const crypto = settings.srtpKey === null ? undefined : { tag: 1, suite: SRTP_SUITE, key: settings.srtpKey };
  const port = settings.destination.port;
  const video: SdpMedia = {
    kind: 'video',
    port,
    protocol,
    payloadType: VIDEO_PAYLOAD_TYPE,
    rtpmap: `${settings.payload === 'h264' ? 'H264' : 'H265'}/${VIDEO_CLOCK_HZ}`,
    // Parameter sets travel in-band (before each IDR, as x264/x265 emit them without global headers): the ingest
    // joins at any keyframe, so none are pinned here. Mode 1 = non-interleaved (single NAL, STAP-A, FU-A).
    fmtp: settings.payload === 'h264' ? [['packetization-mode', '1']] : [],
    ...(crypto ? { crypto } : {}),
  };
  const audio: SdpMedia = {
    kind: 'audio',
    port,
    protocol,
    payloadType: AUDIO_PAYLOAD_TYPE,
    rtpmap: `mpeg4-generic/${AUDIO_CLOCK_HZ}/${AUDIO_CHANNELS}`,
    // RFC 3640 3.3.6 AAC-hbr: 13-bit AU size, 3-bit index and index delta in each AU header.
    fmtp: [
      ['profile-level-id', '1'],
      ['mode', 'AAC-hbr'],
      ['sizelength', '13'],
      ['indexlength', '3'],
      ['indexdeltalength', '3'],
      ['config', AAC_LC_48K_STEREO_CONFIG],
    ],
    ...(crypto ? { crypto } : {}),
  };
  return {
    sessionName: `Mirror ${settings.streamId}`,
    host: settings.destination.host,
    media: [video, audio],
  };
}

/** The SDP text (CRLF line ends, RFC 8866 5). */
export function renderSdp(sdp: SessionDescription): string {
  const type = addressType(sdp.host);
  const lines = [
    'v=0',
    `o=- 0 0 IN ${type} ${sdp.host}`,
    `s=${sdp.sessionName}`,
    `c=IN ${type} ${sdp.host}`,
    't=0 0',
  ];
  for (const m of sdp.media) {
    lines.push(
      `m=${m.kind} ${m.port} ${m.protocol} ${m.payloadType}`,
      `a=rtpmap:${m.payloadType} ${m.rtpmap}`,
    );
    if (m.fmtp.length > 0) {
      lines.push(`a=fmtp:${m.payloadType} ${m.fmtp.map(([k, v]) => `${k}=${v}`).join(';')}`);
    }
    if (m.crypto) lines.push(`a=crypto:${m.crypto.tag} ${m.crypto.suite} inline:${m.crypto.key}`);
    lines.push('a=sendonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The destination URL an encoder sends to: `rtp://host:port` (IPv6 literals bracketed). */
export function rtpUrl(destination: RtpDestination, scheme: 'rtp' | 'srtp' = 'rtp'): string {
  const host = destination.host.includes(':') ? `[${destination.host}]` : destination.host;
  return `${scheme}://${host}:${destination.port}`;
}

/** What the example encodes: a test pattern and a tone, as the SRT example does (local/run.ts). */
export const EXAMPLE_INPUT = [
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=1280x720:rate=30',
  '-f',
  'lavfi',
  '-i',
  `sine=sample_rate=${AUDIO_CLOCK_HZ}`,
] as const;

/**
 * Low-latency video with a keyframe each second and no B-frames (the ladder re-encodes anyway). x265 writes its
 * parameter sets only once unless told to repeat them: a receiver joining later (a task restart, a publish after
 * silence) would never decode, since the SDP issued before the encoder started carries no sprop sets.
 */
const videoEncode = (codec: 'libx264' | 'libx265') => [
  ...['-c:v', codec, '-preset', 'veryfast', '-tune', 'zerolatency'],
  ...['-g', '30', '-bf', '0'],
  ...(codec === 'libx265' ? ['-x265-params', 'repeat-headers=1'] : []),
];
const AUDIO_ENCODE = ['-c:a', 'aac', '-ar', String(AUDIO_CLOCK_HZ), '-ac', String(AUDIO_CHANNELS)];

/**
 * ffmpeg's output options and URL for one RTP output: SRTP through the `srtp://` protocol, whose
 * `-srtp_out_suite`/`-srtp_out_params` ffmpeg documents for exactly this (ffmpeg-protocols, srtp).
 */
function output(settings: EncoderSettings): string[] {
  if (settings.srtpKey === null) return [rtpUrl(settings.destination)];
  return [
    '-srtp_out_suite',
    SRTP_SUITE,
    '-srtp_out_params',
    settings.srtpKey,
    rtpUrl(settings.destination, 'srtp'),
  ];
}

/**
 * An ffmpeg argv (without `ffmpeg` itself) that sends `input` to the stream as the settings say: one
 * `-f rtp_mpegts` output for mp2t; one `-f rtp` output per medium (ffmpeg's rtp muxer takes one stream each) with
 * the SDP's payload types for h264/hevc.
 */
export function encoderArgs(settings: EncoderSettings, input: readonly string[] = EXAMPLE_INPUT): string[] {
  if (settings.payload === 'mp2t') {
    return [...input, ...videoEncode('libx264'), ...AUDIO_ENCODE, '-f', 'rtp_mpegts', ...output(settings)];
  }
  const video = videoEncode(settings.payload === 'h264' ? 'libx264' : 'libx265');
  // The example's tone is a second input; a single input (a file, a capture device) carries both media.
  const audioInput = input.filter((arg) => arg === '-i').length > 1 ? 1 : 0;
  return [
    ...input,
    ...[
      '-map',
      '0:v:0',
      ...video,
      '-f',
      'rtp',
      '-payload_type',
      String(VIDEO_PAYLOAD_TYPE),
      ...output(settings),
    ],
    ...[
      '-map',
      `${audioInput}:a:0`,
      ...AUDIO_ENCODE,
      '-f',
      'rtp',
      '-payload_type',
      String(AUDIO_PAYLOAD_TYPE),
    ],
    ...output(settings),
  ];
}

/** POSIX shell quoting for display: bare when safe, else single-quoted. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The argv as one shell line, `ffmpeg` first: what operators paste. */
export function encoderCommand(settings: EncoderSettings, input?: readonly string[]): string {
  return ['ffmpeg', ...encoderArgs(settings, input)].map(shellQuote).join(' ');
}

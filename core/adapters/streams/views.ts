import type { StreamCredentials, StreamRecord } from '../../streams/schema.js';

export interface SrtEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * SRT caller URLs for an encoder: the standard access-control streamid (`#!::r=<id>,m=publish,s=<key>`)
 * and the plain-key form that encoders without streamid syntax support send. Both carry secrets.
 */
export function srtUrls(
  record: Pick<StreamRecord, 'id' | 'keyLength'> & StreamCredentials,
  endpoint: SrtEndpoint,
): { url: string; plainKeyUrl: string } {
  // The query is left raw: ffmpeg 5.1 (Debian 12) passes srt:// options to libsrt without percent-decoding,
  // so an encoded streamid arrives as `%23%21...` and is refused; newer ffmpeg decodes, and raw text
  // decodes to itself. Safe because ids are slugs and generated secrets are base64url.
  const build = (streamid: string) => {
    const params = [`streamid=${streamid}`];
    if (record.passphrase !== null)
      params.push(`passphrase=${record.passphrase}`, `pbkeylen=${record.keyLength}`);
    return `srt://${endpoint.host}:${endpoint.port}?${params.join('&')}`;
  };
  return {
    url: build(`#!::r=${record.id},m=publish,s=${record.publishKey}`),
    plainKeyUrl: build(record.publishKey),
  };
}

/** The record without its secrets: what list and get return. */
export function publicView(record: StreamRecord) {
  return {
    ...record,
    paused: record.paused === true,
    record: record.record !== false,
    encrypted: record.encrypted === true,
    visibility: record.visibility ?? 'public',
    // Records written before RTP existed are SRT streams (decision D46).
    protocol: record.protocol ?? 'srt',
  };
}

/**
 * MPEG-TS over RTP (RFC 2250 §2): the payload is a whole number of 188-byte transport packets, each starting with
 * the sync byte. Pure.
 */

export const TS_PACKET_BYTES = 188;
const TS_SYNC_BYTE = 0x47;

export type Mp2tPayload = { ok: true; ts: Uint8Array } | { ok: false; reason: string };

/** The transport packets of an RTP payload; anything else is refused whole (no partial packet reaches the demuxer). */
export function mp2tPayload(payload: Uint8Array): Mp2tPayload {
  if (payload.length === 0 || payload.length % TS_PACKET_BYTES !== 0) {
    return { ok: false, reason: `payload of ${payload.length} bytes is not whole 188-byte TS packets` };
  }
  for (let at = 0; at < payload.length; at += TS_PACKET_BYTES) {
    if (payload[at] !== TS_SYNC_BYTE) return { ok: false, reason: `no TS sync byte at offset ${at}` };
  }
  return { ok: true, ts: payload };
}

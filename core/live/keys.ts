/** Redis keys for live playlist state (decision D5: everything under `mirror:live:`). Schema: docs/live-state.md. */
export const LIVE_PREFIX = 'mirror:live:';

export const liveKeys = {
  /** Hash per stream: field `r:{rendition}` holds that rendition's JSON state. Expires LIVE_TTL_S after the last publish. */
  stream: (streamId: string) => `${LIVE_PREFIX}stream:${streamId}`,
  /** Sorted set of stream ids scored by their last publish (epoch ms). */
  streams: `${LIVE_PREFIX}streams`,
  /** Pub/sub channel per stream: one message per publish, `{rendition} {msn} {part}`. */
  notify: (streamId: string) => `${LIVE_PREFIX}notify:${streamId}`,
  renditionField: (rendition: string) => `r:${rendition}`,
  /**
   * Hash per stream, WITHOUT expiry: field `{rendition}` holds the last media sequence and discontinuity numbers
   * published (`SequenceEnd` JSON), so a timeline started after the live state expired continues above both
   * (decision D24). One small field per rendition; removed with the stream.
   */
  sequences: (streamId: string) => `${LIVE_PREFIX}seq:${streamId}`,
};

export const RENDITION_FIELD_PREFIX = 'r:';

/** A stream's live state outlives its last publish by this long (seconds), then disappears (404). */
export const LIVE_TTL_S = 120;

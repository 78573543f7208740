import { describe, expect, it } from 'vitest';
import { rtpText, streamCells } from '../../web/src/operator/format.js';
import type { Stream } from '../../web/src/operator/model.js';

const RTP_LIVE: Stream = {
  id: 'gate',
  name: 'Gate camera',
  ladder: 'tile',
  latency: 'low',
  encrypted: true,
  viewers: 1,
  status: {
    state: 'live',
    protocol: 'rtp',
    rtp: { srtp: true, lost: 42, fractionLost: 0.0195, jitterMs: 3.26, reordered: 7, authFailures: 120 },
    renditions: ['360p'],
  },
};

describe('operator figures: RTP (decision D46)', () => {
  it("shows an RTP publisher's RFC 3550 figures in the link column, where an SRT one's RTT and loss go", () => {
    expect(streamCells(RTP_LIVE).srt).toBe(
      'RTP lost 42 (1.95 %) · jitter 3.3 ms · reordered 7 · auth failures 120',
    );
  });

  it('shows figures the ingest has not reported yet as dashes', () => {
    expect(rtpText({})).toBe('RTP lost – (–) · jitter – · reordered – · auth failures –');
  });
});

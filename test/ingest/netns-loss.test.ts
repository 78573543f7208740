import { describe, expect, it } from 'vitest';
import { runLossTrial, teardownNetns } from '../../containers/ingest/scripts/netns-loss.js';

// Network namespaces and nftables need root (CI runs as root); elsewhere run the script by hand.
const isRoot = process.getuid?.() === 0;

describe('SRT over a lossy link between network namespaces', () => {
  it.runIf(isRoot)(
    'delivers every frame over 5% loss each way and ~40 ms RTT (500 ms SRT latency)',
    async () => {
      try {
        const r = await runLossTrial({ seconds: 8, lossPercent: 5, rttMs: 40, latency: 'standard' });
        // The link really lost packets, and SRT recovered all of them in time.
        expect(r.dropCounters).toMatch(/packets [1-9]\d* /);
        expect(Number(r.srt?.retransmitted)).toBeGreaterThan(0);
        expect(r.srt?.dropped).toBe(0);
        expect(r.decodeErrors).toBe('');
        expect(r.videoFrames).toBeGreaterThan(8 * 30 * 0.8);
        expect(r.maxGapMs).toBeLessThan(50);
      } finally {
        teardownNetns();
      }
    },
    60_000,
  );
});

import { describe, expect, it } from 'vitest';
import {
  reportedBandwidthBps,
  sustainedBps,
  ThroughputEstimate,
  type TileDelivery,
} from '../../web/src/bandwidth.js';

const tile = (over: Partial<TileDelivery>): TileDelivery => ({
  bitrateBps: 450_000,
  playedS: 5,
  intervalS: 5,
  stalls: 0,
  ...over,
});

describe('ThroughputEstimate', () => {
  it('ignores loads too small to measure bandwidth and averages the rest', () => {
    const estimate = new ThroughputEstimate();
    estimate.sample(5_000, 1);
    expect(estimate.bps).toBe(0);
    estimate.sample(100_000, 100); // 8 Mbps
    expect(estimate.bps).toBe(8_000_000);
    estimate.sample(100_000, 400); // 2 Mbps
    expect(estimate.bps).toBeCloseTo(0.7 * 8_000_000 + 0.3 * 2_000_000);
  });
});

describe('the bandwidth a heartbeat reports', () => {
  it('is never below what the tiles played without a stall (the e2e wall: 593 kbps measured, two 400 kbps tiles)', () => {
    const tiles = [tile({}), tile({})];
    expect(reportedBandwidthBps(593_000, tiles, 5_000_000)).toBe(900_000);
  });

  it('is the measure when it is higher than what is played', () => {
    expect(reportedBandwidthBps(3_000_000, [tile({})], 5_000_000)).toBe(3_000_000);
  });

  it('drops a tile that stalled, played too little, or is paused from the floor', () => {
    const tiles = [
      tile({ stalls: 1 }),
      tile({ playedS: 1 }),
      tile({ bitrateBps: 0 }),
      tile({ bitrateBps: 700_000 }),
    ];
    expect(sustainedBps(tiles)).toBe(700_000);
    expect(reportedBandwidthBps(593_000, tiles, 5_000_000)).toBe(700_000);
  });

  it('counts a tile that started within the interval once it played two seconds', () => {
    expect(sustainedBps([tile({ playedS: 2.5, intervalS: 5 })])).toBe(450_000);
    expect(sustainedBps([tile({ playedS: 1.5, intervalS: 5 })])).toBe(0);
    expect(sustainedBps([tile({ playedS: 0.95, intervalS: 1 })])).toBe(450_000);
  });

  it('falls back before anything is measured', () => {
    expect(reportedBandwidthBps(0, [], 5_000_000)).toBe(5_000_000);
  });
});

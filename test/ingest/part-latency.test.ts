import { describe, expect, it } from 'vitest';
import {
  MAX_TRACKED_RENDITIONS,
  MAX_TRACKED_STREAMS,
  PART_LATENCY_FRESH_MS,
  PartLatencies,
} from '../../containers/ingest/src/service/part-latency.js';

const part = (streamId: string, rendition: string, arrivedAtMs: number, publishedAtMs: number) => ({
  streamId,
  rendition,
  msn: 1,
  part: 0,
  arrivedAtMs,
  publishedAtMs,
});

describe('the status latencyMs: part publish latency per stream', () => {
  it('is the highest fresh rendition figure, and nothing once every rendition went quiet', () => {
    let now = 10_000;
    const latencies = new PartLatencies(() => now);
    expect(latencies.latencyMs('cam')).toBeUndefined();
    latencies.record(part('cam', '720p', 1000, 1030));
    latencies.record(part('cam', '360p', 1000, 1080));
    latencies.record(part('other', '360p', 1000, 1500));
    expect(latencies.latencyMs('cam')).toBe(80);
    // The later part of a rendition replaces its figure.
    latencies.record(part('cam', '360p', 2000, 2010));
    expect(latencies.latencyMs('cam')).toBe(30);
    now += PART_LATENCY_FRESH_MS + 1;
    expect(latencies.latencyMs('cam')).toBeUndefined();
    latencies.record(part('cam', '360p', 3000, 3020));
    latencies.forget('cam');
    expect(latencies.latencyMs('cam')).toBeUndefined();
    expect(latencies.latencyMs('other')).toBeUndefined();
  });

  it('stays bounded in streams and renditions', () => {
    const latencies = new PartLatencies(() => 0);
    for (let i = 0; i <= MAX_TRACKED_STREAMS; i++) latencies.record(part(`s${i}`, 'r', 0, 5));
    expect(latencies.latencyMs('s0')).toBeUndefined(); // the oldest went
    expect(latencies.latencyMs(`s${MAX_TRACKED_STREAMS}`)).toBe(5);
    for (let i = 0; i <= MAX_TRACKED_RENDITIONS; i++) latencies.record(part('many', `r${i}`, 0, i));
    expect(latencies.latencyMs('many')).toBe(MAX_TRACKED_RENDITIONS - 1);
  });
});

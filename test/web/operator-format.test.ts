import { describe, expect, it } from 'vitest';
import { fmt, ingestTaskCells, streamCells, syncText } from '../../web/src/operator/format.js';
import type { Stream } from '../../web/src/operator/model.js';

const LIVE: Stream = {
  id: 'west',
  name: 'West stand',
  ladder: 'tile',
  latency: 'low',
  encrypted: true,
  viewers: 3,
  status: {
    state: 'live',
    taskId: 'task-1',
    input: { codec: 'h264', width: 1280, height: 720, fps: 30, bitrateKbps: 2512 },
    srt: { rttMs: 12, lossPercent: 0.5 },
    renditions: ['360p'],
    latencyMs: 1234,
  },
};

describe('operator figures', () => {
  it('shows a figure with its unit and digits, and an en dash when unknown', () => {
    expect(fmt(2.456, ' s', 2)).toBe('2.46 s');
    expect(fmt(30)).toBe('30');
    expect(fmt(undefined, ' ms')).toBe('–');
  });

  it('reads a live stream row in the units of its column (Mbps, ms / %, ms)', () => {
    expect(streamCells(LIVE)).toEqual({
      details: 'west · tile · low',
      input: 'h264 1280×720 @30',
      sync: '–',
      bitrate: '2.5 Mbps',
      srt: '12 ms / 0.50 %',
      latency: '1234 ms',
      viewers: '3',
      task: 'task-1',
    });
  });

  it('shows an idle stream without input as dashes, with unknown dimensions as ?', () => {
    const idle: Stream = { ...LIVE, viewers: 0, status: { state: 'idle', renditions: [] } };
    expect(streamCells(idle)).toMatchObject({
      input: '–',
      bitrate: '–',
      srt: '– / –',
      latency: '–',
      task: '–',
    });
    const partial: Stream = { ...LIVE, status: { ...LIVE.status, input: { codec: 'hevc' } } };
    expect(streamCells(partial).input).toBe('hevc ?×? @–');
  });

  it('shows the input A/V and GOP figures on one line, dashes for those not measured yet (D42)', () => {
    const stats = {
      avOffsetMs: 12.4,
      avDriftMsPerMin: -0.25,
      startOffsetMs: 0,
      gop: { frames: 30, ms: 1000, minFrames: 29, maxFrames: 31, stddevFrames: 0.5 },
      bFrames: true,
      fps: 30,
      frameIntervalJitterMs: 0.3,
      continuityErrors: 2,
      queuePercent: 0.1,
    };
    expect(syncText(stats)).toBe(
      'A/V +12 ms (-0.3 ms/min) · GOP 30f 1000 ms (29–31) · B-frames · jitter 0.3 ms · CC 2 · queue 0.1 %',
    );
    const early = { ...stats, avOffsetMs: null, avDriftMsPerMin: null, gop: null, bFrames: false };
    expect(syncText(early)).toBe('A/V – (–) · GOP – · no B · jitter 0.3 ms · CC 2 · queue 0.1 %');
  });

  it('lists an ingest task as task, streams, capacity, CPU and GPU', () => {
    expect(ingestTaskCells({ taskId: 't', streams: 4, capacity: 15, cpuPercent: 37, gpu: true })).toEqual([
      't',
      '4',
      '15',
      '37 %',
      'yes',
    ]);
    expect(ingestTaskCells({ taskId: 't' })).toEqual(['t', '–', '–', '–', 'no']);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArrivalClock, MAX_LEAD_MS, pesPts } from '../../containers/ingest/src/transcode/arrival-clock.js';
import { makeClip } from './media.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const CHUNK = 1316; // what SRT delivers: 7 TS packets

let ts: Buffer;
/** Each chunk with the latest PTS (ms from the clip's first PTS) that starts in it, or the previous one. */
let chunks: { bytes: Buffer; mediaMs: number }[];
let firstPts: number;

beforeAll(() => {
  ts = readFileSync(makeClip({ codec: 'h264', width: 320, height: 180, seconds: 3 }));
  const ptsList: number[] = [];
  for (let i = 0; i + 188 <= ts.length; i += 188) {
    const pts = pesPts(ts.subarray(i, i + 188));
    if (pts !== undefined) ptsList.push(pts);
  }
  firstPts = Math.min(...ptsList);
  chunks = [];
  let mediaMs = 0;
  for (let i = 0; i < ts.length; i += CHUNK) {
    const bytes = ts.subarray(i, i + CHUNK);
    for (let p = 0; p + 188 <= bytes.length; p += 188) {
      const pts = pesPts(bytes.subarray(p, p + 188));
      if (pts !== undefined) mediaMs = Math.max(mediaMs, (pts - firstPts) / 90);
    }
    chunks.push({ bytes, mediaMs });
  }
});

describe('pesPts', () => {
  it('reads the PTS ffprobe reports for the first video and audio packets', () => {
    // csv prints `128090,` (a side-data column follows): the number before the comma.
    const probe = (stream: string) =>
      Number.parseInt(
        spawnSync(
          'ffprobe',
          [
            '-v',
            'error',
            '-select_streams',
            stream,
            '-show_entries',
            'packet=pts',
            '-read_intervals',
            '%+#1',
            '-of',
            'csv=p=0',
            '-',
          ],
          { input: ts },
        ).stdout.toString(),
        10,
      );
    const seen = new Set<number>();
    for (let i = 0; i + 188 <= ts.length; i += 188) {
      const pts = pesPts(ts.subarray(i, i + 188));
      if (pts !== undefined) seen.add(pts);
    }
    expect(seen).toContain(probe('v:0'));
    expect(seen).toContain(probe('a:0'));
  });

  it('ignores packets that start no PES', () => {
    expect(pesPts(ts.subarray(0, 188))).toBeUndefined(); // the PAT
    expect(pesPts(new Uint8Array(188))).toBeUndefined();
  });
});

describe('ArrivalClock', () => {
  it('is the wall clock of the first media for a sender in real time, whatever its jitter', () => {
    const clock = new ArrivalClock();
    chunks.forEach(({ bytes, mediaMs }, i) => {
      clock.observe(bytes, T0 + mediaMs + 5 + ((i * 37) % 40));
    });
    expect(clock.anchorMs()).toBe(T0 + 5);
  });

  it('looks through a start-up burst: the first 300 ms held by the encoder and sent at once', () => {
    const clock = new ArrivalClock();
    for (const { bytes, mediaMs } of chunks) clock.observe(bytes, T0 + Math.max(300, mediaMs));
    expect(clock.anchorMs()).toBe(T0);
    // Anchoring at the first bytes, as before, put media time zero 300 ms late (PDT ahead of the wall clock).
  });

  it('never puts media time zero more than MAX_LEAD_MS before the first bytes (a sender faster than real time)', () => {
    const clock = new ArrivalClock();
    for (const { bytes } of chunks) clock.observe(bytes, T0);
    expect(clock.anchorMs()).toBe(T0 - MAX_LEAD_MS);
  });

  it('takes samples only in its window, and is undefined before any PTS', () => {
    const clock = new ArrivalClock();
    expect(clock.anchorMs()).toBeUndefined();
    clock.observe(ts.subarray(0, 188), T0); // a PAT: first bytes, no PTS
    expect(clock.anchorMs()).toBeUndefined();
    for (const { bytes, mediaMs } of chunks) clock.observe(bytes, T0 + 10 + mediaMs);
    const anchor = clock.anchorMs();
    // A late packet far outside the window (after a network stall) changes nothing.
    const late = new ArrivalClock();
    late.observe(ts.subarray(0, 188), T0);
    for (const { bytes, mediaMs } of chunks) late.observe(bytes, T0 + 10 + mediaMs);
    late.observe(chunks[0]!.bytes, T0 + 60_000);
    expect(late.anchorMs()).toBe(anchor);
  });
});

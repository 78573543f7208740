/**
 * Playlist renders per second on one core: the manifest function's hot path after its Redis read
 * (JSON.parse of the stream hash, build the model, render), for a 20-segment window with a sibling rendition.
 * Run: npx tsx bench/playlist-render.ts
 */
import {
  buildMediaPlaylist,
  buildMultivariantPlaylist,
  renderMediaPlaylist,
  renderMultivariantPlaylist,
  Segmenter,
} from '../core/hls/index.js';
import { parseRenditionState, RENDITION_STATE_VERSION, type RenditionState } from '../core/live/index.js';

function state(parts: number): RenditionState {
  const s = new Segmenter({
    partTargetMs: 100,
    segmentTargetMs: 500,
    windowSegments: 20,
    broadcast: 'bench0000001',
  });
  for (let i = 0; i < parts; i++) {
    s.addPart(
      {
        baseDecodeTime: i * 9000,
        duration: 9000,
        timescale: 90_000,
        independent: i % 5 === 0,
        bytes: 5000,
        initVersion: 1,
      },
      Date.now() + i * 100,
    );
  }
  return {
    v: RENDITION_STATE_VERSION,
    info: { codecs: ['avc1.64001f', 'mp4a.40.2'], width: 1280, height: 720, frameRate: 30 },
    timeline: s.timeline(),
    publishedAtMs: Date.now(),
  };
}

const hash = { 'r:720p': JSON.stringify(state(123)), 'r:360p': JSON.stringify(state(121)) };

function run(label: string, body: () => string): void {
  let bytes = 0;
  for (let i = 0; i < 2000; i++) bytes += body().length; // warm up
  const iterations = 50_000;
  const started = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) bytes += body().length;
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(started);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${label.padEnd(44)} ${Math.round(iterations / cpuS)
      .toLocaleString('en-US')
      .padStart(9)} renders/s per core ` +
      `(${((cpuS / iterations) * 1e6).toFixed(1)} µs CPU each, wall ${wallS.toFixed(2)} s, ${Math.round(bytes / (iterations + 2000))} bytes)`,
  );
}

run('media playlist (parse state + build + render)', () => {
  const mine = parseRenditionState(hash['r:720p'])!;
  const sibling = parseRenditionState(hash['r:360p'])!;
  return renderMediaPlaylist(
    buildMediaPlaylist(mine.timeline, { siblings: [{ name: '360p', timeline: sibling.timeline }] }),
  );
});
run('delta update (_HLS_skip=YES)', () => {
  const mine = parseRenditionState(hash['r:720p'])!;
  const sibling = parseRenditionState(hash['r:360p'])!;
  return renderMediaPlaylist(
    buildMediaPlaylist(mine.timeline, {
      skip: true,
      siblings: [{ name: '360p', timeline: sibling.timeline }],
    }),
  );
});
run('multivariant playlist', () => {
  const renditions = Object.entries(hash).map(([field, json]) => {
    const s = parseRenditionState(json)!;
    return { name: field.slice(2), info: s.info, timeline: s.timeline };
  });
  return renderMultivariantPlaylist(buildMultivariantPlaylist(renditions));
});

import { EPHEMERAL_PORTS, type Platform, startPlatform } from '../local/platform.js';

export type Feed = 'srt' | 'direct';

/** `--feed direct` runs ffmpeg straight into the packager; anything else pushes over SRT, as an encoder does. */
export const feedOf = (value: string | undefined): Feed => (value === 'direct' ? 'direct' : 'srt');

/** One synthetic stream on the tile ladder, software-encoded, on free ports: what the edge benchmarks measure. */
export function startBenchPlatform(dataDir: string, feed: Feed): Promise<Platform> {
  return startPlatform({ streams: 1, ladder: 'tile', gpu: 'off', ...EPHEMERAL_PORTS, dataDir, feed });
}

/** Polls every 500 ms until `ready` holds; throws `failure` after `timeoutMs`. */
export async function waitUntil(
  failure: string,
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const answersOk = async (url: string): Promise<boolean> => (await fetch(url)).status === 200;

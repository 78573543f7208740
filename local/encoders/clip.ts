import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { type ClipProfile, clipArgs } from './args.js';

/** Debian's fonts-dejavu-core; drawtext is skipped when it is absent. */
export const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';

export function availableFont(): string | undefined {
  return existsSync(DEFAULT_FONT) ? DEFAULT_FONT : undefined;
}

/** Bumped when clipArgs changes what the file holds, so a clip cached by an earlier version is made again. */
const CLIP_FORMAT = 2;

/** Makes the clip once per profile into dir (cached by the profile's hash) and returns its path. */
export async function ensureClip(dir: string, profile: ClipProfile): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...profile, format: CLIP_FORMAT }))
    .digest('hex')
    .slice(0, 12);
  const file = join(dir, `clip-${hash}.ts`);
  if (existsSync(file)) return file;
  const partial = `${file}.partial`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ffmpeg', clipArgs(profile, partial), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', (error) =>
      reject(new Error(`ffmpeg could not start: ${error.message}. Fix: apt-get install -y ffmpeg`)),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`ffmpeg could not make the test clip (exit ${code}): ${stderr.trim()}`)),
    );
  });
  renameSync(partial, file);
  return file;
}

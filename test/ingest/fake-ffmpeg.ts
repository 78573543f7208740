import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stand-in ffmpeg: a shell script, run with the stdio the supervisor gives ffmpeg. Returns its path. */
export function fakeFfmpeg(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-fake-ffmpeg-'));
  const file = join(dir, 'ffmpeg');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

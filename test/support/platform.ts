import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPHEMERAL_PORTS, type Platform, type PlatformOptions, startPlatform } from '../../local/platform.js';

export interface TempPlatform {
  readonly platform: Platform;
  /** Stops the platform, then removes its data directory. */
  stop(): Promise<void>;
}

/** The whole local platform on free ports, its data (media, logs, web build) in a fresh temporary directory. */
export async function startTempPlatform(
  name: string,
  options: Omit<Partial<PlatformOptions>, 'dataDir' | keyof typeof EPHEMERAL_PORTS>,
): Promise<TempPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), `mirror-${name}-`));
  const platform = await startPlatform({ ...options, ...EPHEMERAL_PORTS, dataDir });
  return {
    platform,
    async stop() {
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

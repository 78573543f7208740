import type { SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LadderPreset } from '../core/ladder.js';
import { freeTcpPort } from './ports.js';
import { type Managed, startManaged } from './processes.js';
import { ROOT } from './root.js';
import type { Teardown } from './teardown.js';

export interface IngestChildOptions {
  readonly redisUrl: string;
  readonly mediaDir: string;
  readonly srtPort: number;
  readonly ladder: LadderPreset;
  readonly gpu: 'auto' | 'off';
  readonly partTargetMs: number;
  readonly segmentTargetMs: number;
  /** Where `ingest.log` goes (unless the logs are inherited). */
  readonly dataDir: string;
  readonly log?: 'inherit' | 'file';
}

/** How long the ingest service may take to answer on its health endpoint. */
const HEALTH_TIMEOUT_MS = 30_000;

/**
 * Starts the ingest service as a child process and resolves once its health endpoint answers; the
 * teardown stops it (with time to drain).
 */
export async function startIngestChild(options: IngestChildOptions, teardown: Teardown): Promise<void> {
  const healthPort = await freeTcpPort();
  const logFile = join(options.dataDir, 'ingest.log');
  const ingest = spawnIngest(options, healthPort, logFile);
  teardown.manage(ingest, 8000);
  await waitForHealth(ingest, healthPort, logFile);
}

/**
 * The ingest service exactly as the container runs it (`main.ts`), configured by its MIRROR_* variables:
 * local-disk storage, this redis-server, the chosen ladder and GPU mode.
 */
function spawnIngest(options: IngestChildOptions, healthPort: number, logFile: string): Managed {
  const stdio: SpawnOptions['stdio'] =
    options.log === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
  const ingest = startManaged(
    'ingest',
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'containers', 'ingest', 'src', 'main.ts')],
    {
      cwd: ROOT,
      stdio,
      env: {
        ...process.env,
        MIRROR_REDIS_URL: options.redisUrl,
        MIRROR_SRT_PORT: String(options.srtPort),
        MIRROR_HEALTH_PORT: String(healthPort),
        MIRROR_GPU: options.gpu,
        MIRROR_LADDER: options.ladder,
        MIRROR_PART_TARGET_MS: String(options.partTargetMs),
        MIRROR_SEGMENT_TARGET_MS: String(options.segmentTargetMs),
        MIRROR_STORAGE: 'local',
        MIRROR_MEDIA_DIR: options.mediaDir,
        MIRROR_TASK_ID: 'local',
        MIRROR_STAGE: 'local',
        MIRROR_METRICS: 'off',
        MIRROR_DRAIN_S: '5',
      },
    },
  );
  if (options.log !== 'inherit') {
    const out = createWriteStream(logFile, { flags: 'w' });
    ingest.child.stdout?.pipe(out);
    ingest.child.stderr?.pipe(out);
  }
  return ingest;
}

/** Waits for the ingest health endpoint, failing early (with the log's tail) if the process died. */
async function waitForHealth(ingest: Managed, healthPort: number, logFile: string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (ingest.child.exitCode !== null) {
      const tail = existsSync(logFile)
        ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')
        : '';
      throw new Error(`the ingest service exited (code ${ingest.child.exitCode}): ${tail}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${healthPort}/health`);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`the ingest service did not answer on :${healthPort}/health within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

import type { SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LadderPreset } from '../core/ladder.js';
import { DEFAULT_RECORDING_RETENTION_DAYS } from '../core/recordings/entry.js';
import { freeTcpPort } from './ports.js';
import { type ChildExit, type Managed, signalAndWait, startManaged } from './processes.js';
import { localSecretsKeyFile } from './redis.js';
import { ROOT } from './root.js';
import type { Teardown } from './teardown.js';

/** Where the ingest service stores media: the local directory, or an S3 endpoint (s3rver). */
export type IngestStorage =
  | { readonly kind: 'local'; readonly mediaDir: string }
  | { readonly kind: 's3'; readonly endpoint: string; readonly bucket: string };

export interface IngestChildOptions {
  readonly redisUrl: string;
  readonly storage: IngestStorage;
  readonly srtPort: number;
  /** MIRROR_RTP_PORT: the RTP listener (decision D46). */
  readonly rtpPort: number;
  readonly ladder: LadderPreset;
  readonly gpu: 'auto' | 'off';
  /** Where `ingest.log` goes (unless the logs are inherited). */
  readonly dataDir: string;
  readonly log?: 'inherit' | 'file';
  /** MIRROR_LIVE_TTL_S: how long live state outlives its last publish (default: the service's own, 120 s). */
  readonly liveTtlS?: number;
}

/** How long the ingest service may take to answer on its health endpoint. */
const HEALTH_TIMEOUT_MS = 30_000;
/** SIGTERM to SIGKILL when the platform stops: MIRROR_DRAIN_S (5) plus time to exit. */
const STOP_GRACE_MS = 8000;

/** The ingest service's process: the platform's and the fault suite's handle on it (an ECS task, locally). */
export interface IngestHandle {
  /** The running process's pid; undefined between a kill and the next start(). */
  readonly pid: number | undefined;
  /** Starts of the process so far (1 after the platform started). */
  readonly starts: number;
  /**
   * Sends `signal` and resolves with how the process ended once it has: SIGKILL is a crash (no drain), SIGTERM is
   * what ECS sends before replacing a task (the service drains, up to MIRROR_DRAIN_S).
   */
  signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<ChildExit>;
  /** Starts the service again, as ECS starts a replacement task, and resolves once its health endpoint answers. */
  start(): Promise<void>;
}

/**
 * Starts the ingest service as a child process and resolves once its health endpoint answers; the
 * teardown stops whichever process runs then (with time to drain).
 */
export async function startIngestChild(
  options: IngestChildOptions,
  teardown: Teardown,
): Promise<IngestHandle> {
  const logFile = join(options.dataDir, 'ingest.log');
  let current: Managed | undefined;
  let starts = 0;
  teardown.trackPid(() => current?.child.pid);
  teardown.add(() => current?.stop(STOP_GRACE_MS));
  const start = async () => {
    if (current !== undefined && current.child.exitCode === null && current.child.signalCode === null) return;
    const healthPort = await freeTcpPort();
    // Appended after the first start, so the log of a killed process stays readable next to its successor's.
    current = spawnIngest(options, healthPort, logFile, starts === 0 ? 'w' : 'a');
    starts++;
    await waitForHealth(current, healthPort, logFile);
  };
  await start();
  return {
    get pid() {
      return current?.child.pid;
    },
    get starts() {
      return starts;
    },
    async signal(signal) {
      const child = current?.child;
      if (child === undefined) return { code: null, signal: null };
      const exit = await signalAndWait(child, signal);
      current = undefined;
      return exit;
    },
    start,
  };
}

/** The storage variables of the ingest's env contract (StorageEnv) for the chosen storage. */
function storageEnv(storage: IngestStorage): Record<string, string> {
  if (storage.kind === 'local') return { MIRROR_STORAGE: 'local', MIRROR_MEDIA_DIR: storage.mediaDir };
  return {
    MIRROR_STORAGE: 's3',
    MIRROR_BUCKET: storage.bucket,
    MIRROR_S3_ENDPOINT: storage.endpoint,
    // s3rver accepts any signature; the SDK's default chain reads these before trying instance metadata.
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * The ingest service exactly as the container runs it (`main.ts`), configured by its MIRROR_* variables:
 * the chosen storage, this redis-server, the chosen ladder and GPU mode.
 */
function spawnIngest(
  options: IngestChildOptions,
  healthPort: number,
  logFile: string,
  logFlags: 'w' | 'a',
): Managed {
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
        // The key file that opens the streams' sealed passphrases (KMS Decrypt on AWS, D38).
        MIRROR_SECRETS_KEY_FILE: localSecretsKeyFile(options.dataDir),
        MIRROR_SRT_PORT: String(options.srtPort),
        MIRROR_RTP_PORT: String(options.rtpPort),
        MIRROR_HEALTH_PORT: String(healthPort),
        MIRROR_GPU: options.gpu,
        MIRROR_LADDER: options.ladder,
        ...storageEnv(options.storage),
        MIRROR_TASK_ID: 'local',
        MIRROR_STAGE: 'local',
        MIRROR_METRICS: 'off',
        MIRROR_DRAIN_S: '5',
        // As the stage sets it on AWS; locally nothing expires media, the index entries still expire.
        MIRROR_RECORDING_RETENTION_DAYS: String(DEFAULT_RECORDING_RETENTION_DAYS),
        ...(options.liveTtlS === undefined ? {} : { MIRROR_LIVE_TTL_S: String(options.liveTtlS) }),
      },
    },
  );
  if (options.log !== 'inherit') {
    const out = createWriteStream(logFile, { flags: logFlags });
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

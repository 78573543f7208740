import { hostname } from 'node:os';
import type { IngestEnv } from '../../../core/contracts/env.js';

/** Every variable the ingest container reads: the contract the Ingest construct binds (decision D6). */
export { IngestEnv } from '../../../core/contracts/env.js';

/** Software transcodes per task when there is no GPU budget to go by (2 tile rungs per core, roughly). */
const DEFAULT_SOFTWARE_CAPACITY = 4;

export function capacityOf(env: IngestEnv): number {
  if (env.MIRROR_CAPACITY > 0) return env.MIRROR_CAPACITY;
  if (env.MIRROR_NVENC_SESSIONS_PER_GPU > 0) return env.MIRROR_NVENC_SESSIONS_PER_GPU;
  return DEFAULT_SOFTWARE_CAPACITY;
}

export function validateEnv(env: IngestEnv): void {
  if (env.MIRROR_STORAGE === 's3' && !env.MIRROR_BUCKET) {
    throw new Error('environment variable MIRROR_BUCKET: required when MIRROR_STORAGE=s3');
  }
}

/** The ECS task id (from the task metadata endpoint) when running on ECS, else the host name. */
export async function resolveTaskId(
  env: IngestEnv,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (env.MIRROR_TASK_ID) return env.MIRROR_TASK_ID;
  const metadata = processEnv.ECS_CONTAINER_METADATA_URI_V4;
  if (metadata) {
    try {
      const task = (await (await fetch(`${metadata}/task`)).json()) as { TaskARN?: string };
      const id = task.TaskARN?.split('/').at(-1);
      if (id) return id;
    } catch {
      // fall through to the host name
    }
  }
  return hostname();
}

import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_LADDER, LadderPreset } from '../../../core/ladder.js';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/** Every MIRROR_* variable the ingest container reads, validated once at start (decision D6). */
export const IngestEnv = z.object({
  MIRROR_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  MIRROR_REDIS_AUTH_SECRET_ARN: z.string().startsWith('arn:').optional(),
  /** Injected by ECS from the same secret; preferred over the ARN (no Secrets Manager call). */
  MIRROR_REDIS_AUTH_TOKEN: z.string().min(1).optional(),
  MIRROR_SRT_PORT: int(9000, 1),
  MIRROR_HEALTH_PORT: int(8081, 0),
  MIRROR_GPU: z.enum(['auto', 'required', 'off']).default('auto'),
  MIRROR_LADDER: LadderPreset.default(DEFAULT_LADDER),
  MIRROR_PART_TARGET_MS: int(100, 20),
  MIRROR_SEGMENT_TARGET_MS: int(500, 100),
  MIRROR_WINDOW_SEGMENTS: int(20, 3),
  MIRROR_STORAGE: z.enum(['local', 's3']).default('local'),
  MIRROR_MEDIA_DIR: z.string().default('.mirror/media'),
  MIRROR_BUCKET: z.string().optional(),
  MIRROR_S3_ENDPOINT: z.url().optional(),
  MIRROR_TASK_ID: z
    .string()
    .regex(/^[\w.:-]{1,128}$/, 'letters, digits, . _ : - only')
    .optional(),
  /** Streams per task; on GPU hosts the NVENC session budget. */
  MIRROR_NVENC_SESSIONS_PER_GPU: int(0, 0),
  MIRROR_CAPACITY: int(0, 0),
  MIRROR_SRT_LATENCY_MS: int(120, 20),
  MIRROR_MAX_BUFFER_MB: int(400, 1),
  MIRROR_RECONNECT_GRACE_MS: int(10_000, 0),
  MIRROR_DRAIN_S: int(30, 1),
  MIRROR_STAGE: z.string().default('local'),
  MIRROR_METRICS: z.enum(['emf', 'off']).default('emf'),
  /** Seconds between nvidia-smi samples for the GPU metrics (GPU path only); 0 turns sampling off. */
  MIRROR_GPU_SAMPLE_S: int(10, 0),
});
export type IngestEnv = z.infer<typeof IngestEnv>;

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
  if (env.MIRROR_SEGMENT_TARGET_MS % env.MIRROR_PART_TARGET_MS !== 0) {
    throw new Error(
      'environment variable MIRROR_SEGMENT_TARGET_MS: must be a multiple of MIRROR_PART_TARGET_MS',
    );
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

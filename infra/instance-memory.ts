/**
 * Memory of the GPU container instances, for the ingest container's hard limit (core/contracts/ingest-memory.ts):
 * how much of an instance one ingest task may use. Pure data and arithmetic; config.ts validates with it and the
 * Ingest construct sets the limits from it.
 */

import { type IngestMemoryPlan, planIngestMemory } from '../core/contracts/ingest-memory.js';

/** g5 (NVIDIA A10G) and g6 (NVIDIA L4) come in the same sizes with the same memory and GPU counts. */
const G5_G6_SIZES = {
  xlarge: [16, 1],
  '2xlarge': [32, 1],
  '4xlarge': [64, 1],
  '8xlarge': [128, 1],
  '12xlarge': [192, 4],
  '16xlarge': [256, 1],
  '24xlarge': [384, 4],
  '48xlarge': [768, 8],
} as const;

/** Installed memory (GiB) and GPUs of each size of the NVENC families config.ts accepts. */
const INSTANCE_SIZES: Readonly<
  Record<string, Readonly<Record<string, readonly [gib: number, gpus: number]>>>
> = {
  // NVIDIA T4
  g4dn: {
    xlarge: [16, 1],
    '2xlarge': [32, 1],
    '4xlarge': [64, 1],
    '8xlarge': [128, 1],
    '12xlarge': [192, 4],
    '16xlarge': [256, 1],
    metal: [384, 8],
  },
  g5: G5_G6_SIZES,
  g6: G5_G6_SIZES,
  // NVIDIA L40S: twice the memory of g5/g6 at each size
  g6e: Object.fromEntries(Object.entries(G5_G6_SIZES).map(([size, [gib, gpus]]) => [size, [2 * gib, gpus]])),
};

/**
 * Share of installed memory the ECS agent never registers (kernel, firmware, platform). AWS's example: an m4.large
 * with 8192 MiB installed registers 7985 MiB (2.5 %); 3 % rounds it up.
 */
export const UNREGISTERED_FRACTION = 0.03;
/**
 * ECS_RESERVED_MEMORY written into the container instances' agent configuration: kept from tasks for the ECS agent,
 * Docker, the NVIDIA container runtime and the SSM agent (AWS suggests about 5 %; 1 GiB is 6 % of a 16 GiB g4dn.xlarge).
 */
export const ECS_RESERVED_MEMORY_MIB = 1024;

export interface InstanceMemory {
  readonly installedMiB: number;
  readonly gpus: number;
}

/** Installed memory and GPU count of an NVENC instance type; undefined for a size the table does not know. */
export function instanceMemory(instanceType: string): InstanceMemory | undefined {
  const [family, size] = instanceType.split('.');
  const entry = INSTANCE_SIZES[family ?? '']?.[size ?? ''];
  return entry === undefined ? undefined : { installedMiB: entry[0] * 1024, gpus: entry[1] };
}

/** Known sizes of a family, for error messages. */
export function knownSizes(family: string): string[] {
  return Object.keys(INSTANCE_SIZES[family] ?? {});
}

/**
 * What one ingest task may use on an instance: the memory the agent registers, minus ECS_RESERVED_MEMORY_MIB,
 * shared by the tasks the instance runs (one per GPU, each task takes one GPU).
 */
export function taskMemoryCeilingMiB(instance: InstanceMemory): number {
  const registered = Math.floor(instance.installedMiB * (1 - UNREGISTERED_FRACTION));
  return Math.floor((registered - ECS_RESERVED_MEMORY_MIB) / instance.gpus);
}

/**
 * The ingest container's limits on an instance type for `streams` streams per task (core/contracts/ingest-memory.ts
 * does the per-stream arithmetic). Throws when the type is unknown or the streams do not fit; config.ts reports
 * both as validation errors before any construct runs.
 */
export function ingestMemoryFor(
  instanceType: string,
  streams: number,
): IngestMemoryPlan & { ceilingMiB: number } {
  const instance = instanceMemory(instanceType);
  if (instance === undefined) throw new Error(`no memory figures for instance type ${instanceType}`);
  const ceilingMiB = taskMemoryCeilingMiB(instance);
  return { ...planIngestMemory(streams, ceilingMiB), ceilingMiB };
}

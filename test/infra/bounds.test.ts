import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INPUT_BUFFER_MIB,
  FFMPEG_WORKING_SET_MIB,
  MIN_INPUT_BUFFER_MIB,
  PROCESS_BASE_MIB,
  planIngestMemory,
  STREAM_OVERHEAD_MIB,
} from '../../core/contracts/ingest-memory.js';
import {
  ConfigError,
  loadStageConfig,
  manifestConcurrencyAtCapacity,
  NVENC_FAMILIES,
} from '../../infra/config.js';
import {
  ECS_RESERVED_MEMORY_MIB,
  ingestMemoryFor,
  instanceMemory,
  knownSizes,
  taskMemoryCeilingMiB,
} from '../../infra/instance-memory.js';
import { onlyResource, synthStage } from './synth.js';

/**
 * Bounds set in the infrastructure: the manifest function's reserved concurrency and the ingest container's hard
 * memory limit, each derived from the stage configuration.
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

/** The ConfigError a stage with these overrides fails with. */
const errorFor = (stage: string, overrides: unknown) => () => loadStageConfig(stage, overrides);

describe('ingest memory arithmetic', () => {
  it('gives every stream its full input buffer when the task has room', () => {
    // g4dn.xlarge: 16384 MiB installed, 97 % registered (15892), minus the 1024 MiB agent reserve.
    expect(taskMemoryCeilingMiB(instanceMemory('g4dn.xlarge')!)).toBe(14_868);
    expect(planIngestMemory(8, 14_868)).toEqual({
      limitMiB: PROCESS_BASE_MIB + 8 * (DEFAULT_INPUT_BUFFER_MIB + STREAM_OVERHEAD_MIB), // 512 + 8 x 948 = 8096
      reservationMiB: PROCESS_BASE_MIB + 8 * FFMPEG_WORKING_SET_MIB, // 4608
      inputBufferMiB: DEFAULT_INPUT_BUFFER_MIB,
    });
    expect(planIngestMemory(8, 14_868).limitMiB).toBe(8096);
  });

  it('shrinks the input buffer to what fits, and refuses below the minimum', () => {
    const tight = planIngestMemory(20, 14_868);
    expect(tight.inputBufferMiB).toBe(Math.floor((14_868 - 512) / 20) - STREAM_OVERHEAD_MIB); // 169
    expect(tight.limitMiB).toBeLessThanOrEqual(14_868);
    expect(() => planIngestMemory(24, 14_868)).toThrow(/24 streams need at least 15200 MiB/);
  });

  it('shares a multi-GPU instance between its tasks (one per GPU)', () => {
    // g4dn.12xlarge: 192 GiB, 4 GPUs.
    expect(taskMemoryCeilingMiB(instanceMemory('g4dn.12xlarge')!)).toBe(
      Math.floor((Math.floor(192 * 1024 * 0.97) - ECS_RESERVED_MEMORY_MIB) / 4),
    );
  });

  it('keeps limit <= ceiling and reservation <= limit for every known instance size and stream count', () => {
    for (const family of NVENC_FAMILIES) {
      for (const size of knownSizes(family)) {
        for (let streams = 1; streams <= 64; streams++) {
          let plan: ReturnType<typeof ingestMemoryFor>;
          try {
            plan = ingestMemoryFor(`${family}.${size}`, streams);
          } catch {
            continue; // too many streams for this size: config validation refuses it
          }
          expect(plan.limitMiB).toBeLessThanOrEqual(plan.ceilingMiB);
          expect(plan.reservationMiB).toBeLessThanOrEqual(plan.limitMiB);
          expect(plan.inputBufferMiB).toBeGreaterThanOrEqual(MIN_INPUT_BUFFER_MIB);
          expect(plan.inputBufferMiB).toBeLessThanOrEqual(DEFAULT_INPUT_BUFFER_MIB);
        }
      }
    }
  });

  it('refuses at config time a stream count the instance cannot hold, and unknown sizes', () => {
    expect(errorFor('dev', { ingest: { nvencSessionsPerGpu: 64 } })).toThrow(
      /ingest\.nvencSessionsPerGpu: g4dn\.xlarge: 64 streams need at least \d+ MiB/,
    );
    expect(
      loadStageConfig('dev', { ingest: { instanceType: 'g6e.xlarge', nvencSessionsPerGpu: 40 } }),
    ).toBeDefined();
    expect(errorFor('dev', { ingest: { instanceType: 'g5.metal' } })).toThrow(
      /ingest\.instanceType: g5\.metal: metal is not a size of g5 \(one of xlarge,/,
    );
  });
});

describe('manifest reserved concurrency (config)', () => {
  it('derives each stage default from its ingest capacity: streams x rungs x 3 held requests, plus 10 %', () => {
    const dev = loadStageConfig('dev');
    const prod = loadStageConfig('prod');
    expect(manifestConcurrencyAtCapacity(dev.ingest, dev.media.ladder)).toBe(2 * 8 * 3 * 3);
    expect(dev.manifest.reservedConcurrency).toBe(160);
    expect(manifestConcurrencyAtCapacity(prod.ingest, prod.media.ladder)).toBe(10 * 8 * 3 * 3);
    expect(prod.manifest.reservedConcurrency).toBe(800);
    expect(loadStageConfig('dev', { ingest: { maxTasks: 4 } }).manifest.reservedConcurrency).toBe(320);
  });

  it('takes an explicit value, and refuses one that would throttle playback at full capacity', () => {
    expect(
      loadStageConfig('dev', { manifest: { reservedConcurrency: 500 } }).manifest.reservedConcurrency,
    ).toBe(500);
    expect(errorFor('dev', { manifest: { reservedConcurrency: 100 } })).toThrow(
      /manifest\.reservedConcurrency: 100 would throttle live playback at full ingest capacity: 2 tasks x 8 streams x 3 rungs x 3 held requests = 144/,
    );
    expect(errorFor('dev', { manifest: { reservedConcurrency: 5 } })).toThrow(
      /manifest\.reservedConcurrency/,
    );
    expect(errorFor('dev', { manifest: { reserved: 5 } })).toThrow(/manifest/);
    expect(errorFor('dev', { manifest: { reservedConcurrency: 5 } })).toThrow(ConfigError);
  });
});

describe('synthesized bounds', () => {
  const { platform } = synthStage('dev', { manifest: { reservedConcurrency: 300 } });
  const functions = platform.findResources('AWS::Lambda::Function');
  const byService = (service: string): Json =>
    Object.values(functions).find(
      (f: Json) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
    );

  it('reserves the configured concurrency for the manifest function, the derived one for the session function', () => {
    expect(byService('manifest').Properties.ReservedConcurrentExecutions).toBe(300);
    // The session function's follows the expected audience (test/infra/api-sizing.test.ts); control stays in the
    // unreserved pool (the HTTP API's throttle bounds it).
    expect(byService('session').Properties.ReservedConcurrentExecutions).toBe(10);
    expect(byService('control').Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('gives the ingest container a hard memory limit and binds the input buffer it was computed with', () => {
    const plan = ingestMemoryFor('g4dn.xlarge', 8);
    const task = onlyResource(platform, 'AWS::ECS::TaskDefinition').properties as Json;
    const [container] = task.ContainerDefinitions;
    expect(container.Memory).toBe(plan.limitMiB);
    expect(container.MemoryReservation).toBe(plan.reservationMiB);
    expect(container.Environment).toEqual(
      expect.arrayContaining([{ Name: 'MIRROR_MAX_BUFFER_MB', Value: String(plan.inputBufferMiB) }]),
    );
  });

  it('keeps the agent reserve the memory ceiling assumes on the container instances', () => {
    const template = JSON.stringify(platform.findResources('AWS::EC2::LaunchTemplate'));
    expect(template).toContain(`ECS_RESERVED_MEMORY=${ECS_RESERVED_MEMORY_MIB}`);
  });
});

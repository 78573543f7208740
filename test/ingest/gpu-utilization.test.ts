import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type CommandRunner,
  execRunner,
  type GpuUtilization,
  NVIDIA_SMI,
  NVIDIA_SMI_ARGS,
  NvidiaSmiParseError,
  parseGpuQuery,
  startGpuSampler,
  summarizeGpus,
} from '../../containers/ingest/src/gpu-utilization.js';
import { emfMetrics } from '../../containers/ingest/src/metrics.js';
import { type IngestMetricsSink, startIngestService } from '../../containers/ingest/src/service.js';
import { MetricNames } from '../../core/metric-names.js';
import { captureStdout } from '../support/emf.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { freeUdpPort, waitFor } from './media.js';
import { CollectingSinks } from './sinks.js';

const m = MetricNames.ingest;

/** A g4dn.12xlarge-like host (four T4s, 15360 MiB each), with nvidia-smi's trailing newline. */
const FOUR_T4 = [
  '0, 37, 52, 18, 1203, 15360',
  '1, 81, 95, 40, 2210, 15360',
  '2, 0, 0, 0, 3, 15360',
  '3, 5, 11, 7, 410, 15360',
  '',
].join('\n');

describe('nvidia-smi query (pure)', () => {
  it('runs exactly nvidia-smi --query-gpu=<6 fields> --format=csv,noheader,nounits', () => {
    expect([NVIDIA_SMI, ...NVIDIA_SMI_ARGS]).toEqual([
      'nvidia-smi',
      '--query-gpu=index,utilization.gpu,utilization.encoder,utilization.decoder,memory.used,memory.total',
      '--format=csv,noheader,nounits',
    ]);
  });

  it('reads one row per GPU and takes the busiest GPU per engine', () => {
    const gpus = parseGpuQuery(FOUR_T4);
    expect(gpus).toHaveLength(4);
    expect(gpus[1]).toEqual({
      index: 1,
      gpuPercent: 81,
      encoderPercent: 95,
      decoderPercent: 40,
      memoryUsedMiB: 2210,
      memoryTotalMiB: 15360,
    });
    expect(summarizeGpus(gpus)).toMatchObject({ gpuPercent: 81, encoderPercent: 95, decoderPercent: 40 });
    // Not the first row's figures, not a mean: GPU 0 alone would read 37/52/18.
    expect(summarizeGpus(gpus.slice(0, 1))).toMatchObject({ gpuPercent: 37, encoderPercent: 52 });
  });

  it('ignores blank lines and CRLF, and reads [N/A] / [Not Supported] as no reading', () => {
    const gpus = parseGpuQuery(
      '\r\n0, 12, [N/A], [Not Supported], 812, 23028\r\n\r\n1, [N/A], 7, [N/A], [N/A], 23028\r\n',
    );
    expect(
      gpus.map((g) => [g.index, g.gpuPercent, g.encoderPercent, g.decoderPercent, g.memoryUsedMiB]),
    ).toEqual([
      [0, 12, null, null, 812],
      [1, null, 7, null, null],
    ]);
    expect(summarizeGpus(gpus)).toMatchObject({ gpuPercent: 12, encoderPercent: 7, decoderPercent: null });
    expect(parseGpuQuery('\n\n')).toEqual([]);
  });

  it.each([
    ['0, 45 %, 3, 1, 100, 200', 'utilization.gpu', 1], // units not stripped
    ['0, 45, 3, 1, 100, 200\n1, 45, 101, 1, 100, 200', 'utilization.encoder', 2], // out of range, second row
    ['0, 45, 3, -1, 100, 200', 'utilization.decoder', 1],
    ['0, 45, 3, 1, lots, 200', 'memory.used', 1],
    ['0, 45, 3, 1, 100, ', 'memory.total', 1],
    ['GPU-5a1c, 45, 3, 1, 100, 200', 'index', 1],
    ['[N/A], 45, 3, 1, 100, 200', 'index', 1],
    ['Field "utilization.encoder" is not a valid field to query.', 'row', 1],
    ['0, 45, 3, 1, 100, 200, 7', 'row', 1],
  ])('rejects %j naming %s (row %i)', (text, field, row) => {
    let error: unknown;
    try {
      parseGpuQuery(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NvidiaSmiParseError);
    expect(error).toMatchObject({ field, row });
    expect(String(error)).toContain(field);
  });
});

/** A runner whose runs the test settles by hand; each run rejects when its signal aborts (as execFile does). */
function manualRunner() {
  const runs: Array<{
    file: string;
    args: readonly string[];
    signal: AbortSignal;
    resolve: (stdout: string) => void;
    reject: (error: Error) => void;
  }> = [];
  const run: CommandRunner = (file, args, signal) =>
    new Promise<string>((resolve, reject) => {
      runs.push({ file, args, signal, resolve, reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  return { run, runs };
}

const logger = () => ({ info: vi.fn(), warn: vi.fn() });

describe('GPU sampler (injected runner, fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const { lines } = captureStdout();

  it('runs the exact argv each interval and writes the busiest GPU per engine as EMF, task level', async () => {
    const calls: Array<[string, readonly string[]]> = [];
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      run: async (file, args) => {
        calls.push([file, args]);
        return FOUR_T4;
      },
      onSample: emfMetrics('gpu-test', 'task-g').gpuUtilization,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([[NVIDIA_SMI, NVIDIA_SMI_ARGS]]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toHaveLength(3);
    await sampler.stop();

    const all = lines();
    expect(all).toHaveLength(3);
    const line = all[0]!;
    const directive = line._aws.CloudWatchMetrics[0]!;
    expect(directive.Dimensions).toEqual([['service', 'Stage']]);
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: m.gpuUtilizationPercent, Unit: 'Percent' },
        { Name: m.gpuEncoderUtilizationPercent, Unit: 'Percent' },
        { Name: m.gpuDecoderUtilizationPercent, Unit: 'Percent' },
      ]),
    );
    expect(line).toMatchObject({
      service: 'ingest',
      Stage: 'gpu-test',
      taskId: 'task-g',
      [m.gpuUtilizationPercent]: 81,
      [m.gpuEncoderUtilizationPercent]: 95,
      [m.gpuDecoderUtilizationPercent]: 40,
    });
  });

  it('leaves engines nvidia-smi cannot read out of the EMF line', async () => {
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      run: async () => '0, 23, [Not Supported], [N/A], 500, 23028\n',
      onSample: emfMetrics('gpu-test', 'task-g').gpuUtilization,
    });
    await vi.advanceTimersByTimeAsync(0);
    await sampler.stop();
    const [line, ...more] = lines();
    expect(more).toEqual([]);
    expect(line!._aws.CloudWatchMetrics[0]!.Metrics.map((x) => x.Name)).toEqual([m.gpuUtilizationPercent]);
    expect(line![m.gpuUtilizationPercent]).toBe(23);
    expect(line).not.toHaveProperty(m.gpuEncoderUtilizationPercent);
  });

  it('never starts a run while the previous one is still going', async () => {
    const { run, runs } = manualRunner();
    const samples: GpuUtilization[] = [];
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      timeoutMs: 60_000,
      run,
      onSample: (u) => samples.push(u),
    });
    await vi.advanceTimersByTimeAsync(35_000); // ticks at 10, 20, 30 s find run 1 still going
    expect(runs).toHaveLength(1);
    runs[0]!.resolve(FOUR_T4);
    await vi.advanceTimersByTimeAsync(0);
    expect(samples).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000); // the 40 s tick
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(FOUR_T4);
    await vi.advanceTimersByTimeAsync(0);
    await sampler.stop();
    expect(samples).toHaveLength(2);
  });

  it('aborts a run that outlives the timeout, with one warning saying so', async () => {
    const { run, runs } = manualRunner();
    const log = logger();
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      timeoutMs: 3_000,
      run,
      onSample: () => {},
      logger: log,
    });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(runs[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs[0]!.signal.aborted).toBe(true);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![1]).toMatchObject({ error: 'timed out after 3000 ms' });
    await vi.advanceTimersByTimeAsync(7_000); // the next tick runs again
    expect(runs).toHaveLength(2);
    await sampler.stop();
  });

  it('warns once while nvidia-smi keeps failing, never throws, and warns again after a recovery', async () => {
    const outputs: Array<string | Error> = [
      new Error('spawn nvidia-smi ENOENT'),
      new Error('Command failed: exit 9'),
      'garbage, 1, 2',
      FOUR_T4,
      new Error('Command failed: exit 15'),
    ];
    const log = logger();
    const samples: GpuUtilization[] = [];
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      run: async () => {
        const next = outputs.shift() ?? FOUR_T4;
        if (next instanceof Error) throw next;
        return next;
      },
      onSample: (u) => samples.push(u),
      logger: log,
    });
    await vi.advanceTimersByTimeAsync(20_000); // three failures: ENOENT, exit 9, unreadable row
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![1]).toMatchObject({
      command: `nvidia-smi ${NVIDIA_SMI_ARGS.join(' ')}`,
      error: expect.stringContaining('ENOENT'),
    });
    expect(samples).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(samples).toHaveLength(1);
    expect(log.info).toHaveBeenCalledWith('GPU utilisation sampling recovered');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log.warn).toHaveBeenCalledTimes(2);
    await sampler.stop();
  });

  it('names the unreadable field in its warning', async () => {
    const log = logger();
    const sampler = startGpuSampler({
      intervalMs: 10_000,
      run: async () => '0, 12 %, 1, 1, 10, 20\n',
      onSample: () => {},
      logger: log,
    });
    await vi.advanceTimersByTimeAsync(0);
    await sampler.stop();
    expect(log.warn.mock.calls[0]![1]).toMatchObject({ error: expect.stringContaining('utilization.gpu') });
  });

  it('stop() aborts the run in progress, waits for it, and nothing runs or is emitted after', async () => {
    const { run, runs } = manualRunner();
    const onSample = vi.fn();
    const log = logger();
    const sampler = startGpuSampler({ intervalMs: 10_000, run, onSample, logger: log });
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(1);
    await sampler.stop();
    expect(runs[0]!.signal.aborted).toBe(true);
    runs[0]!.resolve(FOUR_T4); // too late: already rejected by the abort
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toHaveLength(1);
    expect(onSample).not.toHaveBeenCalled();
    expect(log.warn).not.toHaveBeenCalled(); // stopping is not a failure
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('default runner (execFile, no shell)', () => {
  it('resolves with stdout, rejects with the error text, and kills the child on abort', async () => {
    expect(await execRunner('printf', ['%s\\n', '0, 1, 2, 3, 4, 5'], new AbortController().signal)).toBe(
      '0, 1, 2, 3, 4, 5\n',
    );
    await expect(execRunner('nvidia-smi-not-installed', [], new AbortController().signal)).rejects.toThrow(
      /ENOENT/,
    );
    const abort = new AbortController();
    const started = Date.now();
    const slow = execRunner('sleep', ['10'], abort.signal);
    setTimeout(() => abort.abort(), 100);
    await expect(slow).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('ingest service wiring', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    redisServer = await startRedis();
    redis = redisServer.client();
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });

  async function serviceWith(gpuMode: 'auto' | 'off', available: boolean) {
    const calls: AbortSignal[] = [];
    const samples: GpuUtilization[] = [];
    const metrics: IngestMetricsSink = {
      report() {},
      streamDown() {},
      gpuUtilization: (u) => samples.push(u),
    };
    const service = await startIngestService({
      redis,
      taskId: `gpu-${gpuMode}-${available}`,
      sinks: new CollectingSinks(),
      srtPort: await freeUdpPort(),
      srtHost: '127.0.0.1',
      healthPort: null,
      gpu: { available, detail: 'injected' },
      gpuMode,
      metrics,
      gpuSampleIntervalMs: 50,
      runNvidiaSmi: async (_file, _args, signal) => {
        calls.push(signal);
        return FOUR_T4;
      },
    });
    return { service, calls, samples };
  }

  it('samples on the GPU path and stops sampling when the service drains', async () => {
    const { service, calls, samples } = await serviceWith('auto', true);
    await waitFor('three GPU samples', () => samples.length >= 3, 5_000);
    expect(samples[0]).toMatchObject({ gpuPercent: 81, encoderPercent: 95, decoderPercent: 40 });
    await service.stop();
    const after = calls.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(calls.length).toBe(after);
  });

  it('does not sample with MIRROR_GPU=off or without a GPU', async () => {
    for (const [mode, available] of [
      ['off', true],
      ['auto', false],
    ] as const) {
      const { service, calls } = await serviceWith(mode, available);
      await new Promise((r) => setTimeout(r, 300));
      await service.stop();
      expect(calls, `${mode} ${available}`).toEqual([]);
    }
  });
});

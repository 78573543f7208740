import { execFile } from 'node:child_process';
import type { Logger } from '../../../core/logger.js';

/**
 * GPU utilisation sampling for the ingest task's GpuUtilizationPercent / GpuEncoderUtilizationPercent /
 * GpuDecoderUtilizationPercent metrics: one `nvidia-smi --query-gpu` run every interval, parsed here.
 *
 * `utilization.encoder` and `utilization.decoder` are `--query-gpu` fields (listed by `nvidia-smi --help-query-gpu`:
 * percent of the past sample period the NVENC / NVDEC engine was busy), so one CSV query gives SM, NVENC and NVDEC
 * use; no `nvidia-smi dmon` stream to parse and no NVML binding to build. A driver too old to know a field rejects
 * the whole query (non-zero exit): the sampler warns once and emits nothing. A field a GPU cannot report (MIG, vGPU)
 * reads `[N/A]` or `[Not Supported]` and becomes null.
 */

/** The columns queried, in output order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'utilization.gpu',
  'utilization.encoder',
  'utilization.decoder',
  'memory.used',
  'memory.total',
] as const;
export type GpuQueryField = (typeof GPU_QUERY_FIELDS)[number];

export const NVIDIA_SMI = 'nvidia-smi';
/** `noheader,nounits`: one bare CSV row per GPU, `45` rather than `45 %`. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

/** One GPU's row. Percentages 0..100, memory in MiB; null where the driver reports the field unavailable. */
export interface GpuReading {
  readonly index: number;
  readonly gpuPercent: number | null;
  readonly encoderPercent: number | null;
  readonly decoderPercent: number | null;
  readonly memoryUsedMiB: number | null;
  readonly memoryTotalMiB: number | null;
}

/** The task-level figures: the busiest GPU per engine (null when no GPU reported that engine). */
export interface GpuUtilization {
  readonly gpuPercent: number | null;
  readonly encoderPercent: number | null;
  readonly decoderPercent: number | null;
  readonly gpus: readonly GpuReading[];
}

/** nvidia-smi output we cannot read; `field` names the column (or `row` for a row with the wrong shape). */
export class NvidiaSmiParseError extends Error {
  override readonly name = 'NvidiaSmiParseError';
  constructor(
    readonly field: GpuQueryField | 'row',
    readonly row: number,
    readonly value: string,
    detail: string,
  ) {
    super(`nvidia-smi output row ${row}, ${field}: ${detail} (got ${JSON.stringify(value)})`);
  }
}

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, ...: nvidia-smi's bracketed "no reading" values. */
const UNAVAILABLE = /^\[[^\]]*\]$|^N\/A$/;
const NUMBER = /^\d+(?:\.\d+)?$/;

function reading(
  field: GpuQueryField,
  row: number,
  raw: string,
  max: number = Number.POSITIVE_INFINITY,
): number | null {
  if (UNAVAILABLE.test(raw)) return null;
  if (!NUMBER.test(raw)) throw new NvidiaSmiParseError(field, row, raw, 'not a number');
  const value = Number(raw);
  if (value > max) throw new NvidiaSmiParseError(field, row, raw, `above ${max}`);
  return value;
}

/** Parses `nvidia-smi` + NVIDIA_SMI_ARGS output: one row per GPU, blank lines ignored. Throws NvidiaSmiParseError. */
export function parseGpuQuery(text: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  let row = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    row++;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== GPU_QUERY_FIELDS.length) {
      throw new NvidiaSmiParseError(
        'row',
        row,
        line,
        `expected ${GPU_QUERY_FIELDS.length} columns (${GPU_QUERY_FIELDS.join(', ')}), got ${cells.length}`,
      );
    }
    const [index, gpu, encoder, decoder, used, total] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!/^\d+$/.test(index)) throw new NvidiaSmiParseError('index', row, index, 'not a GPU index');
    gpus.push({
      index: Number(index),
      gpuPercent: reading('utilization.gpu', row, gpu, 100),
      encoderPercent: reading('utilization.encoder', row, encoder, 100),
      decoderPercent: reading('utilization.decoder', row, decoder, 100),
      memoryUsedMiB: reading('memory.used', row, used),
      memoryTotalMiB: reading('memory.total', row, total),
    });
  }
  return gpus;
}

const maxOf = (values: readonly (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? Math.max(...known) : null;
};

/**
 * Max over GPUs, not mean: an ingest task gets one GPU (ECS `GPU: 1`), and where a host shows more, the busiest
 * engine is the one that runs out of headroom first.
 */
export function summarizeGpus(gpus: readonly GpuReading[]): GpuUtilization {
  return {
    gpuPercent: maxOf(gpus.map((g) => g.gpuPercent)),
    encoderPercent: maxOf(gpus.map((g) => g.encoderPercent)),
    decoderPercent: maxOf(gpus.map((g) => g.decoderPercent)),
    gpus,
  };
}

/** Runs a program without a shell and resolves with its stdout; rejects on failure or when `signal` aborts. */
export type CommandRunner = (file: string, args: readonly string[], signal: AbortSignal) => Promise<string>;

/** execFile with a small output cap; an abort (timeout, stop) kills nvidia-smi with SIGKILL. */
export const execRunner: CommandRunner = (file, args, signal) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { signal, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || stdout.trim();
          reject(new Error(detail ? `${error.message}: ${detail}` : error.message));
        } else {
          resolve(stdout);
        }
      },
    );
  });

export interface GpuSamplerOptions {
  /** Time between run starts; a tick that finds the previous run still going is skipped. */
  readonly intervalMs: number;
  /** A run still going after this long is aborted (default: the interval, at most 5 s). */
  readonly timeoutMs?: number;
  /** Injected in tests; execFile otherwise. */
  readonly run?: CommandRunner;
  readonly onSample: (utilization: GpuUtilization) => void;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface GpuSampler {
  /** Stops the timer, aborts a run in progress and resolves once it has settled; nothing is emitted after. */
  stop(): Promise<void>;
}

class SampleTimeout extends Error {}

/**
 * Runs nvidia-smi every `intervalMs`, never two at once. A failure (missing binary, non-zero exit, timeout,
 * unreadable output) logs one warning and is otherwise ignored; the next failures stay quiet until a run succeeds
 * again, so a broken nvidia-smi costs one log line, not one per interval.
 */
export function startGpuSampler(options: GpuSamplerOptions): GpuSampler {
  const run = options.run ?? execRunner;
  const timeoutMs = options.timeoutMs ?? Math.min(options.intervalMs, 5000);
  let inFlight: { promise: Promise<void>; abort: AbortController } | null = null;
  let failing = false;
  let stopped = false;

  async function sample(abort: AbortController): Promise<void> {
    const timer = setTimeout(() => abort.abort(new SampleTimeout()), timeoutMs);
    try {
      const utilization = summarizeGpus(parseGpuQuery(await run(NVIDIA_SMI, NVIDIA_SMI_ARGS, abort.signal)));
      if (stopped) return;
      if (utilization.gpus.length === 0) throw new Error('nvidia-smi listed no GPU');
      if (failing) options.logger?.info('GPU utilisation sampling recovered');
      failing = false;
      options.onSample(utilization);
    } catch (error) {
      if (stopped) return;
      if (!failing) {
        const timedOut = abort.signal.reason instanceof SampleTimeout;
        options.logger?.warn('GPU utilisation sampling failed; GPU metrics paused until nvidia-smi answers', {
          command: [NVIDIA_SMI, ...NVIDIA_SMI_ARGS].join(' '),
          error: timedOut ? `timed out after ${timeoutMs} ms` : String(error),
        });
      }
      failing = true;
    } finally {
      clearTimeout(timer);
    }
  }

  function tick(): void {
    if (inFlight || stopped) return;
    const abort = new AbortController();
    const promise = sample(abort).finally(() => {
      inFlight = null;
    });
    inFlight = { promise, abort };
  }

  tick();
  const timer = setInterval(tick, options.intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      const current = inFlight;
      if (current) {
        current.abort.abort(new Error('stopped'));
        await current.promise;
      }
    },
  };
}

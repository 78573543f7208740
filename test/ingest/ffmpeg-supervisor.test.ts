import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FfmpegSupervisor,
  isHung,
  MAX_FUTILE_RESTARTS,
  RestartBackoff,
  type RunPlan,
  type SupervisorOptions,
} from '../../containers/ingest/src/transcode/ffmpeg-supervisor.js';
import { InputQueue } from '../../containers/ingest/src/transcode/input-queue.js';
import type { InputDescription } from '../../containers/ingest/src/transcode/progress.js';
import { fakeFfmpeg } from './fake-ffmpeg.js';
import { waitFor } from './media.js';

describe('restart backoff', () => {
  it('doubles the delay over consecutive short runs from 250 ms, capped at 5 s', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 7 }, () => backoff.afterExit(1000, true));
    expect(delays.map((d) => (d.kind === 'restart' ? d.delayMs : d.kind))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('starts over after a run that lived longer than 30 s', () => {
    const backoff = new RestartBackoff();
    backoff.afterExit(1000, true);
    backoff.afterExit(1000, true);
    expect(backoff.afterExit(30_001, true)).toEqual({ kind: 'restart', delayMs: 250 });
    expect(backoff.afterExit(30_000, true)).toEqual({ kind: 'restart', delayMs: 500 });
  });

  it('gives up after six runs in a row without output; one run with output clears the count', () => {
    const backoff = new RestartBackoff();
    for (let i = 0; i < MAX_FUTILE_RESTARTS - 1; i++)
      expect(backoff.afterExit(10, false).kind).toBe('restart');
    backoff.afterExit(10, true);
    for (let i = 0; i < MAX_FUTILE_RESTARTS - 1; i++)
      expect(backoff.afterExit(10, false).kind).toBe('restart');
    expect(backoff.afterExit(10, false)).toEqual({ kind: 'give-up', futileRuns: MAX_FUTILE_RESTARTS });
  });

  it('reset() forgets both counts', () => {
    const backoff = new RestartBackoff();
    for (let i = 0; i < MAX_FUTILE_RESTARTS - 1; i++) backoff.afterExit(10, false);
    backoff.reset();
    expect(backoff.afterExit(10, false)).toEqual({ kind: 'restart', delayMs: 250 });
  });
});

describe('hang check', () => {
  const base = { nowMs: 100_000, hangTimeoutMs: 5000, producedOutput: true };
  it('is hung only while input flows and output stopped for longer than the timeout', () => {
    expect(isHung({ ...base, lastInputAtMs: 99_000, lastOutputAtMs: 94_999 })).toBe(true);
    expect(isHung({ ...base, lastInputAtMs: 99_000, lastOutputAtMs: 95_000 })).toBe(false);
    // No input for the timeout: a silent ffmpeg is just waiting.
    expect(isHung({ ...base, lastInputAtMs: 95_000, lastOutputAtMs: 0 })).toBe(false);
  });

  it('gives a run twice as long before its first output (the encoder may not have sent a key frame yet)', () => {
    const first = { ...base, producedOutput: false, lastInputAtMs: 99_000 };
    expect(isHung({ ...first, lastOutputAtMs: 94_000 })).toBe(false);
    expect(isHung({ ...first, lastOutputAtMs: 89_999 })).toBe(true);
  });
});

const supervisors: FfmpegSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.shutdown()));
});

function supervise(script: string, options: Partial<SupervisorOptions> = {}) {
  const queue = new InputQueue(1_000_000);
  const output: Buffer[] = [];
  const described: InputDescription[] = [];
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const plan: RunPlan = {
    args: ['-i', 'pipe:0'],
    outputs: [{ fd: 3, write: (data) => output.push(data) }],
    details: { path: 'passthrough' },
  };
  const supervisor = new FfmpegSupervisor({
    streamId: 'sup',
    ffmpegPath: fakeFfmpeg(script),
    hangTimeoutMs: 60_000,
    drainTimeoutMs: 5000,
    log,
    queue,
    lastInputAtMs: () => Date.now(),
    prepareRun: () => (queue.length > 0 ? plan : null),
    onInputDescribed: (d) => described.push(d),
    onGiveUp: () => {},
    ...options,
  });
  supervisors.push(supervisor);
  return { supervisor, queue, output, described, log };
}

describe('ffmpeg supervisor (stand-in ffmpeg)', () => {
  it('feeds the queue to stdin, routes the output descriptor, and reads progress and the input line', async () => {
    const stderr = [
      'Input #0, mpegts, from pipe:0:',
      '  Stream #0:0[0x100]: Video: h264 (High), yuv420p, 320x180, 30 fps, 30 tbr',
      'Output #0, mp4, to pipe:3:',
      '  Stream #0:0: Video: h264 (High), yuv420p, 640x360, 25 fps',
      'fps=29.5',
      'speed=1.01x',
      'out_time_us=2000000',
      'progress=continue',
    ].join('\\n');
    const { supervisor, queue, output, described, log } = supervise(
      `printf '${stderr}\\n' >&2; exec cat >&3`,
    );
    queue.push(Buffer.from('first '), 1);
    supervisor.start();
    queue.push(Buffer.from('second'), 2);
    supervisor.pump();
    await waitFor('output', () => Buffer.concat(output).toString() === 'first second');
    await waitFor('progress', () => supervisor.progress.fps !== null);
    expect(supervisor.progress).toEqual({ fps: 29.5, speed: 1.01, outTimeMs: 2000 });
    // Only the input's stream line describes the input; the output's does not.
    expect(described).toEqual([{ videoCodec: 'h264', width: 320, height: 180, fps: 30 }]);
    expect(log.info).toHaveBeenCalledWith('ffmpeg started', {
      streamId: 'sup',
      pid: supervisor.pid,
      path: 'passthrough',
    });
  });

  it('waits for input before the first run: the first chunk anchors its clock', async () => {
    const { supervisor, queue, output } = supervise('exec cat >&3');
    supervisor.start();
    expect(supervisor.pid).toBeUndefined();
    queue.push(Buffer.from('late'), 5);
    supervisor.inputArrived();
    expect(supervisor.pid).toBeDefined();
    await waitFor('output', () => Buffer.concat(output).toString() === 'late');
  });

  it('drains: ends stdin and waits for the exit, so the output is complete', async () => {
    const { supervisor, queue, output } = supervise('sleep 0.3; exec cat >&3');
    queue.push(Buffer.from('all of it'), 1);
    supervisor.start();
    await supervisor.shutdown();
    expect(Buffer.concat(output).toString()).toBe('all of it');
    expect(supervisor.pid).toBeUndefined();
    expect(supervisor.restarts).toBe(0);
  });

  it('kills an ffmpeg that ignores the end of its input once the drain timeout passes', async () => {
    const { supervisor, queue } = supervise('exec sleep 30', { drainTimeoutMs: 200 });
    queue.push(Buffer.from('x'), 1);
    supervisor.start();
    const started = Date.now();
    await supervisor.shutdown();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(supervisor.pid).toBeUndefined();
  });

  it('restarts an ffmpeg that exits while wanted, once per exit, and not after halt()', async () => {
    const { supervisor, queue, log } = supervise('echo "boom" >&2; sleep 0.1; exit 1');
    let restartingAfterExit: boolean | undefined;
    // Right after the exit is handled (before the 250 ms backoff runs out), look and halt.
    log.warn.mockImplementation(() =>
      queueMicrotask(() => {
        restartingAfterExit = supervisor.restarting;
        supervisor.halt();
      }),
    );
    queue.push(Buffer.from('x'), 1);
    supervisor.start();
    await waitFor('exit handled', () => restartingAfterExit !== undefined);
    expect(restartingAfterExit).toBe(true);
    expect(supervisor.restarts).toBe(1);
    expect(log.warn).toHaveBeenCalledWith(
      'ffmpeg exited; restarting',
      expect.objectContaining({ streamId: 'sup', code: 1, lastLine: 'boom' }),
    );
    expect(supervisor.restarting).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(supervisor.restarts).toBe(1);
    expect(supervisor.pid).toBeUndefined();
  });
});

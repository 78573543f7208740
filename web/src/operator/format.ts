// The text of the operator page's figures. Pure: the tables only place these strings.
import type { IngestTask, Stream } from './model.js';

/** `value` with `digits` decimals and its unit, or an en dash when unknown. */
export function fmt(value: number | undefined, unit = '', digits = 0): string {
  return value === undefined ? '–' : `${value.toFixed(digits)}${unit}`;
}

/** The cells of a stream's row after its state: what the table shows for each column. */
export interface StreamCells {
  /** Id, ladder and latency mode, under the name. */
  readonly details: string;
  readonly input: string;
  readonly bitrate: string;
  readonly srt: string;
  readonly latency: string;
  readonly viewers: string;
  readonly task: string;
}

export function streamCells(s: Stream): StreamCells {
  const { input, srt, latencyMs, taskId } = s.status;
  return {
    details: `${s.id} · ${s.ladder} · ${s.latency}`,
    input: input?.codec
      ? `${input.codec} ${input.width ?? '?'}×${input.height ?? '?'} @${fmt(input.fps)}`
      : '–',
    bitrate: fmt(input?.bitrateKbps !== undefined ? input.bitrateKbps / 1000 : undefined, ' Mbps', 1),
    srt: `${fmt(srt?.rttMs, ' ms')} / ${fmt(srt?.lossPercent, ' %', 2)}`,
    // The ingest's part publish latency: tens of ms, so in ms (seconds with 2 decimals read 0.03 s).
    latency: fmt(latencyMs, ' ms'),
    viewers: String(s.viewers),
    task: taskId ?? '–',
  };
}

/** An ingest task's row: task, streams, capacity, CPU, GPU. */
export function ingestTaskCells(t: IngestTask): readonly string[] {
  return [t.taskId, fmt(t.streams), fmt(t.capacity), fmt(t.cpuPercent, ' %'), t.gpu ? 'yes' : 'no'];
}

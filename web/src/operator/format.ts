// The text of the operator page's figures. Pure: the tables only place these strings.
import type { IngestTask, InputStats, Stream } from './model.js';

/** `value` with `digits` decimals and its unit, or an en dash when unknown. */
export function fmt(value: number | undefined, unit = '', digits = 0): string {
  return value === undefined ? '–' : `${value.toFixed(digits)}${unit}`;
}

/** The cells of a stream's row after its state: what the table shows for each column. */
export interface StreamCells {
  /** Id, ladder and latency mode, under the name. */
  readonly details: string;
  readonly input: string;
  /** The input's A/V sync, GOP and timing figures, under the input (decision D42). */
  readonly sync: string;
  readonly bitrate: string;
  readonly srt: string;
  readonly latency: string;
  readonly viewers: string;
  readonly task: string;
}

export function streamCells(s: Stream): StreamCells {
  const { input, srt, rtp, latencyMs, taskId } = s.status;
  return {
    details: `${s.id} · ${s.ladder} · ${s.latency}`,
    input: input?.codec
      ? `${input.codec} ${input.width ?? '?'}×${input.height ?? '?'} @${fmt(input.fps)}`
      : '–',
    sync: syncText(input?.stats),
    bitrate: fmt(input?.bitrateKbps !== undefined ? input.bitrateKbps / 1000 : undefined, ' Mbps', 1),
    // One link column: an RTP publisher's figures where an SRT one's would be (decision D46).
    srt: rtp ? rtpText(rtp) : `${fmt(srt?.rttMs, ' ms')} / ${fmt(srt?.lossPercent, ' %', 2)}`,
    // The ingest's part publish latency: tens of ms, so in ms (seconds with 2 decimals read 0.03 s).
    latency: fmt(latencyMs, ' ms'),
    viewers: String(s.viewers),
    task: taskId ?? '–',
  };
}

/** An RTP publisher's reception (RFC 3550): lost (fraction lost), jitter, reordered, SRTP authentication failures. */
export function rtpText(r: NonNullable<Stream['status']['rtp']>): string {
  const fraction = r.fractionLost === undefined ? undefined : r.fractionLost * 100;
  return [
    `RTP lost ${fmt(r.lost)} (${fmt(fraction, ' %', 2)})`,
    `jitter ${fmt(r.jitterMs, ' ms', 1)}`,
    `reordered ${fmt(r.reordered)}`,
    `auth failures ${fmt(r.authFailures)}`,
  ].join(' · ');
}

const orUndefined = (n: number | null | undefined): number | undefined => n ?? undefined;

/** One compact line: A/V offset (drift), GOP frames and ms (min-max), B-frames, frame jitter, CC errors, queue. */
export function syncText(s: InputStats | undefined): string {
  if (!s) return '–';
  const offset = s.avOffsetMs === null ? '–' : `${s.avOffsetMs > 0 ? '+' : ''}${s.avOffsetMs.toFixed(0)} ms`;
  const gop = s.gop
    ? `${s.gop.frames}f ${fmt(s.gop.ms, ' ms')} (${s.gop.minFrames}–${s.gop.maxFrames})`
    : '–';
  return [
    `A/V ${offset} (${fmt(orUndefined(s.avDriftMsPerMin), ' ms/min', 1)})`,
    `GOP ${gop}`,
    s.bFrames ? 'B-frames' : 'no B',
    `jitter ${fmt(orUndefined(s.frameIntervalJitterMs), ' ms', 1)}`,
    `CC ${s.continuityErrors}`,
    `queue ${fmt(s.queuePercent, ' %', 1)}`,
  ].join(' · ');
}

/** An ingest task's row: task, streams, capacity, CPU, GPU. */
export function ingestTaskCells(t: IngestTask): readonly string[] {
  return [t.taskId, fmt(t.streams), fmt(t.capacity), fmt(t.cpuPercent, ' %'), t.gpu ? 'yes' : 'no'];
}

import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import {
  fragDurationUs,
  softwareAudioArgs,
  softwareVideoArgs,
} from '../../containers/ingest/src/transcode/ffmpeg-args.js';
import type { Rung } from '../../core/ladder.js';
import type { RenditionSink, RenditionSinkFactory } from '../../core/media/rendition-sink.js';
import { spawnOwnGroup, terminate } from '../processes.js';
import { realTimeClipInput } from './args.js';

/**
 * A feed that skips SRT and the ingest service: ffmpeg transcodes the looped clip to one H.264 rung
 * as fragmented MP4 (one fragment per part) straight into the packager. Used by benchmarks to
 * separate the packaging/delivery path from ingest, and as a fallback when the ingest service is
 * not available. Not what `npm start` runs by default.
 */
export function directFeedArgs(
  clipFile: string,
  rung: Rung,
  partTargetMs: number,
  segmentTargetMs: number,
): string[] {
  return [
    ...realTimeClipInput(clipFile),
    ...softwareVideoArgs(rung, segmentTargetMs),
    ...softwareAudioArgs(rung),
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof+cmaf',
    '-frag_duration',
    String(fragDurationUs(partTargetMs)),
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

export class DirectFeed {
  #child: ChildProcess | undefined;
  #stopped = false;
  #ended: Promise<void> | undefined;

  constructor(
    readonly streamId: string,
    private readonly clipFile: string,
    private readonly rung: Rung,
    private readonly sinks: RenditionSinkFactory,
    private readonly targets: { partTargetMs: number; segmentTargetMs: number },
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    this.#spawn(this.sinks.open(this.streamId, this.rung.name, undefined, this.targets));
  }

  /** ffmpeg exits only if killed or broken: the sink is told (a discontinuity follows) and ffmpeg restarts. */
  #spawn(sink: RenditionSink): void {
    if (this.#stopped) return;
    const { partTargetMs, segmentTargetMs } = this.targets;
    // stop() ends it; Ctrl-C must not end it first, a dead platform must (see spawnOwnGroup).
    const child = spawnOwnGroup(
      'ffmpeg',
      directFeedArgs(this.clipFile, this.rung, partTargetMs, segmentTargetMs),
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    this.#child = child;
    (child.stdout as Readable).on('data', (chunk: Buffer) => sink.write(chunk));
    child.once('exit', () => {
      this.#child = undefined;
      if (this.#stopped) {
        // Publishes what is complete; stop() waits for it so nothing publishes after Redis closes.
        this.#ended = sink.end().catch(() => undefined);
        return;
      }
      sink.restart();
      setTimeout(() => this.#spawn(sink), 500);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await terminate(child, 1000);
    await this.#ended;
  }
}

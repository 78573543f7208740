import type { RenditionTargets } from '../../core/latency-profiles.js';
import type { ProducerStart, RenditionSink, RenditionSinkFactory } from '../../core/media/rendition-sink.js';

export interface Collected {
  chunks: Buffer[];
  restarts: number;
  ended: boolean;
  /** Byte offsets where each restart happened. */
  restartAt: number[];
  /** The ingest anchor given at open and at each restart, in order. */
  anchors: (number | undefined)[];
  /** The broadcast given at open and at each restart, in order (decision D16). */
  broadcasts: (string | undefined)[];
  /** When the first output bytes of the open and of each restart were written (epoch ms). */
  firstOutputAt: number[];
  /** The producer's arrival clock (ingestClock) read at those first output bytes, as the packager reads it. */
  clockAtFirstOutput: (number | undefined)[];
  /** The part and segment targets the rendition was opened with (decision D28). */
  targets?: RenditionTargets;
}

/** A RenditionSinkFactory that keeps everything, for asserting on ffmpeg's real output. */
export class CollectingSinks implements RenditionSinkFactory {
  readonly renditions = new Map<string, Collected>();

  open(
    streamId: string,
    rendition: string,
    start?: ProducerStart,
    targets?: RenditionTargets,
  ): RenditionSink {
    const c: Collected = {
      targets,
      chunks: [],
      restarts: 0,
      ended: false,
      restartAt: [],
      anchors: [start?.ingestAnchorMs],
      broadcasts: [start?.broadcast],
      firstOutputAt: [],
      clockAtFirstOutput: [],
    };
    let current = start;
    this.renditions.set(`${streamId}/${rendition}`, c);
    return {
      write: (chunk) => {
        if (c.firstOutputAt.length < c.anchors.length) {
          c.firstOutputAt.push(Date.now());
          c.clockAtFirstOutput.push(current?.ingestClock?.());
        }
        c.chunks.push(Buffer.from(chunk));
      },
      restart: (next) => {
        c.anchors.push(next?.ingestAnchorMs);
        c.broadcasts.push(next?.broadcast);
        current = next;
        c.restarts += 1;
        c.restartAt.push(c.chunks.reduce((n, b) => n + b.length, 0));
      },
      end: async () => {
        c.ended = true;
      },
    };
  }

  bytes(key: string): Buffer {
    return Buffer.concat(this.renditions.get(key)?.chunks ?? []);
  }
}

/** Top-level ISO BMFF box types, in order. */
export function topLevelBoxes(bytes: Buffer): string[] {
  const types: string[] = [];
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(pos);
    types.push(bytes.toString('latin1', pos + 4, pos + 8));
    if (size < 8) break;
    pos += size;
  }
  return types;
}

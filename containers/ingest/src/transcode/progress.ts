/** Reads ffmpeg's stderr: `-progress pipe:2` key=value blocks, plus the input stream description line. */
export interface InputDescription {
  readonly videoCodec?: string;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
}

export interface Progress {
  readonly frame?: number;
  readonly fps?: number;
  readonly speed?: number;
  readonly outTimeUs?: number;
}

const VIDEO_LINE = /^\s*Stream #0:\d+.*?: Video: (\w+)/;
const SIZE = /, (\d{2,5})x(\d{2,5})[\s,[]/;
const FPS = /, (\d+(?:\.\d+)?) fps/;

export function parseInputLine(line: string): InputDescription | null {
  const video = VIDEO_LINE.exec(line);
  if (!video) return null;
  const size = SIZE.exec(line);
  const fps = FPS.exec(line);
  return {
    videoCodec: video[1],
    width: size ? Number(size[1]) : undefined,
    height: size ? Number(size[2]) : undefined,
    fps: fps ? Number(fps[1]) : undefined,
  };
}

/** Accumulates progress keys; returns a report when a block ends (`progress=continue|end`). */
export class ProgressReader {
  private block = new Map<string, string>();

  line(line: string): Progress | null {
    const eq = line.indexOf('=');
    if (eq <= 0 || line.includes(' ')) return null;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key !== 'progress') {
      this.block.set(key, value);
      return null;
    }
    const num = (k: string) => {
      const v = Number.parseFloat(this.block.get(k) ?? '');
      return Number.isFinite(v) ? v : undefined;
    };
    const report: Progress = {
      frame: num('frame'),
      fps: num('fps'),
      speed: num('speed'),
      outTimeUs: num('out_time_us'),
    };
    this.block = new Map();
    return report;
  }
}

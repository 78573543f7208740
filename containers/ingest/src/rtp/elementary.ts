import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../../core/logger.js';
import { encoderSdp, renderSdp } from '../../../../core/streams/rtp-sdp.js';

/** The media of an elementary RTP stream, told apart by payload type (core/streams/rtp-sdp.ts). */
export type MediaKind = 'video' | 'audio';

/**
 * Elementary H.264/HEVC + AAC over RTP (RFC 6184/7798, RFC 3640) as MPEG-TS for the stream's pipeline: the receiver
 * authenticates, decrypts and reorders each medium, then hands the plain RTP packets to a local ffmpeg that reads
 * them with the SDP the encoder was given (the same description, core/streams/rtp-sdp.ts encoderSdp, pointed at
 * loopback ports) and copies them into MPEG-TS, which enters the session as an SRT connection's bytes do. ffmpeg's
 * RTP depacketizers are the tested implementations of those payload formats; the bytes it reads have already been
 * authenticated.
 */
export class ElementaryDemuxer {
  private exited = false;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly socket: Socket,
    private readonly ports: Record<MediaKind, number>,
    private readonly dir: string,
  ) {}

  static async start(o: {
    streamId: string;
    payload: 'h264' | 'hevc';
    ffmpegPath?: string;
    log: Logger;
    onData: (chunk: Buffer) => void;
    onExit: (reason: string) => void;
  }): Promise<ElementaryDemuxer> {
    const video = await freeUdpPortPair();
    const audio = await freeUdpPortPair();
    const described = encoderSdp({
      streamId: o.streamId,
      payload: o.payload,
      destination: { host: '127.0.0.1', port: video },
      srtpKey: null,
    });
    if (!described) throw new Error(`no SDP for payload ${o.payload}`);
    const sdp = renderSdp({
      ...described,
      media: described.media.map((m) => ({ ...m, port: m.kind === 'video' ? video : audio })),
    });
    const dir = mkdtempSync(join(tmpdir(), 'mirror-rtp-sdp-'));
    const file = join(dir, 'stream.sdp');
    writeFileSync(file, sdp);
    const proc = spawn(o.ffmpegPath ?? 'ffmpeg', demuxerArgs(file), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      // Bounded: the last 2 KB say why it stopped.
      stderr = (stderr + d.toString()).slice(-2048);
    });
    proc.stdout?.on('data', (chunk: Buffer) => o.onData(chunk));
    const socket = createSocket('udp4');
    const demuxer = new ElementaryDemuxer(proc, socket, { video, audio }, dir);
    proc.once('exit', (code, signal) => {
      demuxer.exited = true;
      if (code !== 0 && signal === null)
        o.log.warn('RTP demuxer stopped', { streamId: o.streamId, code, stderr });
      o.onExit(`RTP demuxer exited (${signal ?? code})`);
    });
    // Packets sent before ffmpeg has bound its ports are lost, and an encoder that sends its parameter sets only
    // with the first keyframe (x265's default) would never be decodable: the first packets wait until it listens.
    await untilBound([video, audio], () => demuxer.exited);
    return demuxer;
  }

  /** One authenticated, in-order, clear RTP packet of `kind`. */
  send(kind: MediaKind, packet: Uint8Array): void {
    if (!this.exited) this.socket.send(packet, this.ports[kind], '127.0.0.1');
  }

  stop(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
    this.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * ffmpeg's SDP input to MPEG-TS on stdout: only file/udp/rtp (the SDP names loopback ports), no reordering of its
 * own (the receiver did it), a short probe so the first keyframe is not held back long.
 */
export function demuxerArgs(sdpFile: string): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '0'],
    ...['-analyzeduration', '1000000', '-probesize', '1000000', '-fflags', '+genpts'],
    ...['-i', sdpFile, '-map', '0', '-c', 'copy', '-f', 'mpegts', 'pipe:1'],
  ];
}

const BIND_WAIT_MS = 3000;

/** Until a UDP socket is bound on each port (Linux /proc/net/udp), at most BIND_WAIT_MS. */
async function untilBound(ports: readonly number[], gaveUp: () => boolean): Promise<void> {
  const hex = ports.map((p) => `:${p.toString(16).toUpperCase().padStart(4, '0')} `);
  for (const deadline = Date.now() + BIND_WAIT_MS; Date.now() < deadline && !gaveUp(); ) {
    let table: string;
    try {
      table = readFileSync('/proc/net/udp', 'utf8');
    } catch {
      // Not Linux: give ffmpeg the time it takes here (about 100 ms) with room.
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    if (hex.every((h) => table.includes(h))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An even port whose next is free too (ffmpeg binds RTCP at RTP + 1). */
async function freeUdpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const first = await bindable(0);
    const port = first - (first % 2);
    if ((await bindable(port).catch(() => 0)) && (await bindable(port + 1).catch(() => 0))) return port;
  }
  throw new Error('no free UDP port pair for the RTP demuxer');
}

function bindable(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => {
      const bound = s.address().port;
      s.close(() => resolve(bound));
    });
  });
}

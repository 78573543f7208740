import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { HttpApp, HttpRequest } from '../../core/http.js';
import { freePort } from '../support/ports.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

export interface TestEdge {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A tiny stand-in for the local edge: /api/control and /api/sessions go to the handlers' apps, media paths
 * (`/{streamId}/...`) to a directory per stream, everything else to the built web app.
 */
export async function startTestEdge(options: {
  control: HttpApp;
  session: HttpApp;
  webDir: string;
  mediaDir: (streamId: string) => string | undefined;
}): Promise<TestEdge> {
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://edge');
      const path = url.pathname;
      const app = path.startsWith('/api/control')
        ? options.control
        : path.startsWith('/api/sessions')
          ? options.session
          : undefined;
      if (app) {
        const response = await app.handle(await toRequest(req, url));
        res.writeHead(response.status, response.headers);
        res.end(response.body);
        return;
      }
      const media = /^\/([a-z0-9][a-z0-9-]*)\/(.+\.(?:m3u8|m4s|mp4))$/.exec(path);
      let file: string | undefined;
      if (media) {
        const dir = options.mediaDir(media[1] as string);
        file = dir && join(dir, normalize(media[2] as string).replace(/^(\.\.[/\\])+/, ''));
      } else {
        const rel = path.endsWith('/') ? `${path}index.html` : path;
        file = join(options.webDir, normalize(rel).replace(/^(\.\.[/\\])+/, ''));
      }
      try {
        const body = await readFile(file as string);
        res.writeHead(200, {
          'content-type': TYPES[extname(file as string)] ?? 'application/octet-stream',
          'cache-control': 'no-cache',
        });
        res.end(body);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function toRequest(req: IncomingMessage, url: URL): Promise<HttpRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[name] = value;
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined,
    sourceIp: req.socket.remoteAddress,
  };
}

/**
 * A live H.264 stream in two renditions, written by ffmpeg's own HLS muxer as fMP4 in the D2 layout:
 * `master.m3u8`, `720p/playlist.m3u8`, `360p/playlist.m3u8` (sizes kept small for two cores: 640x360 and
 * 320x180 stand in for the 720p and 360p rungs). Program date times let the viewer measure latency.
 */
export async function startLiveHls(dir: string, source: string): Promise<{ stop(): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', `${source}=size=640x360:rate=30`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-filter_complex', '[0:v]split=2[a][b];[b]scale=320:180[c]'],
    ...['-map', '[a]', '-map', '[c]', '-map', '1:a', '-map', '1:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ...['-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-b:v:0', '800k', '-b:v:1', '300k'],
    ...['-c:a', 'aac', '-b:a', '64k'],
    ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '6'],
    ...['-hls_flags', 'delete_segments+program_date_time+independent_segments+temp_file'],
    ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init-%v.mp4'],
    ...['-hls_segment_filename', '%v/seg-%d.m4s', '-master_pl_name', 'master.m3u8'],
    ...['-var_stream_map', 'v:0,a:0,name:720p v:1,a:1,name:360p', '%v/playlist.m3u8'],
  ];
  const proc: ChildProcess = spawn('ffmpeg', args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  // Live once the first segments of both renditions exist.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const text = await readFile(join(dir, '360p', 'playlist.m3u8'), 'utf8');
      await readFile(join(dir, 'master.m3u8'), 'utf8');
      if ((text.match(/seg-\d+\.m4s/g) ?? []).length >= 2) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error('ffmpeg did not start a live HLS stream');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}

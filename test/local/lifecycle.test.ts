import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { portFree } from '../../local/checks.js';
import { running as alive } from '../support/processes.js';

/** Every descendant of pid (children, grandchildren...). */
function descendants(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  const children = out === '' ? [] : out.split('\n').map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mirror-run-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start (local/run.ts)', () => {
  it('prints the URLs, serves the web app and control API over HTTP/2, and Ctrl-C leaves nothing running', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'local/run.ts',
        '--streams',
        '1',
        '--port',
        '0',
        '--http-port',
        '0',
        '--srt-port',
        '0',
        '--rtp-port',
        '0',
        '--redis-port',
        '0',
        '--status-every',
        '1',
      ],
      // Its own process group, so the test can send SIGINT the way a terminal's Ctrl-C does: to the
      // whole foreground group (run.ts and every child it did not put in a group of its own).
      {
        env: { ...process.env, MIRROR_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const group = -(child.pid as number);
    onTestFinished(() => {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        // the group has exited
      }
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const deadline = Date.now() + 45_000;
    while (
      !/cam-1\s/.test(output.split('Ctrl-C')[1] ?? '') &&
      Date.now() < deadline &&
      child.exitCode === null
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('Mirror is running.');
    const https = /Viewer\s+(https:\/\/localhost:\d+)\//.exec(output)?.[1];
    const http = /Plain HTTP\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
    const token = /Bearer ([A-Za-z0-9_-]+)\)/.exec(output)?.[1];
    const srtPort = Number(/SRT ingest\s+srt:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(https && http && token).toBeTruthy();
    // One AAC frame per PES (-pes_payload_size 0), else ffmpeg's muxer packs ~350 ms of audio and parts burst.
    expect(output).toMatch(
      /ffmpeg -re .* -f mpegts -pes_payload_size 0 'srt:\/\/127\.0\.0\.1:\d+\?streamid=/,
    );
    expect(output).toContain('OBS: Settings > Stream');
    expect(output).toMatch(
      /\(the parts: streamid #!::r=studio,m=publish,s=\S+, passphrase \S+, pbkeylen 16\)/,
    );
    // RTP (decision D46): the listener, and a ready MPEG-TS over SRTP command for `studio-rtp` with its 40-char key.
    expect(output).toMatch(/RTP ingest\s+rtp:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(
      /ffmpeg -re .* -f rtp_mpegts -srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params '?[A-Za-z0-9+/]{40}'? srtp:\/\/127\.0\.0\.1:\d+/,
    );

    // The viewer page over HTTP/2 (TLS, self-signed), the control API with the printed token.
    const client = connect(https as string, { rejectUnauthorized: false });
    const h2 = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = client.request({ ':path': path, ...headers });
        let status = 0;
        let body = '';
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => {
          body += d;
        });
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
    expect((await h2('/')).status).toBe(200);
    expect((await h2('/api/control/streams')).status).toBe(401);
    const list = await h2('/api/control/streams', { authorization: `Bearer ${token}` });
    expect(list.status).toBe(200);
    expect(list.body).toContain('cam-1');
    client.close();

    const pids = descendants(child.pid as number);
    expect(pids.length).toBeGreaterThan(0);
    const httpsPort = Number(new URL(https as string).port);
    const httpPort = Number(new URL(http as string).port);
    const beforeStop = output.length;
    process.kill(group, 'SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toContain('Stopped.');
    expect(code).toBe(0);
    // Redis clients disconnect before redis-server stops: ioredis has nothing to complain about.
    const shutdown = output.slice(beforeStop);
    expect(shutdown).not.toMatch(/Unhandled error|ECONNREFUSED/);
    expect(shutdown).not.toMatch(/stop step failed|✗/);
    await new Promise((r) => setTimeout(r, 200));
    const left = pids
      .filter(alive)
      .map((pid) =>
        spawnSync('ps', ['-o', 'pid=,args=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim(),
      );
    expect(left).toEqual([]);
    expect(await portFree(httpsPort, 'tcp')).toBe(true);
    expect(await portFree(httpPort, 'tcp')).toBe(true);
    expect(await portFree(srtPort, 'udp')).toBe(true);
  });
});

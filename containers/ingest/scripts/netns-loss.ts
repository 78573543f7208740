/**
 * SRT over a lossy, delayed link between two network namespaces, into the real ingest service; checks the output
 * has no gap. The kernel here has no netem, so: loss with nftables (numgen random) inside the encoder's namespace,
 * both directions; delay with a UDP relay that forwards each datagram after a timer.
 *
 *   encoder ns (ffmpeg SRT caller) --veth, 5% loss each way--> host: relay (+delay each way) -> ingest SRT listener
 *
 * Run as root: npx tsx containers/ingest/scripts/netns-loss.ts [seconds=20] [lossPercent=5] [rttMs=40] [low|standard]
 * Prints SRT statistics and the output's timestamp gaps; exits 1 on a gap.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamKeys } from '../../../core/streams/keys.js';
import { SRT_LATENCY_MS, type LegacyStreamRecord as StreamRecord } from '../../../core/streams/schema.js';
import { realTimeClipInput } from '../../../local/encoders/args.js';
import { freeUdpPort, makeClip, waitFor } from '../../../test/ingest/media.js';
import { CollectingSinks } from '../../../test/ingest/sinks.js';
import { startRedis } from '../../../test/support/redis.js';
import { startIngestService } from '../src/service.js';

export const NS = 'mirror-enc';
const HOST_IF = 'mirror-h0';
export const NS_IF = 'mirror-e0';
export const HOST_IP = '10.77.0.1';
const NS_IP = '10.77.0.2';

function sh(args: string[], allowFail = false): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** One encoder namespace and its veth link to the host; trials that may run at once use different ones. */
export interface NetnsLink {
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
}
export const SRT_LINK: NetnsLink = { ns: NS, hostIf: HOST_IF, nsIf: NS_IF, hostIp: HOST_IP, nsIp: NS_IP };

export function teardownNetns(link: NetnsLink = SRT_LINK): void {
  sh(['ip', 'netns', 'del', link.ns], true);
  sh(['ip', 'link', 'del', link.hostIf], true);
}

export function setupNetns(lossPercent: number, link: NetnsLink = SRT_LINK): void {
  const { ns, hostIf, nsIf } = link;
  teardownNetns(link);
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
  sh(['ip', 'link', 'set', nsIf, 'netns', ns]);
  sh(['ip', 'addr', 'add', `${link.hostIp}/24`, 'dev', hostIf]);
  sh(['ip', 'link', 'set', hostIf, 'up']);
  sh(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${link.nsIp}/24`, 'dev', nsIf]);
  sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up']);
  sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  const rules = [
    'add table inet mirror',
    'add chain inet mirror out { type filter hook output priority 0; }',
    'add chain inet mirror in { type filter hook input priority 0; }',
    `add rule inet mirror out oifname ${nsIf} meta l4proto udp numgen random mod 100 < ${lossPercent} counter drop`,
    `add rule inet mirror in iifname ${nsIf} meta l4proto udp numgen random mod 100 < ${lossPercent} counter drop`,
  ];
  for (const rule of rules) sh(['ip', 'netns', 'exec', ns, 'nft', ...rule.split(' ')]);
}

/** Forwards datagrams between callers and one upstream, each direction after `delayMs`. */
export async function startDelayRelay(listenHost: string, upstreamPort: number, delayMs: number) {
  const front = createSocket('udp4');
  const upstreams = new Map<string, Socket>();
  front.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      const socket = createSocket('udp4');
      socket.on('message', (reply: Buffer) => {
        setTimeout(() => front.send(reply, from.port, from.address), delayMs);
      });
      socket.bind(0, '127.0.0.1');
      upstreams.set(key, socket);
      up = socket;
    }
    const target = up;
    setTimeout(() => target.send(msg, upstreamPort, '127.0.0.1'), delayMs);
  });
  const port = await new Promise<number>((resolve) =>
    front.bind(0, listenHost, () => resolve(front.address().port)),
  );
  return {
    port,
    close() {
      front.close();
      for (const s of upstreams.values()) s.close();
    },
  };
}

/** The relay runs in its own process so its timers do not share an event loop with the service under test. */
async function spawnRelay(upstreamPort: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      'relay',
      HOST_IP,
      String(upstreamPort),
      String(delayMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return { port, close: () => child.kill('SIGKILL') };
}

function nftCounters(): string {
  return sh(['ip', 'netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'mirror'], true)
    .split('\n')
    .filter((l) => l.includes('counter'))
    .map((l) => l.trim().replace(/.*counter /, ''))
    .join('; ');
}

export interface LossTrialResult {
  seconds: number;
  srt: Record<string, unknown> | undefined;
  videoFrames: number;
  maxGapMs: number;
  decodeErrors: string;
  dropCounters: string;
}

export async function runLossTrial(options: {
  seconds: number;
  lossPercent: number;
  rttMs: number;
  latency?: StreamRecord['latency'];
}): Promise<LossTrialResult> {
  const redis = await startRedis();
  const client = redis.client();
  const now = new Date().toISOString();
  const rec: StreamRecord = {
    id: 'lossy',
    name: 'lossy link',
    ladder: 'passthrough',
    latency: options.latency ?? 'low',
    latencyProfile: 'low',
    publishKey: 'lossy-link-publish-key',
    passphrase: 'lossy link passphrase',
    keyLength: 16,
    createdAt: now,
    updatedAt: now,
  };
  await client.set(streamKeys.record(rec.id), JSON.stringify(rec));
  await client.zadd(streamKeys.index, Date.now(), rec.id);
  const sinks = new CollectingSinks();
  const srtPort = await freeUdpPort();
  setupNetns(options.lossPercent);
  const service = await startIngestService({
    redis: client,
    taskId: 'netns',
    sinks,
    srtPort,
    srtHost: '127.0.0.1',
    healthPort: null,
    gpu: { available: false, detail: 'netns trial' },
  });
  const relay = await spawnRelay(srtPort, options.rttMs / 2);
  const clip = makeClip({ codec: 'h264', width: 640, height: 360, seconds: 2 });
  const url = `srt://${HOST_IP}:${relay.port}?streamid=#!::r=${rec.id},m=publish,s=${rec.publishKey}&passphrase=${rec.passphrase}&pbkeylen=16&latency=${SRT_LATENCY_MS[rec.latency] * 1000}`;
  const caller = spawn(
    'ip',
    ['netns', 'exec', NS, 'ffmpeg', ...realTimeClipInput(clip), '-c', 'copy', '-f', 'mpegts', url],
    { stdio: 'ignore' },
  );
  let srt: Record<string, unknown> | undefined;
  try {
    await waitFor('live', () => service.status(rec.id)?.state === 'live', 15_000);
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    await new Promise((r) => setTimeout(r, 1500));
    srt = service.status(rec.id)?.srt as Record<string, unknown> | undefined;
  } finally {
    caller.kill('SIGINT');
    await new Promise((r) => caller.once('exit', r));
  }
  const dropCounters = nftCounters();
  await service.stop();
  relay.close();
  teardownNetns();
  await redis.stop();

  const dir = mkdtempSync(join(tmpdir(), 'mirror-netns-'));
  const out = join(dir, 'out.mp4');
  writeFileSync(out, sinks.bytes(`${rec.id}/source`));
  const probe = sh([
    'ffprobe',
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    '-of',
    'csv=p=0',
    out,
  ]);
  const pts = probe
    .split('\n')
    .map(Number.parseFloat)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  let maxGapMs = 0;
  for (let i = 1; i < pts.length; i++) maxGapMs = Math.max(maxGapMs, (pts[i]! - pts[i - 1]!) * 1000);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
  return {
    seconds: options.seconds,
    srt,
    videoFrames: pts.length,
    maxGapMs,
    decodeErrors: decode.stderr.trim(),
    dropCounters,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'relay') {
  const relay = await startDelayRelay(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
  console.log(relay.port);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 20);
  const lossPercent = Number(process.argv[3] ?? 5);
  const rttMs = Number(process.argv[4] ?? 40);
  const latency = (process.argv[5] ?? 'low') as StreamRecord['latency'];
  try {
    const r = await runLossTrial({ seconds, lossPercent, rttMs, latency });
    console.log(
      `netns-loss: ${seconds} s, ${lossPercent}% loss each way (nftables), ~${rttMs} ms RTT (relay), SRT latency ${SRT_LATENCY_MS[latency]} ms`,
    );
    console.log(`  nftables drops: ${r.dropCounters}`);
    console.log(`  SRT: ${JSON.stringify(r.srt)}`);
    console.log(
      `  output: ${r.videoFrames} video frames, largest timestamp step ${r.maxGapMs.toFixed(1)} ms, decode errors: ${r.decodeErrors === '' ? 'none' : r.decodeErrors.split('\n').length}`,
    );
    const ok = r.maxGapMs < 50 && r.decodeErrors === '' && Number(r.srt?.dropped ?? 0) === 0;
    console.log(ok ? '  no gap' : '  GAP OR DROPS');
    process.exit(ok ? 0 : 1);
  } finally {
    teardownNetns();
  }
}

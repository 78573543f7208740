// N simulated LL-HLS clients in one process (no decoding): each follows the live edge with blocking
// playlist requests (_HLS_msn/_HLS_part of the preload hint) and fetches every new part, as hls.js does.
// Run by bench/scale-sim.ts: node --import tsx bench/scale-client.ts <baseUrl> <playlistPath> <clients> <seconds>
import { Agent, request } from 'node:http';

const [baseUrl = '', playlistPath = '', clientsArg = '10', secondsArg = '20'] = process.argv.slice(2);
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const base = new URL(baseUrl);
const dir = playlistPath.slice(0, playlistPath.lastIndexOf('/') + 1);

const playlistMs: number[] = [];
const partMs: number[] = [];
const errors: Record<string, number> = {};
let partBytes = 0;

function get(path: string): Promise<{ status: number; body: Buffer; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The hint names `{broadcast}/part-{msn}-{part}.m4s` (decision D16). */
const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([0-9a-z]+)\/part-(\d+)-(\d+)\.m4s"/;

async function client(endAt: number): Promise<void> {
  let next: { broadcast: string; msn: number; part: number } | undefined;
  while (Date.now() < endAt) {
    try {
      const query = next === undefined ? '' : `?_HLS_msn=${next.msn}&_HLS_part=${next.part}`;
      const playlist = await get(`${playlistPath}${query}`);
      if (playlist.status !== 200) {
        errors[`playlist ${playlist.status}`] = (errors[`playlist ${playlist.status}`] ?? 0) + 1;
        next = undefined;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (next !== undefined) playlistMs.push(playlist.ms);
      const hint = HINT.exec(playlist.body.toString());
      if (hint === null) {
        errors['no preload hint'] = (errors['no preload hint'] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const hinted = { broadcast: hint[1]!, msn: Number(hint[2]), part: Number(hint[3]) };
      // The part the playlist just announced (the one before the hint), then follow the hint.
      if (next !== undefined) {
        const part = await get(`${dir}${next.broadcast}/part-${next.msn}-${next.part}.m4s`);
        if (part.status === 200) {
          partMs.push(part.ms);
          partBytes += part.body.byteLength;
        } else errors[`part ${part.status}`] = (errors[`part ${part.status}`] ?? 0) + 1;
      }
      next = hinted;
    } catch (error) {
      const key = error instanceof Error ? error.message.slice(0, 40) : 'error';
      errors[key] = (errors[key] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const endAt = Date.now() + seconds * 1000;
// Spread the starts over a second, as real viewers do not arrive in the same millisecond.
await Promise.all(
  Array.from({ length: clients }, (_, i) =>
    new Promise((r) => setTimeout(r, (i * 1000) / clients)).then(() => client(endAt)),
  ),
);
agent.destroy();
const pct = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return +(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0).toFixed(1);
};
process.stdout.write(
  `${JSON.stringify({
    clients,
    seconds,
    playlistRequests: playlistMs.length,
    partRequests: partMs.length,
    playlistP50Ms: pct(playlistMs, 50),
    playlistP99Ms: pct(playlistMs, 99),
    partP50Ms: pct(partMs, 50),
    partP99Ms: pct(partMs, 99),
    partMbps: +((partBytes * 8) / seconds / 1e6).toFixed(2),
    errors,
  })}\n`,
);

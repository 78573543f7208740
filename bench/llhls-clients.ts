// Simulated LL-HLS clients (no decoding): each follows the live edge with blocking playlist requests
// (_HLS_msn/_HLS_part of the preload hint) and fetches every new part, as hls.js does. Used by bench/scale-client.ts
// (the scale simulation's child process) and by the cost model's test (requests per client-second).
import { Agent, request } from 'node:http';

export interface LlhlsClientsOptions {
  /** The edge, e.g. http://127.0.0.1:8080 (HTTP/1.1 keep-alive). */
  readonly baseUrl: string;
  /** A media playlist, e.g. /cam-1/360p/playlist.m3u8. */
  readonly playlistPath: string;
  readonly clients: number;
  readonly seconds: number;
  /**
   * Requests before this many seconds into the run are not counted in `requestsPerClientSecond`: clients start
   * spread over the first second and catch up with the live edge first.
   */
  readonly warmupS?: number;
}

export interface LlhlsClientsResult {
  readonly clients: number;
  readonly seconds: number;
  readonly playlistRequests: number;
  readonly partRequests: number;
  readonly playlistP50Ms: number | null;
  readonly playlistP99Ms: number | null;
  readonly partP50Ms: number | null;
  readonly partP99Ms: number | null;
  readonly partMbps: number;
  /** Every request (playlist or part, any status) per client per second after the warm-up: what CloudFront bills. */
  readonly requestsPerClientSecond: number;
  /**
   * The same requests per second of media the clients followed (the playlist's DURATION of each part they fetched):
   * equal to requestsPerClientSecond when the encoder keeps real time, and free of its bursts when a loaded machine
   * makes it fall behind and catch up.
   */
  readonly requestsPerMediaSecond: number;
  readonly errors: Record<string, number>;
}

/** The hint names `{broadcast}/part-{msn}-{part}.m4s` (decision D16). */
const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([0-9a-z]+)\/part-(\d+)-(\d+)\.m4s"/;
/** After an error, as hls.js backs off before its retry. */
const ERROR_PAUSE_MS = 100;

/**
 * The DURATION the playlist gives the part at `uri`; its PART-TARGET when the part is no longer listed as a part (a
 * client that fell more than a few target durations behind fetches parts of segments the playlist lists whole).
 */
function partDurationS(playlist: string, uri: string): number {
  const line = playlist.split('\n').find((l) => l.startsWith('#EXT-X-PART:') && l.includes(`URI="${uri}"`));
  const listed = /DURATION=([\d.]+)/.exec(line ?? '')?.[1];
  return Number(listed ?? /#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(playlist)?.[1] ?? 0);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pct = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return +(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0).toFixed(1);
};

/** Runs `clients` simulated players for `seconds` and reports what they requested and how fast it came. */
export async function runLlhlsClients(options: LlhlsClientsOptions): Promise<LlhlsClientsResult> {
  const { clients, seconds, playlistPath } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const base = new URL(options.baseUrl);
  const dir = playlistPath.slice(0, playlistPath.lastIndexOf('/') + 1);
  const playlistMs: number[] = [];
  const partMs: number[] = [];
  const errors: Record<string, number> = {};
  let partBytes = 0;
  const startedAt = Date.now();
  const countFrom = startedAt + (options.warmupS ?? 0) * 1000;
  const endAt = startedAt + seconds * 1000;
  let counted = 0;
  let countedMediaS = 0;
  const fail = (key: string) => {
    errors[key] = (errors[key] ?? 0) + 1;
  };

  const inWindow = () => Date.now() >= countFrom && Date.now() <= endAt;
  const get = (path: string): Promise<{ status: number; body: Buffer; ms: number }> => {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request({ host: base.hostname, port: base.port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (inWindow()) counted++;
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  };

  const client = async (): Promise<void> => {
    let next: { broadcast: string; msn: number; part: number } | undefined;
    while (Date.now() < endAt) {
      try {
        const query = next === undefined ? '' : `?_HLS_msn=${next.msn}&_HLS_part=${next.part}`;
        const playlist = await get(`${playlistPath}${query}`);
        if (playlist.status !== 200) {
          fail(`playlist ${playlist.status}`);
          next = undefined;
          await pause(ERROR_PAUSE_MS);
          continue;
        }
        if (next !== undefined) playlistMs.push(playlist.ms);
        const hint = HINT.exec(playlist.body.toString());
        if (hint === null) {
          fail('no preload hint');
          await pause(ERROR_PAUSE_MS);
          continue;
        }
        const hinted = { broadcast: hint[1]!, msn: Number(hint[2]), part: Number(hint[3]) };
        // The part the playlist just announced (the one before the hint), then follow the hint.
        if (next !== undefined) {
          const uri = `${next.broadcast}/part-${next.msn}-${next.part}.m4s`;
          const part = await get(`${dir}${uri}`);
          if (part.status === 200) {
            partMs.push(part.ms);
            partBytes += part.body.byteLength;
            if (inWindow()) countedMediaS += partDurationS(playlist.body.toString(), uri);
          } else fail(`part ${part.status}`);
        }
        next = hinted;
      } catch (error) {
        fail(error instanceof Error ? error.message.slice(0, 40) : 'error');
        await pause(ERROR_PAUSE_MS);
      }
    }
  };

  // Spread the starts over a second, as real viewers do not arrive in the same millisecond.
  await Promise.all(Array.from({ length: clients }, (_, i) => pause((i * 1000) / clients).then(client)));
  agent.destroy();
  const countedS = Math.max(0.001, (endAt - countFrom) / 1000);
  return {
    clients,
    seconds,
    playlistRequests: playlistMs.length,
    partRequests: partMs.length,
    playlistP50Ms: pct(playlistMs, 50),
    playlistP99Ms: pct(playlistMs, 99),
    partP50Ms: pct(partMs, 50),
    partP99Ms: pct(partMs, 99),
    partMbps: +((partBytes * 8) / seconds / 1e6).toFixed(2),
    requestsPerClientSecond: counted / clients / countedS,
    requestsPerMediaSecond: countedMediaS > 0 ? counted / countedMediaS : 0,
    errors,
  };
}

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_RTP_PORT } from '../core/contracts/env.js';
import { LADDER_PRESETS, LadderPreset } from '../core/ladder.js';
import { DEFAULT_OPTIONS, type PlatformOptions } from './platform.js';

export const USAGE = `Usage: npm start -- [options]

  --streams N        synthetic encoders to start (default ${DEFAULT_OPTIONS.streams}; 0 = none, push your own)
  --ladder PRESET    ${LADDER_PRESETS.join(' | ')} (default ${DEFAULT_OPTIONS.ladder})
  --gpu MODE         auto | off (default ${DEFAULT_OPTIONS.gpu}; auto uses NVENC when an NVIDIA GPU is present)
  --port N           HTTPS/HTTP2 port of the edge (default ${DEFAULT_OPTIONS.httpsPort})
  --http-port N      plain HTTP/1.1 port of the edge (default ${DEFAULT_OPTIONS.httpPort})
  --srt-port N       UDP port of the SRT ingest (default ${DEFAULT_OPTIONS.srtPort})
  --rtp-port N       UDP port of the RTP ingest (default ${DEFAULT_RTP_PORT})
  --redis-port N     port of the private redis-server (default ${DEFAULT_OPTIONS.redisPort})
  --storage KIND     local | s3 (default local: media in .mirror/media; s3: the S3 implementation against
                     s3rver, objects in .mirror/s3, as on AWS)
  --status-every S   seconds between status lines (default 5; 0 = off)
  --playback-protection
                     check playback tokens at the edge (the CloudFront Function), as
                     delivery.playbackProtection on AWS (default off)
  -h, --help         this text
`;

const Port = z.coerce.number().int().min(0).max(65535);
const RunOptions = z.object({
  streams: z.coerce.number().int().min(0).max(25),
  ladder: LadderPreset,
  gpu: z.enum(['auto', 'off']),
  port: Port,
  'http-port': Port,
  'srt-port': Port,
  'rtp-port': Port,
  'redis-port': Port,
  storage: z.enum(['local', 's3']),
  'status-every': z.coerce.number().min(0).max(3600),
});

export type ParsedArgs =
  | { ok: true; help: boolean; platform: Partial<PlatformOptions>; statusEverySeconds: number }
  | { ok: false; error: string };

/** Command-line options; a bad one is named in one line. */
export function parseRunArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        streams: { type: 'string', default: String(DEFAULT_OPTIONS.streams) },
        ladder: { type: 'string', default: DEFAULT_OPTIONS.ladder },
        gpu: { type: 'string', default: DEFAULT_OPTIONS.gpu },
        port: { type: 'string', default: String(DEFAULT_OPTIONS.httpsPort) },
        'http-port': { type: 'string', default: String(DEFAULT_OPTIONS.httpPort) },
        'srt-port': { type: 'string', default: String(DEFAULT_OPTIONS.srtPort) },
        'rtp-port': { type: 'string', default: String(DEFAULT_RTP_PORT) },
        'redis-port': { type: 'string', default: String(DEFAULT_OPTIONS.redisPort) },
        storage: { type: 'string', default: 'local' },
        'status-every': { type: 'string', default: '5' },
        'playback-protection': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const parsed = RunOptions.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `--${String(issue?.path[0])}: ${issue?.message}` };
  }
  const v = parsed.data;
  return {
    ok: true,
    help: values.help === true,
    statusEverySeconds: v['status-every'],
    platform: {
      streams: v.streams,
      ladder: v.ladder,
      gpu: v.gpu,
      httpsPort: v.port,
      httpPort: v['http-port'],
      srtPort: v['srt-port'],
      rtpPort: v['rtp-port'],
      redisPort: v['redis-port'],
      storage: v.storage,
      playbackProtection: values['playback-protection'] === true,
    },
  };
}

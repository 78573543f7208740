// `npm start`: the whole platform on this machine, with synthetic encoders. See docs/local.md.
import { CONTROL_PATH, SESSIONS_PATH } from '../core/contracts/api-paths.js';
import { parseRunArgs, USAGE } from './args.js';
import {
  buildSrtAddon,
  type CheckFailure,
  checkCommands,
  checkFfmpeg,
  checkNode,
  checkPorts,
  formatFailure,
} from './checks.js';
import { DEFAULT_OPTIONS, type Platform, ROOT, startPlatform } from './platform.js';
import { formatStatusLine } from './status-line.js';

const args = parseRunArgs(process.argv.slice(2));
if (!args.ok) {
  console.error(`✗ ${args.error}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const options = {
  ...DEFAULT_OPTIONS,
  ...args.platform,
  dataDir: process.env.MIRROR_DATA_DIR ?? DEFAULT_OPTIONS.dataDir,
};

const failures: CheckFailure[] = [];
const node = checkNode();
if (node) failures.push(node);
failures.push(...checkCommands());
if (failures.length === 0) failures.push(...checkFfmpeg());
failures.push(
  ...(await checkPorts([
    { name: 'edge HTTPS', port: options.httpsPort, kind: 'tcp', option: '--port' },
    { name: 'edge HTTP', port: options.httpPort, kind: 'tcp', option: '--http-port' },
    { name: 'SRT ingest', port: options.srtPort, kind: 'udp', option: '--srt-port' },
    { name: 'RTP ingest', port: options.rtpPort ?? 0, kind: 'udp', option: '--rtp-port' },
    { name: 'redis-server', port: options.redisPort, kind: 'tcp', option: '--redis-port' },
  ])),
);
if (failures.length === 0) {
  const addon = buildSrtAddon(ROOT);
  if (addon) failures.push(addon);
}
if (failures.length > 0) {
  for (const failure of failures) console.error(formatFailure(failure));
  process.exit(1);
}

console.log(
  `Starting Mirror: ${options.streams} synthetic stream(s), ladder ${options.ladder}, GPU ${options.gpu}…`,
);
let platform: Platform;
try {
  platform = await startPlatform({ ...options, ingestLog: 'file', ownStream: true });
} catch (error) {
  console.error(`✗ ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const example = platform.streams[0];
const own = platform.streams.find((s) => !s.synthetic);
const lines = [
  '',
  'Mirror is running.',
  `  Viewer      ${platform.urls.viewer}   (HTTP/2, self-signed certificate: accept it once)`,
  `  Operator    ${platform.urls.operator}   (token ${platform.controlToken})`,
  `  Control API ${platform.urls.https}${CONTROL_PATH}/streams   (Authorization: Bearer ${platform.controlToken})`,
  `  Plain HTTP  ${platform.urls.http}/   (HTTP/1.1, for curl)`,
];
if (example !== undefined) {
  lines.push(`  Playlist    ${platform.urls.http}/${example.id}/master.m3u8`);
  lines.push(`              ${platform.urls.http}/${example.id}/${example.rendition}/playlist.m3u8`);
}
if (platform.options.playbackProtection === true) {
  lines.push(
    "  Protection  on: playlists and media answer 403 without the stream's mirror_play cookie or ?token=",
    `              (the viewer gets them from POST ${SESSIONS_PATH}; rotate: POST /api/control/playback-keys/rotate)`,
  );
}
if (platform.s3 !== undefined) {
  lines.push(
    `  Storage     s3rver ${platform.s3.endpoint}, bucket ${platform.s3.bucket} (objects under the data directory, s3/)`,
  );
}
lines.push(`  SRT ingest  ${platform.urls.srt}  (one UDP port; the streamid names the stream)`);
lines.push(
  `  RTP ingest  ${platform.urls.rtp}  (one UDP port; the SRTP key the packets authenticate with names the stream)`,
);
if (own !== undefined) {
  // The query is raw (see srtUrls): `new URL` would take the streamid's `#!::` for a fragment.
  const query = new URLSearchParams(own.srtUrl.slice(own.srtUrl.indexOf('?') + 1));
  lines.push(
    '',
    `Push your own feed to the stream "${own.id}" (it plays at ${platform.urls.http}/${own.id}/master.m3u8):`,
    `  ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine -c:v libx264 -preset veryfast -tune zerolatency -g 15 -c:a aac -f mpegts -pes_payload_size 0 '${own.srtUrl}'`,
    `  OBS: Settings > Stream > Service "Custom...", Server "${own.srtUrl}", Stream Key empty`,
    `       (the parts: streamid ${query.get('streamid') ?? ''}, passphrase ${query.get('passphrase') ?? ''}, pbkeylen ${query.get('pbkeylen') ?? ''})`,
  );
}
if (platform.rtpExample !== undefined) {
  const rtp = platform.rtpExample;
  lines.push(
    '',
    `Or over RTP (MPEG-TS, SRTP) to the stream "${rtp.id}", at ${rtp.url} (it plays at ${platform.urls.http}/${rtp.id}/master.m3u8):`,
    `  ${rtp.command}`,
  );
}
lines.push('', 'Ctrl-C stops everything.', '');
console.log(lines.join('\n'));

let timer: NodeJS.Timeout | undefined;
if (args.statusEverySeconds > 0) {
  timer = setInterval(() => {
    platform
      .status()
      .then((statuses) => {
        const stamp = new Date().toISOString().slice(11, 19);
        for (const status of statuses) console.log(`${stamp}  ${formatStatusLine(status)}`);
      })
      .catch((error: unknown) => console.error(`status: ${String(error)}`));
  }, args.statusEverySeconds * 1000);
}

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  if (timer !== undefined) clearInterval(timer);
  console.log(`\n${signal}: stopping everything…`);
  platform
    .stop()
    .then(() => {
      console.log('Stopped.');
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(`✗ stop failed: ${String(error)}`);
      process.exit(1);
    });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

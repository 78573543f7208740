import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** One failed pre-flight check: what is wrong and the exact fix, printed as one line. */
export interface CheckFailure {
  readonly problem: string;
  readonly fix: string;
}

export const MIN_NODE = [20, 11] as const;

/** Node's version against the engines field. */
export function checkNode(version = process.versions.node): CheckFailure | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return {
    problem: `Node.js ${version} is too old (Mirror needs ${MIN_NODE.join('.')} or later)`,
    fix: 'install Node.js 20 LTS or newer (https://nodejs.org or your distribution)',
  };
}

/** Commands Mirror runs, with the Debian package that provides each. */
export const REQUIRED_COMMANDS: Readonly<Record<string, string>> = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  'redis-server': 'redis-server',
  openssl: 'openssl',
};

function aptFix(packages: readonly string[]): string {
  const apt = `apt-get update && apt-get install -y ${[...new Set(packages)].join(' ')}`;
  return process.getuid?.() === 0 ? apt : `sudo ${apt.replace('&& apt-get', '&& sudo apt-get')}`;
}

export function checkCommands(
  commands: Readonly<Record<string, string>> = REQUIRED_COMMANDS,
): CheckFailure[] {
  const missing = Object.entries(commands).filter(([command]) => {
    const found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return found.status !== 0;
  });
  if (missing.length === 0) return [];
  return [
    {
      problem: `missing command${missing.length > 1 ? 's' : ''}: ${missing.map(([c]) => c).join(', ')}`,
      fix: aptFix(missing.map(([, p]) => p)),
    },
  ];
}

/** Whether `ffmpeg -protocols` output lists an input+output protocol. */
export function ffmpegHasProtocol(protocolsOutput: string, protocol: string): boolean {
  const [, input = '', output = ''] = /Input:\s*([\s\S]*?)Output:\s*([\s\S]*)/.exec(protocolsOutput) ?? [];
  const has = (section: string) => section.split(/\s+/).includes(protocol);
  return has(input) && has(output);
}

/** Whether `ffmpeg -encoders` output lists an encoder. */
export function ffmpegHasEncoder(encodersOutput: string, encoder: string): boolean {
  return encodersOutput.split('\n').some((line) => line.trim().split(/\s+/)[1] === encoder);
}

export function checkFfmpeg(ffmpeg = 'ffmpeg'): CheckFailure[] {
  const protocols = spawnSync(ffmpeg, ['-hide_banner', '-protocols'], { encoding: 'utf8' });
  if (protocols.status !== 0) return [];
  const failures: CheckFailure[] = [];
  if (!ffmpegHasProtocol(protocols.stdout, 'srt')) {
    failures.push({
      problem: 'ffmpeg was built without libsrt (no srt protocol)',
      fix: `use Debian/Ubuntu's ffmpeg, which has it: ${aptFix(['ffmpeg'])} (and remove other ffmpeg builds from PATH)`,
    });
  }
  const encoders = spawnSync(ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout ?? '';
  for (const encoder of ['libx265', 'libx264']) {
    if (!ffmpegHasEncoder(encoders, encoder)) {
      failures.push({
        problem: `ffmpeg has no ${encoder} encoder`,
        fix: `use Debian/Ubuntu's ffmpeg: ${aptFix(['ffmpeg'])}`,
      });
    }
  }
  return failures;
}

/** The SRT Node-API addon the ingest service loads. */
export function srtAddonPath(root: string): string {
  return join(root, 'containers', 'ingest', 'native', 'build', 'Release', 'mirror_srt.node');
}

export function buildSrtAddon(root: string): CheckFailure | undefined {
  if (!existsSync(join(root, 'containers', 'ingest', 'native', 'binding.gyp'))) return undefined;
  if (existsSync(srtAddonPath(root))) return undefined;
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
    stdio: 'inherit',
  });
  if (result.status === 0 && existsSync(srtAddonPath(root))) return undefined;
  return {
    problem: 'the SRT addon (containers/ingest/native) did not build',
    fix: `${aptFix(['libsrt-openssl-dev', 'pkg-config', 'g++', 'make', 'python3'])} && npm run build:native`,
  };
}

export type PortKind = 'tcp' | 'udp';

/** Whether a port can be bound on loopback now (0 = any, always free). */
export async function portFree(port: number, kind: PortKind, host = '127.0.0.1'): Promise<boolean> {
  if (port === 0) return true;
  return new Promise((resolve) => {
    if (kind === 'tcp') {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    } else {
      const socket = createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    }
  });
}

export async function checkPorts(
  ports: readonly {
    readonly name: string;
    readonly port: number;
    readonly kind: PortKind;
    readonly option: string;
  }[],
): Promise<CheckFailure[]> {
  const failures: CheckFailure[] = [];
  for (const { name, port, kind, option } of ports) {
    if (!(await portFree(port, kind))) {
      failures.push({
        problem: `${kind.toUpperCase()} port ${port} (${name}) is in use`,
        fix: `stop what uses it (ss -lnp${kind === 'udp' ? 'u' : 't'} 'sport = :${port}') or pass ${option} <another port>`,
      });
    }
  }
  return failures;
}

export function formatFailure(failure: CheckFailure): string {
  return `✗ ${failure.problem}. Fix: ${failure.fix}`;
}

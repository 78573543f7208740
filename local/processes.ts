import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

/** A child process the platform started and must stop. */
export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawn options for a child the platform stops itself: a process group of its own, so a terminal's
 * Ctrl-C (SIGINT to the whole foreground group) reaches only the platform's process, which then stops
 * the children in order. In the same group redis-server died at once and the platform's Redis
 * clients printed "[ioredis] Unhandled error event: ... ECONNREFUSED" while the ingest drained.
 */
export const OWN_PROCESS_GROUP = { detached: true } as const satisfies SpawnOptions;

/**
 * Out of the terminal's process group, a child would outlive a platform that dies without stopping it
 * (SIGKILL, a crash in native code): a failed test left redis-server, the ingest and ffmpeg running. Where
 * util-linux's setpriv can (Debian and Ubuntu ship it), the kernel sends the child SIGTERM when the platform's
 * process dies (PR_SET_PDEATHSIG); setpriv execs the command, so the child's pid is the command's.
 */
let deathSignalPrefix: readonly string[] | undefined;
function parentDeathPrefix(): readonly string[] {
  if (deathSignalPrefix === undefined) {
    const help = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
    deathSignalPrefix =
      help.status === 0 && help.stdout.includes('--pdeathsig')
        ? ['setpriv', '--pdeathsig', 'TERM', '--']
        : [];
  }
  return deathSignalPrefix;
}

/** Spawns a child the platform stops itself: its own process group, and ended by the kernel if the platform dies. */
export function spawnOwnGroup(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const [wrapper, ...wrapperArgs] = parentDeathPrefix();
  return wrapper === undefined
    ? spawn(command, args, { ...options, ...OWN_PROCESS_GROUP })
    : spawn(wrapper, [...wrapperArgs, command, ...args], { ...options, ...OWN_PROCESS_GROUP });
}

export function startManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Managed {
  const child = spawnOwnGroup(command, args, options);
  child.once('error', () => {
    // Reported by the caller through exitCode; an unhandled 'error' event would crash the platform.
  });
  return {
    name,
    child,
    stop: (graceMs = 5000) => terminate(child, graceMs),
  };
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited (at once if it is not running). */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** How a child ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** Sends `signal` and resolves once the process has exited (at once if it already has), with how it ended. */
export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  child.kill(signal);
  return exited;
}

/** redis-server on its own loopback port, without persistence (live state is rebuilt by the encoders). */
export async function startRedisServer(port: number): Promise<Managed & { readonly url: string }> {
  const managed = startManaged(
    'redis-server',
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {
      // Refused until redis-server listens; connect() rejects too and the loop retries.
    });
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (managed.child.exitCode !== null || Date.now() > deadline) {
        await managed.stop();
        throw new Error(`redis-server did not start on port ${port}: ${String(error)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { ...managed, url };
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { running as alive, processGroupOf } from '../support/processes.js';

const PROCESSES = fileURLToPath(new URL('../../local/processes.ts', import.meta.url));

describe('children the platform spawns', () => {
  it('run in their own process group and die with the platform even when it is SIGKILLed', async () => {
    // A stand-in platform: spawns `sleep 60` the platform's way, prints its pid and group, then waits.
    const script = `
      const { spawnOwnGroup } = await import(${JSON.stringify(PROCESSES)});
      const child = spawnOwnGroup('sleep', ['60'], { stdio: 'ignore' });
      child.on('spawn', () => console.log(JSON.stringify({ pid: child.pid })));
      setInterval(() => {}, 1000);
    `;
    const platform = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { pid } = await new Promise<{ pid: number }>((resolve) =>
      platform.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))),
    );
    expect(alive(pid)).toBe(true);
    // Its own group (a terminal's Ctrl-C to the platform's group does not reach it).
    expect(processGroupOf(pid)).toBe(pid);
    platform.kill('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 3000, interval: 50 }).toBe(false);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderTable } from '../../bench/faults-model.js';
import { runFaultSuite, type SuiteResult } from '../../bench/faults-run.js';

/**
 * The fault suite's short version (`npm run faults` runs all of it): the platform on s3rver with a real encoder and
 * hls.js in Chromium; the encoder's ffmpeg SIGKILLed, then redis-server killed and back (empty) after 3 s. Nothing
 * listed in a playlist may be missing, no key may be written twice, and the player must not fail.
 */
let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('the fault suite, short', () => {
  it('rides out an encoder SIGKILL and a Redis restart: nothing advertised is missing, no name reused, no fatal error', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mirror-faults-'));
    const result: SuiteResult = await runFaultSuite({
      faults: ['encoder-kill', 'redis'],
      outageS: 3,
      settleS: 15,
      lossS: 0,
      lossPercent: 0,
      ladder: 'tile',
      liveTtlS: 120,
      dataDir,
      log: () => undefined,
    });
    console.log(`${renderTable(result.rows)}\n${JSON.stringify(result.details)}`);
    expect(result.rows.map((row) => row.skipped ?? row.failed)).toEqual([undefined, undefined]);
    for (const row of result.rows) {
      expect(row, row.fault).toMatchObject({ missing: 0, reusedKeys: 0, fatalErrors: 0 });
      expect(row.recoveryS, `${row.fault}: recovered`).not.toBeNull();
    }
    // Everything listed was fetched once more at the end.
    expect(result.final.advertised).toBeGreaterThan(50);
    expect(result.final).toMatchObject({ missingAtEdge: 0, missingInStorage: 0, reusedKeys: 0 });
  }, 120_000);
});

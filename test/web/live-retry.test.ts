import { describe, expect, it } from 'vitest';
import { LIVE_ERROR_RETRY, LIVE_HLS_CONFIG, LIVE_TIMEOUT_RETRY } from '../../web/src/live-catchup.js';

/** hls.js 1.7's own retry decisions (src/utils/error-helper.ts), not a copy: the package does not export them. */
interface RetryHelpers {
  shouldRetry(
    config: unknown,
    retryCount: number,
    isTimeout: boolean,
    response: { code: number } | undefined,
  ): boolean;
  getRetryDelay(config: unknown, retryCount: number): number;
}
// A path in a variable keeps tsc from type-checking hls.js's sources; vitest transforms the TypeScript.
const HELPERS = '../../node_modules/hls.js/src/utils/error-helper.ts';
const hls = (await import(/* @vite-ignore */ HELPERS)) as RetryHelpers;

/** Every wait hls.js makes before giving up on a load that keeps failing (ms). */
const waits = (config: unknown, retries: number) =>
  Array.from({ length: retries }, (_, i) => hls.getRetryDelay(config, i));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('the live player rides out a minute of origin trouble', () => {
  const policies = ['manifestLoadPolicy', 'playlistLoadPolicy', 'fragLoadPolicy'] as const;

  it.each(policies)(
    '%s retries 503 (and 500, 502, 504) for about a minute, with waits of at most 1 s',
    (name) => {
      const { errorRetry } = LIVE_HLS_CONFIG[name].default;
      for (const code of [500, 502, 503, 504]) {
        expect(hls.shouldRetry(errorRetry, 0, false, { code }), `${code}`).toBe(true);
        expect(hls.shouldRetry(errorRetry, errorRetry.maxNumRetry - 1, false, { code })).toBe(true);
        expect(hls.shouldRetry(errorRetry, errorRetry.maxNumRetry, false, { code })).toBe(false);
      }
      const delays = waits(errorRetry, errorRetry.maxNumRetry);
      expect(delays.slice(0, 4)).toEqual([250, 500, 1000, 1000]);
      expect(Math.max(...delays)).toBe(1000);
      // The waits alone cover 55 s; each failed request adds its own time (a 503 within ~1 s during a Redis hang).
      expect(sum(delays)).toBeGreaterThanOrEqual(55_000);
    },
  );

  it.each(policies)('%s still gives up at once on a 404 (a stream never live, or gone for good)', (name) => {
    expect(hls.shouldRetry(LIVE_HLS_CONFIG[name].default.errorRetry, 0, false, { code: 404 })).toBe(false);
  });

  it.each(policies)('%s retries timeouts for a minute of first-byte limits', (name) => {
    const { timeoutRetry, maxTimeToFirstByteMs } = LIVE_HLS_CONFIG[name].default;
    expect(hls.shouldRetry(timeoutRetry, timeoutRetry.maxNumRetry - 1, true, undefined)).toBe(true);
    const attempts = timeoutRetry.maxNumRetry + 1;
    expect(
      attempts * maxTimeToFirstByteMs + sum(waits(timeoutRetry, timeoutRetry.maxNumRetry)),
    ).toBeGreaterThanOrEqual(60_000);
  });

  it('is plain data: the latency harness and the fault suite pass it to the page as JSON', () => {
    expect(JSON.parse(JSON.stringify(LIVE_HLS_CONFIG))).toEqual(LIVE_HLS_CONFIG);
    expect(LIVE_HLS_CONFIG.playlistLoadPolicy.default.errorRetry).toBe(LIVE_ERROR_RETRY);
    expect(LIVE_HLS_CONFIG.fragLoadPolicy.default.timeoutRetry).toBe(LIVE_TIMEOUT_RETRY);
  });
});

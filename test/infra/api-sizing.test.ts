import { describe, expect, it } from 'vitest';
import { viewerApiSizing } from '../../core/sessions/api-sizing.js';
import { HEARTBEAT } from '../../core/sessions/heartbeat-policy.js';
import { ConfigError, loadStageConfig } from '../../infra/config.js';
import { onlyResource, synthStage } from './synth.js';

/**
 * The viewer API is sized from one config field, `audience.expectedViewers` (D27): the HTTP API's stage throttle and
 * the session function's reserved concurrency follow from it and the heartbeat policy, never from constants.
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

describe('viewer API arithmetic', () => {
  it('counts a viewer’s calls from the heartbeat policy: a stable beat, changes with their fast beats, sessions', () => {
    const { requestsPerViewerSecond: r } = viewerApiSizing(1);
    // 1/30 s stable + 12 changes/h x (1 beat after the change + 10 s / 2 s fast beats).
    expect(r.heartbeats).toBeCloseTo(1 / 30 + (12 / 3600) * (1 + HEARTBEAT.settleMs / HEARTBEAT.fastMs), 6);
    expect(r.changes).toBeCloseTo(12 / 3600, 6);
    // A create and an end per 30-minute session.
    expect(r.sessions).toBeCloseTo(2 / 1800, 6);
    expect(r.total).toBeCloseTo(0.0578, 4);
  });

  it('sizes the seed’s audience: 125,000 viewers', () => {
    const sizing = viewerApiSizing(125_000);
    // 125,000 x 0.0578 + 13 regional caches / 2 s of stream-list misses.
    expect(Math.round(sizing.sessionRequestsPerSecond)).toBe(7229);
    // (7,229 + 50 operator calls) x 1.5, in tens.
    expect(sizing.throttle).toEqual({ rateLimit: 10_920, burstLimit: 21_840 });
    // 7,229/s x 20 ms x 2.
    expect(sizing.sessionConcurrency).toBe(290);
  });

  it('keeps floors for a small stage', () => {
    expect(viewerApiSizing(10).throttle.rateLimit).toBe(100);
    expect(viewerApiSizing(10).sessionConcurrency).toBe(10);
  });
});

describe('the stage config field', () => {
  it('defaults to 1,000 viewers, 125,000 in prod', () => {
    expect(loadStageConfig('dev').audience.expectedViewers).toBe(1_000);
    expect(loadStageConfig('prod').audience.expectedViewers).toBe(125_000);
  });

  it('refuses a value that is not a positive whole number, naming the field', () => {
    for (const bad of [0, -5, 2.5, '1000']) {
      expect(() => loadStageConfig('dev', { audience: { expectedViewers: bad } })).toThrow(
        /audience\.expectedViewers/,
      );
    }
    expect(() => loadStageConfig('dev', { audience: { viewers: 5 } })).toThrow(ConfigError);
  });

  it('refuses reservations the account quota cannot hold, saying what to request', () => {
    // prod: manifest 800 (derived) + session 290 = 1,090 reserved; a default quota of 1,000 leaves 900.
    expect(() => loadStageConfig('prod', { audience: { lambdaConcurrencyQuota: 1_000 } })).toThrow(
      /audience\.lambdaConcurrencyQuota.*reserve 1090 .*at least 1190/,
    );
    expect(loadStageConfig('prod', { audience: { lambdaConcurrencyQuota: 1_190 } }).audience).toMatchObject({
      lambdaConcurrencyQuota: 1_190,
    });
    // dev at the default quota: 160 + 10 fits; 1,500,000 viewers (session 3,470) do not.
    expect(loadStageConfig('dev').audience.lambdaConcurrencyQuota).toBe(1_000);
    expect(() => loadStageConfig('dev', { audience: { expectedViewers: 1_500_000 } })).toThrow(
      /lambdaConcurrencyQuota/,
    );
  });
});

describe('synthesized limits follow the config', () => {
  const { platform } = synthStage('dev', { audience: { expectedViewers: 250_000 } });
  const sizing = viewerApiSizing(250_000);

  it('throttles the HTTP API stage at the derived rate and burst', () => {
    const stage = onlyResource(platform, 'AWS::ApiGatewayV2::Stage').properties as Json;
    expect(stage.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: sizing.throttle.rateLimit,
      ThrottlingBurstLimit: sizing.throttle.burstLimit,
    });
    expect(sizing.throttle.rateLimit).toBe(21_760);
  });

  it('reserves the derived concurrency for the session function', () => {
    const functions = Object.values(platform.findResources('AWS::Lambda::Function')) as Json[];
    const session = functions.find(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'session',
    );
    expect(session.Properties.ReservedConcurrentExecutions).toBe(sizing.sessionConcurrency);
    expect(sizing.sessionConcurrency).toBe(580);
  });
});

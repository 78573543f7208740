import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonLogger } from '../../core/adapters/json-logger.js';

// D34: the functions log through JsonLogger instead of Powertools. Each case makes the same calls on both, in the same
// environment and at the same instant, and expects the same lines on the same streams.

type Line = { stream: 'debug' | 'info' | 'warn' | 'error'; line: string };

function sinkInto(lines: Line[]) {
  const to = (stream: Line['stream']) => (line: unknown) => lines.push({ stream, line: String(line) });
  return { debug: to('debug'), info: to('info'), warn: to('warn'), error: to('error') };
}

function powertools(level: string, lines: Line[]): Logger {
  const logger = new Logger({ serviceName: 'session', logLevel: level as 'INFO' });
  // Powertools writes through its own Console (as JsonLogger does): route it into the array.
  const sink = sinkInto(lines);
  Object.assign(logger as unknown as { console: unknown }, { console: { ...sink, log: sink.info } });
  return logger;
}

type Calls = (logger: Pick<JsonLogger, 'debug' | 'info' | 'warn' | 'error'>) => void;

function both(calls: Calls, level = 'INFO', env: Record<string, string> = {}) {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const expected: Line[] = [];
  const actual: Line[] = [];
  calls(powertools(level, expected) as unknown as JsonLogger);
  calls(new JsonLogger('session', { level, sink: sinkInto(actual) }));
  return { expected, actual };
}

const failure = () => {
  const cause = new Error('connect ECONNREFUSED 10.0.0.1:6379');
  Object.assign(cause, { code: 'ECONNREFUSED', errno: -111 });
  const error = new Error('the live state store is unreachable', { cause });
  Object.assign(error, { status: 503 });
  return error;
};

describe('JsonLogger writes what Powertools Logger writes (D34)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T07:00:00.123Z'));
    for (const key of [
      'AWS_LAMBDA_LOG_LEVEL',
      'POWERTOOLS_LOG_LEVEL',
      'LOG_LEVEL',
      '_X_AMZN_TRACE_ID',
      'TZ',
    ]) {
      vi.stubEnv(key, undefined);
    }
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('messages with extra keys, nested values, empty values and bigints, on their streams', () => {
    const { expected, actual } = both((log) => {
      log.info('Redis reachable again', { client: 'functions', downMs: 1234 });
      log.warn('Redis unreachable', { client: 'functions', error: 'connect ECONNREFUSED' });
      log.info('nested', { a: { b: [1, 'two', { c: null }] }, empty: '', none: null, gone: undefined });
      log.info('big', { bytes: 2n ** 70n }, { later: true });
      log.error('string extra', 'just a string');
    });
    expect(actual).toEqual(expected);
    expect(actual.map((l) => l.stream)).toEqual(['info', 'warn', 'info', 'info', 'error']);
    expect(JSON.parse(actual[0]!.line)).toEqual({
      level: 'INFO',
      message: 'Redis reachable again',
      timestamp: '2026-12-01T07:00:00.123Z',
      service: 'session',
      sampling_rate: 0,
      client: 'functions',
      downMs: 1234,
    });
  });

  it('errors: as the extra argument, inside an object, with a cause and fields of their own', () => {
    // One error for both loggers: its stack names the line that built it.
    const error = failure();
    const { expected, actual } = both((log) => {
      log.error('request failed', error);
      log.error('request failed', { error, path: '/api/sessions' });
      log.error('not an error', { error: { name: 'Error', message: 'plain' } });
    });
    expect(actual).toEqual(expected);
    const logged = JSON.parse(actual[0]!.line) as { error: Record<string, unknown> };
    expect(logged.error).toMatchObject({ name: 'Error', status: 503, cause: { code: 'ECONNREFUSED' } });
    expect(String(logged.error.location)).toContain('json-logger.test.ts');
  });

  it('reserved keys are dropped with a warning, circular references dropped', () => {
    const { expected, actual } = both((log) => {
      const loop: Record<string, unknown> = { name: 'loop' };
      loop.self = loop;
      log.info('reserved', { service: 'spoofed', level: 'ERROR', kept: 1 });
      log.info('circular', { loop });
    });
    expect(actual).toEqual(expected);
    expect(actual).toHaveLength(4);
  });

  it('levels: MIRROR_LOG_LEVEL as createLogger passes it, Lambda ALC first, the X-Ray trace id', () => {
    const calls: Calls = (log) => {
      log.debug('debug line', { n: 1 });
      log.info('info line');
      log.warn('warn line');
      log.error('error line');
    };
    const cases: [string, Record<string, string>][] = [
      ['INFO', {}],
      ['debug', {}],
      ['ERROR', {}],
      ['verbose', { POWERTOOLS_LOG_LEVEL: 'WARN' }],
      ['verbose', {}],
      ['DEBUG', { AWS_LAMBDA_LOG_LEVEL: 'FATAL' }],
      ['ERROR', { AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
      [
        'INFO',
        { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
      ],
    ];
    for (const [level, env] of cases) {
      const { expected, actual } = both(calls, level, env);
      expect(actual, `${level} ${JSON.stringify(env)}`).toEqual(expected);
      vi.unstubAllEnvs();
    }
  });

  it('warns at construction when Lambda ALC is stricter than the configured level', () => {
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'WARN');
    // Powertools warns from its constructor, before a test can replace its console: read its stderr.
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk).trimEnd());
      return true;
    });
    new Logger({ serviceName: 'session', logLevel: 'INFO' });
    spy.mockRestore();
    const actual: Line[] = [];
    new JsonLogger('session', { level: 'INFO', sink: sinkInto(actual) });
    expect(written).toHaveLength(1);
    expect(actual).toEqual([{ stream: 'warn', line: written[0] }]);
  });
});

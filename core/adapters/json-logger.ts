import { Console } from 'node:console';
import type { Logger } from '../logger.js';
import { bundleStackMapper, type StackMapper } from './stack-map.js';

/**
 * The Lambda functions' logger (decision D34): the JSON lines Powertools Logger writes for the calls Mirror makes,
 * without loading Powertools. Powertools Logger and its commons were about 21 KB of every handler bundle and 5-6 ms
 * of CPU of every cold start (bench/cold-start.ts, "part:" rows), for features the functions never used (buffering,
 * sampling, Lambda context injection, child loggers). Containers and the local platform keep Powertools
 * (core/adapters/log.ts); test/core/json-logger.test.ts holds this one to Powertools' output, line for line.
 *
 * Kept from Powertools: the keys and their order (level, message, timestamp, service, sampling_rate, xray_trace_id,
 * then the call's own keys), reserved keys dropped with a warning, empty values (undefined, null, '') dropped at the
 * top level, an Error extra as `error`, a string extra as `extra`, errors anywhere formatted as
 * { name, location, message, stack, cause, own fields }, bigints as strings, circular references dropped, the level
 * from Lambda's Advanced Logging Controls first (AWS_LAMBDA_LOG_LEVEL, FATAL = CRITICAL), then MIRROR_LOG_LEVEL
 * (default INFO), warn and error on stderr through a private Console (Lambda's patched global console would wrap
 * the line). Not kept, as Mirror sets none of them on a function: POWERTOOLS_DEV pretty-printing, a TZ other than
 * UTC, log sampling (sampling_rate is always 0) and log buffering.
 */

const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type LevelName = keyof typeof LEVELS;
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

function levelOf(name: string | undefined): LevelName | undefined {
  const upper = name?.toUpperCase();
  return upper !== undefined && upper in LEVELS ? (upper as LevelName) : undefined;
}

/** Lambda's Advanced Logging Controls level, which wins over any other (FATAL is Powertools' CRITICAL). */
function alcLevel(env: NodeJS.ProcessEnv): LevelName | undefined {
  const name = env.AWS_LAMBDA_LOG_LEVEL === 'FATAL' ? 'CRITICAL' : env.AWS_LAMBDA_LOG_LEVEL;
  return name !== undefined && name in LEVELS ? (name as LevelName) : undefined;
}

/** The threshold Powertools would pick for `configured` (what createLogger passes it) in `env`. */
export function thresholdOf(configured: string, env: NodeJS.ProcessEnv): number {
  const chosen =
    alcLevel(env) ?? levelOf(configured) ?? levelOf(env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL) ?? 'INFO';
  return LEVELS[chosen];
}

/** Powertools' trace id: the Root field of _X_AMZN_TRACE_ID (or the runtime's per-invocation store). */
function traceId(env: NodeJS.ProcessEnv): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } })
    .awslambda?.InvokeStore;
  const header = store?.getXRayTraceId() ?? env._X_AMZN_TRACE_ID ?? '';
  if (header === '') return undefined;
  if (!header.includes('=')) return header;
  for (const field of header.split(';')) {
    const [key, value] = field.split('=');
    if (key === 'Root') return value;
  }
  return undefined;
}

/** Powertools' `location`: the first `(file:line:column)` frame of the stack, as file:line. */
function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return '';
}

function formatError(error: Error, mapStack: StackMapper | undefined): Record<string, unknown> {
  const { name, message, cause, ...own } = error as Error & { cause?: unknown };
  const stack = mapStack && error.stack !== undefined ? mapStack(error.stack) : error.stack;
  const formatted: Record<string, unknown> = {
    name,
    location: codeLocation(stack),
    message,
    stack,
    cause: cause instanceof Error ? formatError(cause, mapStack) : cause,
  };
  for (const key in error) {
    if (!['name', 'message', 'stack', 'cause'].includes(key))
      formatted[key] = (own as Record<string, unknown>)[key];
  }
  return formatted;
}

/** Powertools' JSON replacer: errors formatted, bigints as strings, a value already on the path dropped. */
function replacer(
  mapStack: StackMapper | undefined,
): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key, value) {
    const replaced = value instanceof Error ? formatError(value, mapStack) : value;
    if (typeof replaced === 'bigint') return replaced.toString();
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

type Extra = Record<string, unknown> | Error | string | null | undefined;
type Sink = Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;

export interface JsonLoggerOptions {
  /** The level createLogger gives Powertools: MIRROR_LOG_LEVEL, INFO by default. */
  readonly level?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where lines go (tests); a private Console on stdout and stderr by default. */
  readonly sink?: Sink;
  /** Rewrites errors' stacks (and so their location) before they are written: bundle positions to source ones. */
  readonly mapStack?: StackMapper;
}

export class JsonLogger implements Logger {
  private readonly threshold: number;
  private readonly env: NodeJS.ProcessEnv;
  private out: Sink | undefined;
  private readonly mapStack: StackMapper | undefined;

  constructor(
    private readonly service: string,
    options: JsonLoggerOptions = {},
  ) {
    this.env = options.env ?? process.env;
    const level = options.level ?? 'INFO';
    this.threshold = thresholdOf(level, this.env);
    this.out = options.sink;
    this.mapStack = options.mapStack;
    const alc = alcLevel(this.env);
    const configured = levelOf(level);
    if (alc !== undefined && configured !== undefined && LEVELS[alc] > LEVELS[configured]) {
      this.warn(
        `Current log level (${configured}) does not match AWS Lambda Advanced Logging Controls minimum log level (${alc}). This can lead to data loss, consider adjusting them.`,
      );
    }
  }

  debug(message: string, ...extra: Extra[]): void {
    this.write('DEBUG', message, extra);
  }
  info(message: string, ...extra: Extra[]): void {
    this.write('INFO', message, extra);
  }
  warn(message: string, ...extra: Extra[]): void {
    this.write('WARN', message, extra);
  }
  error(message: string, ...extra: Extra[]): void {
    this.write('ERROR', message, extra);
  }

  private write(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR', message: string, extras: Extra[]): void {
    if (LEVELS[level] < this.threshold) return;
    const own: Record<string, unknown> = {};
    for (const extra of extras) {
      if (extra === undefined || extra === null) continue;
      if (extra instanceof Error) own.error = extra;
      else if (typeof extra === 'string') own.extra = extra;
      else {
        for (const [key, value] of Object.entries(extra)) {
          if (RESERVED.has(key)) this.warn(`The key "${key}" is a reserved key and will be dropped.`);
          else own[key] = value;
        }
      }
    }
    const item: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      sampling_rate: 0,
      xray_trace_id: traceId(this.env),
      ...own,
    };
    for (const key of Object.keys(item)) {
      if (item[key] === undefined || item[key] === null || item[key] === '') delete item[key];
    }
    // Built on the first line, not at cold start: most instances never log.
    this.out ??= new Console({ stdout: process.stdout, stderr: process.stderr });
    this.out[level === 'DEBUG' ? 'debug' : level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error'](
      JSON.stringify(item, replacer(this.mapStack)),
    );
  }
}

/**
 * A function's logger, at MIRROR_LOG_LEVEL (INFO by default), as core/adapters/log.ts's createLogger configures
 * Powertools. Bundled, this module's URL is the bundle's, so errors' stacks are mapped through the `.map` file
 * shipped beside it, on the first error logged (the functions run without --enable-source-maps: D47, amended).
 */
export function createJsonLogger(serviceName: string): JsonLogger {
  return new JsonLogger(serviceName, {
    level: process.env.MIRROR_LOG_LEVEL ?? 'INFO',
    mapStack: bundleStackMapper(import.meta.url),
  });
}

import { Console } from 'node:console';

/**
 * The manifest function's metrics (decision D34): the embedded-metric-format lines Powertools Metrics writes for the
 * calls the handler makes (addMetric, hasStoredMetrics, publishStoredMetrics), without loading Powertools. Powertools
 * Metrics and commons were 13 KB of the manifest bundle and 10-14 ms of CPU of its cold start (bench/cold-start.ts,
 * "part:" rows). test/core/emf.test.ts holds this writer to Powertools' output line for line; the ingest container
 * keeps Powertools.
 *
 * Kept: one line per publish with `_aws.Timestamp` (publish time), the namespace, one dimension set (`service` then
 * the default dimensions), metric definitions in the order first added, a metric added more than once as an array;
 * a publish before the 101st metric and at a metric's 100th value; a name of 1-255 characters, a number, and one unit
 * per name, else it throws; POWERTOOLS_METRICS_DISABLED (else POWERTOOLS_DEV) turning output off; a warning for a
 * publish with nothing stored. Not kept, as the handler uses none: per-request dimensions and dimension sets,
 * metadata, high resolution, explicit timestamps, the cold-start metric.
 */

export const MetricUnit = { Milliseconds: 'Milliseconds', Count: 'Count' } as const;
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

const MAX_METRICS = 100;
const MAX_VALUES = 100;
const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSY = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

/** Powertools' boolean environment parsing (extended: yes/no, on/off, 1/0 ...); anything else throws. */
function flag(env: NodeJS.ProcessEnv, key: string): boolean {
  const value = (env[key] ?? 'false').toLowerCase();
  if (TRUTHY.has(value)) return true;
  if (FALSY.has(value)) return false;
  throw new Error(`Environment variable ${key} must be a boolean`);
}

type Sink = Pick<Console, 'log' | 'warn'>;

export interface EmfMetricsOptions {
  readonly namespace: string;
  readonly serviceName: string;
  readonly defaultDimensions?: Readonly<Record<string, string>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Where lines go (tests); a private Console on stdout and stderr by default. */
  readonly sink?: Sink;
}

export class EmfMetrics {
  private readonly dimensions: Record<string, string>;
  private readonly disabled: boolean;
  private readonly metrics = new Map<string, { unit: Unit; values: number[] }>();
  private out: Sink | undefined;

  constructor(private readonly options: EmfMetricsOptions) {
    const env = options.env ?? process.env;
    let devMode = false;
    try {
      devMode = flag(env, 'POWERTOOLS_DEV');
    } catch {
      // Powertools treats an unreadable POWERTOOLS_DEV as off.
    }
    const disabledFlag = flag(env, 'POWERTOOLS_METRICS_DISABLED');
    this.disabled = env.POWERTOOLS_METRICS_DISABLED !== undefined ? disabledFlag : devMode;
    this.dimensions = { service: options.serviceName, ...options.defaultDimensions };
    this.out = options.sink;
  }

  addMetric(name: string, unit: Unit, value: number): void {
    if (name.length < 1 || name.length > 255) {
      throw new RangeError('The metric name should be between 1 and 255 characters');
    }
    if (typeof value !== 'number') throw new RangeError(`${value} is not a valid number`);
    if (this.metrics.size >= MAX_METRICS) this.publishStoredMetrics();
    const stored = this.metrics.get(name);
    if (stored === undefined) {
      this.metrics.set(name, { unit, values: [value] });
      return;
    }
    if (stored.unit !== unit) {
      throw new Error(
        `Metric "${name}" has already been added with unit "${stored.unit}", but we received unit "${unit}". Did you mean to use metric unit "${stored.unit}"?`,
      );
    }
    stored.values.push(value);
    if (stored.values.length === MAX_VALUES) this.publishStoredMetrics();
  }

  hasStoredMetrics(): boolean {
    return this.metrics.size > 0;
  }

  publishStoredMetrics(): void {
    // Built on the first publish, not at cold start.
    this.out ??= new Console({ stdout: process.stdout, stderr: process.stderr });
    if (this.metrics.size === 0) {
      this.out.warn(
        'No application metrics to publish. The cold-start metric may be published if enabled. If application metrics should never be empty, consider using `throwOnEmptyMetrics`',
      );
      return;
    }
    if (!this.disabled) this.out.log(JSON.stringify(this.serialize()));
    this.metrics.clear();
  }

  private serialize(): Record<string, unknown> {
    const values: Record<string, number | number[]> = {};
    for (const [name, { values: stored }] of this.metrics) {
      values[name] = stored.length === 1 ? stored[0]! : [...stored];
    }
    return {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.options.namespace,
            Dimensions: [Object.keys(this.dimensions)],
            Metrics: [...this.metrics].map(([name, { unit }]) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      ...this.dimensions,
      ...values,
    };
  }
}

/** What the protection reports through (the service's Logger port, or Powertools). */
export interface ProtectionLog {
  info(message: string, extra?: Record<string, unknown>): unknown;
  warn(message: string, extra?: Record<string, unknown>): unknown;
}

/**
 * Minutes one protection lasts (ECS: 1-2880). Short enough that a task which died protected is not pinned for
 * long, long enough that a few failed renewals in a row cost nothing.
 */
export const PROTECTION_MINUTES = 60;
/** A protection is renewed this long after it was last set: two more renewals fit before it would lapse. */
export const RENEW_AFTER_MS = 20 * 60_000;
/** Failed requests are retried after 1 s, 2 s, 4 s, ... up to a minute (the status tick calls every second). */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 60_000;
/** The agent answers from the same host: a request that takes longer is failed and retried. */
export const REQUEST_TIMEOUT_MS = 5000;

export interface TaskProtectionOptions {
  /** $ECS_AGENT_URI. */
  readonly agentUri: string;
  readonly log: ProtectionLog;
  /** Injected in tests. */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

type Known = 'on' | 'off';

/**
 * ECS task scale-in protection through the agent endpoint (PUT $ECS_AGENT_URI/task-protection/v1/state): on while
 * this task publishes any stream, renewed every RENEW_AFTER_MS while it does (ECS lets a protection lapse after
 * ExpiresInMinutes), off when the last publisher goes. Driven by update() on every status tick; one request at a
 * time; failures retried with backoff and logged once per failing spell.
 */
export class TaskProtection {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  /** What ECS last confirmed; a new task starts unprotected. */
  private state: Known = 'off';
  /** Set by release(): a deployment superseded the task; publishing must not protect it again until resume(). */
  private released = false;
  private setAtMs = 0;
  private failures = 0;
  private retryAtMs = 0;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly options: TaskProtectionOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** Null outside ECS (no agent endpoint): nothing to protect. */
  static fromEnvironment(log: ProtectionLog, env: NodeJS.ProcessEnv = process.env): TaskProtection | null {
    return env.ECS_AGENT_URI ? new TaskProtection({ agentUri: env.ECS_AGENT_URI, log }) : null;
  }

  /** The task publishes `activeStreams` now: protect, renew, or drop protection as due. Never rejects. */
  update(activeStreams: number): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    const now = this.now();
    if (now < this.retryAtMs) return Promise.resolve();
    const want: Known = activeStreams > 0 && !this.released ? 'on' : 'off';
    const due = want !== this.state || (want === 'on' && now - this.setAtMs >= RENEW_AFTER_MS);
    if (!due) return Promise.resolve();
    this.inFlight = this.put(want === 'on').finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * Protection off now, although the task still publishes, and kept off until resume(): a deployment superseded
   * the task, and ECS may stop it (deployment-watch.ts). The status tick's update() retries a failed request with
   * the usual backoff. Never rejects.
   */
  async release(): Promise<void> {
    this.released = true;
    await this.inFlight;
    this.retryAtMs = 0;
    await this.update(0);
  }

  /** Undoes release(): the next update() protects the task again while it publishes. */
  resume(): void {
    this.released = false;
    this.retryAtMs = 0;
  }

  /** At exit: protection off, one attempt (after any request under way). */
  async clear(): Promise<void> {
    await this.inFlight;
    if (this.state === 'off') return;
    this.retryAtMs = 0;
    await this.update(0);
  }

  private async put(enabled: boolean): Promise<void> {
    const sentAt = this.now();
    try {
      const res = await this.fetch(`${this.options.agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          enabled
            ? { ProtectionEnabled: true, ExpiresInMinutes: PROTECTION_MINUTES }
            : { ProtectionEnabled: false },
        ),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      // The agent answers {protection: {...}} on success, {failure} or {error} otherwise (sometimes with 200).
      const body = (await res.json().catch(() => ({}))) as AgentAnswer;
      if (!res.ok || body.protection?.ProtectionEnabled !== enabled)
        throw new Error(describe(res.status, body));
    } catch (error) {
      this.failed(enabled, error);
      return;
    }
    this.state = enabled ? 'on' : 'off';
    this.setAtMs = sentAt;
    if (this.failures > 0)
      this.options.log.info('task protection updated again', { enabled, failures: this.failures });
    this.failures = 0;
    this.retryAtMs = 0;
  }

  private failed(enabled: boolean, error: unknown): void {
    this.failures += 1;
    this.retryAtMs = this.now() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1));
    if (this.failures > 1) return;
    this.options.log.warn('task protection not updated; retrying with backoff', {
      enabled,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

interface AgentAnswer {
  readonly protection?: { readonly ProtectionEnabled?: boolean };
  readonly failure?: { readonly Reason?: string; readonly Detail?: string | null };
  readonly error?: { readonly Code?: string; readonly Message?: string };
}

function describe(status: number, body: AgentAnswer): string {
  if (body.failure) return `HTTP ${status}: failure ${body.failure.Reason ?? 'unknown'}`;
  if (body.error) return `HTTP ${status}: ${body.error.Code ?? 'error'}: ${body.error.Message ?? ''}`;
  return `HTTP ${status}: no protection state in the answer`;
}

import type { Logger } from '@aws-lambda-powertools/logger';

/** Minutes a protection lasts; renewed while streams are published so a crashed task does not stay protected. */
const PROTECTION_MINUTES = 60;

/**
 * ECS task scale-in protection through the agent endpoint ($ECS_AGENT_URI/task-protection/v1/state):
 * on while this task publishes any stream, so scaling in never cuts a live encoder.
 */
export class TaskProtection {
  private current: boolean | null = null;

  private constructor(
    private readonly agentUri: string,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  static fromEnvironment(
    log: Pick<Logger, 'warn'>,
    env: NodeJS.ProcessEnv = process.env,
  ): TaskProtection | null {
    return env.ECS_AGENT_URI ? new TaskProtection(env.ECS_AGENT_URI, log) : null;
  }

  async set(enabled: boolean): Promise<void> {
    if (this.current === enabled) return;
    this.current = enabled;
    try {
      const res = await fetch(`${this.agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ProtectionEnabled: enabled, ExpiresInMinutes: PROTECTION_MINUTES }),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (error) {
      this.current = null;
      this.log.warn('task protection not updated', { enabled, error: String(error) });
    }
  }
}

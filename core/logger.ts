/**
 * The logging port pure code depends on. The Powertools logger (core/adapters/log.ts) satisfies it, and so does
 * any test double; pure modules never import the logging library itself.
 */
export interface Logger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

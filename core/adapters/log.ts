import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger shape for functions and containers alike.
 * Never log whole events, passphrases, publish keys or tokens.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.MIRROR_LOG_LEVEL ?? 'INFO') as 'INFO' });
}

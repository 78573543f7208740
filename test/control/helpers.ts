import { Logger } from '@aws-lambda-powertools/logger';
import type { HttpApp, HttpRequest, HttpResponse } from '../../core/http.js';

export const TOKEN = 'test-operator-token-0123456789';

/** A logger whose JSON lines are kept for assertions (secrets must never appear in them). */
export function capturingLogger(lines: string[]): Logger {
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  // Powertools writes through its own console; route it into the array.
  const sink = (line: unknown) => lines.push(String(line));
  Object.assign(logger as unknown as { console: Console }, {
    console: { log: sink, info: sink, warn: sink, error: sink, debug: sink, trace: sink },
  });
  return logger;
}

export function request(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  query: Record<string, string> = {},
): HttpRequest {
  return {
    method,
    path,
    query,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    sourceIp: '127.0.0.1',
  };
}

export async function call(
  app: HttpApp,
  req: HttpRequest,
  // biome-ignore lint/suspicious/noExplicitAny: response JSON, asserted field by field
): Promise<{ status: number; json: any; response: HttpResponse }> {
  const response = await app.handle(req);
  const text =
    typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8');
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text), response };
}

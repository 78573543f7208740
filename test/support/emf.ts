import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';

/** One CloudWatch embedded-metric-format line as Powertools writes it. */
export interface EmfLine {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/**
 * Registers hooks (call it inside a describe) that capture stdout for each test instead of printing it; `lines()`
 * parses the EMF lines written so far in the test, `text()` is everything written.
 */
export function captureStdout(): { lines(): EmfLine[]; text(): string } {
  let written: string[] = [];
  let stdout: MockInstance<typeof process.stdout.write>;
  beforeEach(() => {
    written = [];
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => stdout.mockRestore());
  return {
    text: () => written.join(''),
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as EmfLine),
  };
}

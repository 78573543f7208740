import type { StreamStatus } from './platform.js';

function figure(value: number | undefined, digits: number, unit: string): string {
  return value === undefined || !Number.isFinite(value) ? `-${unit}` : `${value.toFixed(digits)}${unit}`;
}

/** One compact line per stream: `cam-1 live  in 812kbps  parts 10.0/s  latency 0.42s  viewers 1 (2 conn)`. */
export function formatStatusLine(status: StreamStatus): string {
  const restarts = status.encoderRestarts > 0 ? `  encoder restarts ${status.encoderRestarts}` : '';
  return [
    status.id.padEnd(10),
    status.state.padEnd(5),
    ` in ${figure(status.inputKbps, 0, 'kbps').padStart(8)}`,
    `  parts ${figure(status.partsPerSecond, 1, '/s').padStart(6)}`,
    `  latency ${figure(status.latencyMs === undefined ? undefined : status.latencyMs / 1000, 2, 's').padStart(6)}`,
    `  viewers ${status.sessions} (${status.connections} conn)`,
    restarts,
  ].join('');
}

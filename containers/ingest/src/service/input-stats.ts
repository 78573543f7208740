import type { AvStatsSnapshot } from '../../../../core/media/av-stats.js';
import { TsAnalyzer } from '../transcode/ts-analyzer.js';

/** More open connections than an ingest task ever holds: a bound, not a limit anyone should reach. */
export const MAX_ANALYSED_CONNECTIONS = 1024;

/**
 * One TS analyzer per SRT connection (decision D42), fed from the listener's data events beside the session, so
 * the figures describe the encoder's own stream (also while paused, when the transcoder takes the slate) and a
 * reconnect starts them afresh (its timestamps need not continue the last connection's).
 */
export class InputStatsTable {
  private readonly byConnection = new Map<number, TsAnalyzer>();

  constructor(private readonly maxConnections = MAX_ANALYSED_CONNECTIONS) {}

  opened(connectionId: number): void {
    if (this.byConnection.size >= this.maxConnections) {
      const oldest = this.byConnection.keys().next().value;
      if (oldest !== undefined) this.byConnection.delete(oldest);
    }
    this.byConnection.set(connectionId, new TsAnalyzer());
  }

  data(connectionId: number, chunk: Uint8Array, atMs = Date.now()): void {
    this.byConnection.get(connectionId)?.push(chunk, atMs);
  }

  closed(connectionId: number): void {
    this.byConnection.delete(connectionId);
  }

  snapshot(connectionId: number): AvStatsSnapshot | undefined {
    return this.byConnection.get(connectionId)?.stats.snapshot();
  }

  get size(): number {
    return this.byConnection.size;
  }
}

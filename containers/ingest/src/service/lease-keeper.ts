import type { Logger } from '../../../../core/logger.js';
import type { Leases } from '../lease.js';
import type { SrtConnection } from '../srt/server.js';
import type { ConnectionCloser } from './sessions.js';

/** What the keeper reads of a session. */
export interface LeasedStream {
  readonly streamId: string;
  readonly conn: SrtConnection | null;
  /** Non-null while admission is still taking the lease: nothing to renew yet. */
  readonly pending: readonly Buffer[] | null;
}

/**
 * Keeps the publisher leases of this task's streams alive, once per status tick. A lease that another task
 * took meanwhile (ours lapsed, say after a long pause) disconnects our publisher: one publisher per stream.
 */
export class LeaseKeeper {
  constructor(
    private readonly leases: Pick<Leases, 'renew'>,
    private readonly connections: ConnectionCloser,
    private readonly log: Logger,
  ) {}

  /** Renews the stream's lease if it is publishing; false when the lease was lost (its publisher is closed). */
  async keep(stream: LeasedStream): Promise<boolean> {
    if (!stream.conn || stream.pending) return true;
    if (await this.leases.renew(stream.streamId)) return true;
    this.log.warn('publisher lease lost; disconnecting', { streamId: stream.streamId });
    // Whoever publishes now (read after the round trip) is the one without a lease.
    if (stream.conn) this.connections.close(stream.conn.id, 'lease lost');
    return false;
  }
}

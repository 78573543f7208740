import type { Logger } from '../../../../core/logger.js';
import { OutageNotice } from '../../../../core/outage.js';
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
 * A renewal that fails because Redis is unreachable (an outage, a failover) keeps the publisher: nobody else can
 * take the lease through a Redis we cannot reach either, and dropping every encoder for a store outage would turn a
 * few seconds of degraded status into a broadcast cut. The next renewal that gets through settles it.
 */
export class LeaseKeeper {
  private readonly outage: OutageNotice;

  constructor(
    private readonly leases: Pick<Leases, 'renew'>,
    private readonly connections: ConnectionCloser,
    private readonly log: Logger,
  ) {
    this.outage = new OutageNotice(log, 'lease renewal');
  }

  /**
   * Renews the stream's lease if it is publishing; false only when another task holds it (its publisher is
   * closed). True, with one warning per outage, when Redis cannot be asked.
   */
  async keep(stream: LeasedStream): Promise<boolean> {
    if (!stream.conn || stream.pending) return true;
    let ours: boolean;
    try {
      ours = await this.leases.renew(stream.streamId);
    } catch (error) {
      this.outage.failed(error, { keeping: 'publisher connected' });
      return true;
    }
    this.outage.succeeded();
    if (ours) return true;
    this.log.warn('publisher lease lost; disconnecting', { streamId: stream.streamId });
    // Whoever publishes now (read after the round trip) is the one without a lease.
    if (stream.conn) this.connections.close(stream.conn.id, 'lease lost');
    return false;
  }
}

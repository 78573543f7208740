/**
 * Writes a Server-Sent Events stream to a socket-like Writable (the local edge's response, Lambda's response
 * stream), respecting backpressure (decision D44): a chunk that does not fit waits for `drain`, and a reader that
 * does not drain within DRAIN_TIMEOUT_MS is cut (its events meanwhile overflow its bounded queue, never memory here).
 */

/** How long a reader may leave written bytes unread before its connection is cut. */
export const DRAIN_TIMEOUT_MS = 10_000;

/** What the writer needs of a response: Node's Writable and http(2) responses both fit. */
export interface ChunkSink {
  write(chunk: string): boolean;
  end(): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  destroy?(error?: Error): unknown;
}

export async function writeEventStream(
  sink: ChunkSink,
  stream: AsyncIterable<string>,
  abort: AbortController,
  drainTimeoutMs = DRAIN_TIMEOUT_MS,
): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (abort.signal.aborted) break;
      if (!sink.write(chunk) && !(await drained(sink, drainTimeoutMs))) {
        // A reader this far behind is not reading: cut it, as the queue bound would.
        abort.abort();
        sink.destroy?.(new Error('events reader too slow'));
        return;
      }
    }
  } finally {
    // Ends the generator too (its finally releases the queue) when the loop left early.
    if (!abort.signal.aborted) sink.end();
  }
}

/** True once the sink drains; false when it closes or DRAIN_TIMEOUT_MS passes first. */
function drained(sink: ChunkSink, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      sink.removeListener('drain', onDrain);
      sink.removeListener('close', onClose);
      resolve(value);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    sink.once('drain', onDrain);
    sink.once('close', onClose);
  });
}

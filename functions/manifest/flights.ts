/**
 * Single flight for held requests: identical blocking requests (same playlist, same `_HLS_msn`/`_HLS_part`/`_HLS_skip`)
 * share one read of the live state, one wait and one rendered response, however many players ask (decision D30).
 * Without it, 1,000 players held on the next part meant 1,000 reads when they arrived and 1,000 promise chains, each
 * building its own response, when the part appeared: about 5 µs of CPU per waiter after the wake-up's one shared read,
 * 5 ms for 1,000 (more on a loaded machine), all spent before the first answer left.
 */

/**
 * A caller joins a flight started at most this long ago; a later one starts its own. The flight's hold is measured from
 * its start, so a joiner's 503 may come this much before its own full hold (3 target durations, seconds): a small
 * fraction of it, while every player asking for the same part within a part or two still shares one flight.
 */
export const FLIGHT_JOIN_WINDOW_MS = 250;
/** Distinct keys in flight at once; past it, a request runs on its own (correct, just not shared). */
export const MAX_FLIGHTS = 4096;

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly startedAt: number;
  readonly controller: AbortController;
  /** Callers still waiting for the answer; the shared work stops when the last one has gone. */
  callers: number;
}

export class Flights<T> {
  private readonly flights = new Map<string, Flight<T>>();

  constructor(
    private readonly now: () => number,
    private readonly max = MAX_FLIGHTS,
    private readonly joinWindowMs = FLIGHT_JOIN_WINDOW_MS,
  ) {}

  /** Keys in flight (for tests). */
  get size(): number {
    return this.flights.size;
  }

  /**
   * The answer of the flight for `key`, started with `run` if none may be joined. A caller whose `signal` aborts
   * gets `gone()` at once and leaves; the flight's own signal aborts when no caller is left.
   */
  join(
    key: string,
    run: (signal?: AbortSignal) => Promise<T>,
    gone: () => T,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) return Promise.resolve(gone());
    const now = this.now();
    let flight = this.flights.get(key);
    if (flight === undefined || now - flight.startedAt > this.joinWindowMs) {
      if (flight === undefined && this.flights.size >= this.max) {
        return run(signal);
      }
      flight = this.start(key, run, now);
    }
    flight.callers++;
    // Without a signal (the Lambda handler, the bench) the caller cannot leave: hand it the shared promise itself,
    // the cheapest continuation there is.
    if (signal === undefined) return flight.promise;
    const joined = flight;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (--joined.callers === 0) joined.controller.abort();
        resolve(gone());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      joined.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private start(key: string, run: (signal?: AbortSignal) => Promise<T>, now: number): Flight<T> {
    const controller = new AbortController();
    const flight: Flight<T> = {
      promise: run(controller.signal).finally(() => {
        // A flight replaced after its join window keeps answering its own callers; only the current one is removed.
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }),
      startedAt: now,
      controller,
      callers: 0,
    };
    this.flights.set(key, flight);
    return flight;
  }
}

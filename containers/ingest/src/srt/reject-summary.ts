/**
 * Rejected SRT handshakes, summarised: a flood of handshakes (a scanner, a misconfigured encoder retrying in a tight
 * loop) must cost one log line per interval, not one per reject. Counts per reason and the top sources, in bounded
 * tables. Pure: the listener feeds it and decides when to log.
 */

export interface RejectRecord {
  readonly code: number;
  readonly reason: string;
  /** `host:port` as the listener reports it; empty when unknown. */
  readonly peer: string;
}

export interface RejectSummaryLine {
  readonly total: number;
  /** `"<code> <reason>"` -> count; the reason without its detail (text after a colon). */
  readonly byReason: Readonly<Record<string, number>>;
  /** The sources (addresses, without port) with the most rejects, most first. */
  readonly topSources: readonly { readonly source: string; readonly count: number }[];
  /** Rejects from sources beyond the table (a flood from many addresses). */
  readonly otherSources: number;
  /** Rejects the addon counted but could not queue (its reject queue was full), by code; part of `total`. */
  readonly notDelivered: Readonly<Record<string, number>>;
}

/** Distinct sources counted per interval; beyond it, rejects go to `otherSources`. */
export const MAX_SUMMARY_SOURCES = 1024;
/** Distinct reasons counted per interval (the addon has about a dozen); beyond it, `other`. */
const MAX_SUMMARY_REASONS = 32;
/** Sources named in a summary line. */
export const TOP_SOURCES = 5;

/** The address part of `host:port` (IPv4 or an unbracketed IPv6 address). */
export function sourceOf(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer || '(unknown)';
}

function add(
  counts: Map<string, number>,
  key: string,
  n: number,
  max: number,
  overflowKey?: string,
): boolean {
  const known = counts.get(key);
  if (known === undefined && counts.size >= max) {
    if (overflowKey !== undefined) counts.set(overflowKey, (counts.get(overflowKey) ?? 0) + n);
    return false;
  }
  counts.set(key, (known ?? 0) + n);
  return true;
}

export class RejectSummary {
  #total = 0;
  #otherSources = 0;
  readonly #reasons = new Map<string, number>();
  readonly #sources = new Map<string, number>();
  readonly #notDelivered = new Map<string, number>();

  record(reject: RejectRecord): void {
    this.#total++;
    const reason = reject.reason.split(':')[0]!.trim();
    add(this.#reasons, `${reject.code} ${reason}`, 1, MAX_SUMMARY_REASONS, 'other');
    if (!add(this.#sources, sourceOf(reject.peer), 1, MAX_SUMMARY_SOURCES)) this.#otherSources++;
  }

  /** Rejects only counted natively (no reason or source known beyond the code). */
  recordNotDelivered(byCode: Readonly<Record<string, number>>): void {
    for (const [code, count] of Object.entries(byCode)) {
      if (count <= 0) continue;
      this.#total += count;
      add(this.#notDelivered, code, count, MAX_SUMMARY_REASONS, 'other');
    }
  }

  /** The interval's summary, or undefined when nothing was rejected; the counts restart either way. */
  take(): RejectSummaryLine | undefined {
    if (this.#total === 0) return undefined;
    const line: RejectSummaryLine = {
      total: this.#total,
      byReason: Object.fromEntries(this.#reasons),
      topSources: [...this.#sources]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOP_SOURCES)
        .map(([source, count]) => ({ source, count })),
      otherSources: this.#otherSources,
      notDelivered: Object.fromEntries(this.#notDelivered),
    };
    this.#total = 0;
    this.#otherSources = 0;
    this.#reasons.clear();
    this.#sources.clear();
    this.#notDelivered.clear();
    return line;
  }
}

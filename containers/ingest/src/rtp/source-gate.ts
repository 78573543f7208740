import { BlockList, isIPv6 } from 'node:net';

/**
 * Trial authentication budget per unknown source address: a packet from a source no stream has learned is tried
 * against every RTP stream's key (one HMAC-SHA1 each), so a source that sends garbage is held to this many tries
 * per second (burst `burst`); beyond it its packets are dropped untried. A real encoder needs one packet to be
 * learned, so even a few lost to this limit delay it by milliseconds.
 */
export const DEFAULT_TRIAL_RATE_PER_S = 50;
export const DEFAULT_TRIAL_BURST = 100;
/** Source addresses tracked; the least recently seen is forgotten first (a bucket quiet that long is full anyway). */
export const DEFAULT_TRIAL_SOURCES = 4096;

/** Token buckets per source address in a bounded map (Map keeps insertion order: re-inserting marks it recent). */
export class SourceRateLimit {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly ratePerS = DEFAULT_TRIAL_RATE_PER_S,
    private readonly burst = DEFAULT_TRIAL_BURST,
    private readonly maxSources = DEFAULT_TRIAL_SOURCES,
  ) {}

  take(address: string, nowMs: number): boolean {
    const b = this.buckets.get(address) ?? { tokens: this.burst, atMs: nowMs };
    this.buckets.delete(address);
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.atMs) * this.ratePerS) / 1000);
    b.atMs = nowMs;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(address, b);
    if (this.buckets.size > this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    return ok;
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** An operator's plain-RTP allow-list (addresses and CIDR blocks, core/streams/schema.ts PlainSource). */
export function allowList(sources: readonly string[]): BlockList {
  const list = new BlockList();
  for (const source of sources) {
    const [address, prefix] = source.split('/');
    const type = isIPv6(address!) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(prefix), type);
  }
  return list;
}

/** Whether `address` (as dgram reports it; IPv4-mapped IPv6 included) is on the list. */
export function allowed(list: BlockList, address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv6(v4) ? list.check(v4, 'ipv6') : list.check(v4, 'ipv4');
}

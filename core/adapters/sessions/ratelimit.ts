import type { RedisPort as Redis } from '../../resp/port.js';
import { KEY_PREFIX } from '../../streams/keys.js';

/**
 * Per-IP limit on the public session API: 100 requests/s sustained, bursts of 200. A viewer heartbeats every 5 s,
 * so hundreds of viewers behind one NAT fit, while a client looping on the API is held to 100/s after 200 requests.
 */
export const RATE_PER_SECOND = 100;
export const BURST = 200;

export const rateLimitKey = (ip: string) => `${KEY_PREFIX}ratelimit:${ip}`;

// Token bucket, refilled continuously from Redis's own clock so every function instance shares one bucket
// per IP and clock skew between instances does not matter. Returns {allowed, retryAfterMs}.
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}`;

export interface RateDecision {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly rate = RATE_PER_SECOND,
    private readonly burst = BURST,
  ) {}

  async take(ip: string): Promise<RateDecision> {
    const [allowed, retry] = (await this.redis.eval(
      TOKEN_BUCKET,
      1,
      rateLimitKey(ip),
      String(this.rate),
      String(this.burst),
    )) as [number, number];
    return { allowed: allowed === 1, retryAfterMs: retry };
  }
}

import { HEARTBEAT, LONGEST_SILENCE_MS } from './heartbeat-policy.js';

/**
 * Playback signing keys (issue 16, decision D37): the key ring, and how it rotates with overlap.
 *
 * The ring lives in one Secrets Manager secret (retained across stack updates and deletes) as JSON; every key of it
 * is also in the CloudFront KeyValueStore under `KVS_KEY_PREFIX + kid`, where the edge function looks a token's kid
 * up. The session function signs with the ring's *signing key*: the newest key whose `activeFromMs` has passed. A
 * new key is added with `activeFromMs` ACTIVATION_DELAY_MS in the future, so by the time anyone signs with it every
 * session function has re-read the ring (SIGNER_REFRESH_MS) and the KeyValueStore has carried it to every edge. The
 * key it replaces stays in the ring and the store until the last token signed with it has expired (RETIRE_AFTER_MS
 * past the new key's activation). So viewers keep playing through a rotation: the edge accepts both kids meanwhile.
 *
 * Pure: the secret and the store are written by core/sessions/playback-key-rotation.ts through ports.
 */

/**
 * A playback token's lifetime: three stable heartbeats (90 s). Every heartbeat renews the token, and a viewer may
 * stay silent LONGEST_SILENCE_MS (66 s: a stable beat, then a capped retry) without losing playback.
 */
export const PLAYBACK_TOKEN_TTL_S = (3 * HEARTBEAT.stableMs) / 1000;
if (PLAYBACK_TOKEN_TTL_S * 1000 <= LONGEST_SILENCE_MS) throw new Error('playback tokens outlive no silence');

/** How often a session function re-reads the ring (a Secrets Manager call per instance per period). */
export const SIGNER_REFRESH_MS = 5 * 60_000;

/**
 * A new key signs this long after it was added: every signer has re-read the ring by then, and the KeyValueStore
 * has propagated it (AWS: "within seconds"; ten minutes leaves room for a slow edge and a signer refresh).
 */
export const ACTIVATION_DELAY_MS = SIGNER_REFRESH_MS + 5 * 60_000;

/** The key a new one replaced is dropped this long after the new one signs: its last token has expired. */
export const RETIRE_AFTER_MS = PLAYBACK_TOKEN_TTL_S * 1000 + 60_000;

/** Keys in a ring at most: the signing key and the one before it, or a pending one (rotation in progress). */
export const MAX_RING_KEYS = 2;

/** A key id: lower-case base 36, in tokens and KeyValueStore key names. */
export const KID_PATTERN = '[a-z0-9]{4,16}';
export const KID_REGEX = new RegExp(`^${KID_PATTERN}$`);

/** The KeyValueStore key of a kid; the edge function reads `KVS_KEY_PREFIX + kid`. */
export const KVS_KEY_PREFIX = 'playback-key-';

export interface PlaybackKey {
  readonly kid: string;
  /** HMAC-SHA256 key as text (43 base64url characters, 32 random bytes); the edge uses the same text. */
  readonly secret: string;
  readonly createdAtMs: number;
  /** Signs from this time on (the newest active key signs). */
  readonly activeFromMs: number;
}

export interface PlaybackKeyRing {
  readonly version: 1;
  readonly keys: readonly PlaybackKey[];
}

export const EMPTY_RING: PlaybackKeyRing = { version: 1, keys: [] };

/** Parses the secret's text; anything else than a ring of valid keys throws (a hand-edited secret is refused). */
export function parseRing(text: string | undefined): PlaybackKeyRing {
  if (text === undefined || text.trim() === '' || text.trim() === '{}') return EMPTY_RING;
  const raw = JSON.parse(text) as { version?: unknown; keys?: unknown };
  if (raw.version !== 1 || !Array.isArray(raw.keys))
    throw new Error('playback key ring: expected {version:1,keys}');
  const keys = raw.keys.map((k: Partial<PlaybackKey>, i) => {
    if (typeof k.kid !== 'string' || !KID_REGEX.test(k.kid)) throw new Error(`keys[${i}].kid: not a kid`);
    if (typeof k.secret !== 'string' || k.secret.length < 32) throw new Error(`keys[${i}].secret: too short`);
    if (!Number.isFinite(k.createdAtMs) || !Number.isFinite(k.activeFromMs))
      throw new Error(`keys[${i}]: createdAtMs and activeFromMs must be numbers`);
    return {
      kid: k.kid,
      secret: k.secret,
      createdAtMs: k.createdAtMs,
      activeFromMs: k.activeFromMs,
    } as PlaybackKey;
  });
  return { version: 1, keys };
}

/**
 * The key to sign with at nowMs: the newest active one; before any is active (a first key, or a clock behind the
 * writer's), the oldest, so a signer never has nothing to sign with.
 */
export function signingKey(ring: PlaybackKeyRing, nowMs: number): PlaybackKey | undefined {
  const byActivation = [...ring.keys].sort((a, b) => a.activeFromMs - b.activeFromMs);
  const active = byActivation.filter((k) => k.activeFromMs <= nowMs);
  return active.at(-1) ?? byActivation[0];
}

/** The ring without the keys whose successor has signed for longer than RETIRE_AFTER_MS. */
export function pruneRing(ring: PlaybackKeyRing, nowMs: number): PlaybackKeyRing {
  const keys = ring.keys.filter(
    (key) =>
      !ring.keys.some((n) => n.activeFromMs > key.activeFromMs && n.activeFromMs + RETIRE_AFTER_MS <= nowMs),
  );
  return { version: 1, keys };
}

/** A new key: kid from the time (sortable, readable in logs) plus randomness; `random` gives 32 bytes. */
export function newKey(
  nowMs: number,
  activeFromMs: number,
  random: (bytes: number) => Uint8Array,
): PlaybackKey {
  const bytes = random(32);
  if (bytes.length !== 32) throw new Error('random: expected 32 bytes');
  const suffix = Array.from(bytes.slice(0, 3), (b) => (b % 36).toString(36)).join('');
  return {
    kid: `${Math.floor(nowMs / 1000).toString(36)}${suffix}`,
    secret: Buffer.from(bytes).toString('base64url'),
    createdAtMs: nowMs,
    activeFromMs,
  };
}

export type RotationRefusal = { readonly refused: 'rotation_in_progress'; readonly retryAtMs: number };

/**
 * Adds a key that signs ACTIVATION_DELAY_MS from now (`immediately` for a ring with no key: nothing signs yet, so
 * there is nobody to wait for). Refused while the ring still holds MAX_RING_KEYS after pruning: a previous rotation
 * has not finished, and a third key would let the oldest outlive the overlap rule.
 */
export function rotateRing(
  ring: PlaybackKeyRing,
  nowMs: number,
  random: (bytes: number) => Uint8Array,
  activationDelayMs: number = ACTIVATION_DELAY_MS,
): PlaybackKeyRing | RotationRefusal {
  const pruned = pruneRing(ring, nowMs);
  if (pruned.keys.length >= MAX_RING_KEYS) {
    const newest = Math.max(...pruned.keys.map((k) => k.activeFromMs));
    return { refused: 'rotation_in_progress', retryAtMs: newest + RETIRE_AFTER_MS };
  }
  const activeFromMs = pruned.keys.length === 0 ? nowMs : nowMs + activationDelayMs;
  return { version: 1, keys: [...pruned.keys, newKey(nowMs, activeFromMs, random)] };
}

export function isRefusal(result: PlaybackKeyRing | RotationRefusal): result is RotationRefusal {
  return 'refused' in result;
}

/**
 * The scheduled upkeep (and the deployment's): a first key if there is none, retired keys out, and a rotation when
 * the signing key has signed for `rotateAfterMs`.
 */
export function maintainRing(
  ring: PlaybackKeyRing,
  nowMs: number,
  rotateAfterMs: number,
  random: (bytes: number) => Uint8Array,
  activationDelayMs: number = ACTIVATION_DELAY_MS,
): PlaybackKeyRing {
  const pruned = pruneRing(ring, nowMs);
  const signing = signingKey(pruned, nowMs);
  const due = signing === undefined || nowMs - signing.activeFromMs >= rotateAfterMs;
  if (!due) return pruned;
  const rotated = rotateRing(pruned, nowMs, random, activationDelayMs);
  return isRefusal(rotated) ? pruned : rotated;
}

/** What the KeyValueStore holds for a ring: `KVS_KEY_PREFIX + kid` to the key's text. */
export function kvsEntries(ring: PlaybackKeyRing): Map<string, string> {
  return new Map(ring.keys.map((k) => [`${KVS_KEY_PREFIX}${k.kid}`, k.secret]));
}

/** A ring as operators see it: never the key material. */
export function describeRing(ring: PlaybackKeyRing, nowMs: number) {
  const signing = signingKey(ring, nowMs);
  return ring.keys.map((k) => ({
    kid: k.kid,
    createdAt: new Date(k.createdAtMs).toISOString(),
    activeFrom: new Date(k.activeFromMs).toISOString(),
    state: k === signing ? 'signing' : k.activeFromMs > nowMs ? 'pending' : 'retiring',
  }));
}

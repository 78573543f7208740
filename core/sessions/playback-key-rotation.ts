import {
  describeRing,
  isRefusal,
  KVS_KEY_PREFIX,
  kvsEntries,
  maintainRing,
  type PlaybackKeyRing,
  parseRing,
  type RotationRefusal,
  rotateRing,
} from './playback-keys.js';

/**
 * Carries a key-ring change (playback-keys.ts) to its two homes, in the order that keeps every token verifiable
 * (decision D37): new keys into the edge's KeyValueStore first, then the ring into the secret the signers read, then
 * retired keys out of the store. A failure between steps leaves at worst a key the store holds and no signer uses,
 * which the next run removes. The same code runs on AWS (Secrets Manager and the KeyValueStore data plane,
 * functions/playback-keys/lambda.ts) and locally (in memory, local/playback-keys.ts).
 */

/** The secret holding the ring (JSON text). */
export interface KeyRingSecret {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** The edge's KeyValueStore, as far as the playback keys go (keys starting with KVS_KEY_PREFIX). */
export interface EdgeKeyStore {
  /** Every `KVS_KEY_PREFIX...` key and its value. */
  playbackKeys(): Promise<Map<string, string>>;
  update(puts: ReadonlyMap<string, string>, deletes: readonly string[]): Promise<void>;
}

export interface KeyActionDeps {
  readonly secret: KeyRingSecret;
  readonly edge: EdgeKeyStore;
  readonly now: () => number;
  readonly random: (bytes: number) => Uint8Array;
  /** The scheduled rotation period (stage config `delivery.playbackKeyRotationDays`). */
  readonly rotateAfterMs: number;
  /**
   * How long a new key waits before it signs: ACTIVATION_DELAY_MS on AWS (signer refresh, store propagation); the
   * embedded default's store and ring are updated in place, so nothing there needs to wait.
   */
  readonly activationDelayMs?: number;
}

export type KeyAction = 'maintain' | 'rotate';

export interface KeyActionResult {
  readonly keys: ReturnType<typeof describeRing>;
  /** The kid a rotation added. */
  readonly added?: string;
  /** Kids dropped from the ring and the store. */
  readonly retired: readonly string[];
}

/** `maintain` (deploy, schedule): first key, retire, rotate when due. `rotate` (operator): a new key now. */
export async function runKeyAction(
  action: KeyAction,
  deps: KeyActionDeps,
): Promise<KeyActionResult | RotationRefusal> {
  const nowMs = deps.now();
  const before = parseRing(await deps.secret.read());
  const next =
    action === 'rotate'
      ? rotateRing(before, nowMs, deps.random, deps.activationDelayMs)
      : maintainRing(before, nowMs, deps.rotateAfterMs, deps.random, deps.activationDelayMs);
  if (isRefusal(next)) return next;
  await applyRing(before, next, deps);
  const kept = new Set(next.keys.map((k) => k.kid));
  const added = next.keys.find((k) => !before.keys.some((b) => b.kid === k.kid))?.kid;
  return {
    keys: describeRing(next, nowMs),
    ...(added === undefined ? {} : { added }),
    retired: before.keys.filter((k) => !kept.has(k.kid)).map((k) => k.kid),
  };
}

async function applyRing(
  before: PlaybackKeyRing,
  after: PlaybackKeyRing,
  deps: Pick<KeyActionDeps, 'secret' | 'edge'>,
): Promise<void> {
  const wanted = kvsEntries(after);
  const held = await deps.edge.playbackKeys();
  const puts = new Map([...wanted].filter(([key, value]) => held.get(key) !== value));
  if (puts.size > 0) await deps.edge.update(puts, []);
  if (JSON.stringify(before) !== JSON.stringify(after)) await deps.secret.write(JSON.stringify(after));
  const deletes = [...held.keys()].filter((key) => key.startsWith(KVS_KEY_PREFIX) && !wanted.has(key));
  if (deletes.length > 0) await deps.edge.update(new Map(), deletes);
}

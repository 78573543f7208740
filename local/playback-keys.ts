import { randomBytes } from 'node:crypto';
import {
  type EdgeKeyStore,
  type KeyAction,
  type KeyRingSecret,
  runKeyAction,
} from '../core/sessions/playback-key-rotation.js';
import { describeRing, type PlaybackKeyRing, parseRing } from '../core/sessions/playback-keys.js';
import type { PlaybackKeyRotator } from '../functions/control/routes/playback-keys.js';

/** The stage default (infra/config.ts `delivery.playbackKeyRotationDays`), for the local schedule. */
const LOCAL_ROTATION_DAYS = 30;

/**
 * The playback key ring of the embedded default (decision D37), the same rotation code as on AWS
 * (core/sessions/playback-key-rotation.ts) over in-memory stand-ins for its two homes: the "secret" the local session
 * app signs from, and the "KeyValueStore" the local edge's CloudFront Function reads. Filled at start as a deploy
 * fills the real ones; `POST /api/control/playback-keys/rotate` rotates it. Nothing propagates here (the store is
 * written before the ring, in one process), so a new key signs at once; the old one is retired RETIRE_AFTER_MS later,
 * as on AWS (the platform's upkeep every minute, or a test's `run('maintain', later)`).
 */
export class LocalPlaybackKeys implements PlaybackKeyRotator {
  #secret: string | undefined;
  readonly #store = new Map<string, string>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** The ring the session app signs from. */
  ring(): PlaybackKeyRing {
    return parseRing(this.#secret);
  }

  /** The KeyValueStore lookup of the local edge's function. */
  readonly lookup = (key: string): string | undefined => this.#store.get(key);

  /** The kids the local KeyValueStore holds. */
  storedKids(): string[] {
    return [...this.#store.keys()];
  }

  async run(action: KeyAction | 'describe', nowMs: number = this.clock()) {
    if (action === 'describe') return { keys: describeRing(this.ring(), nowMs), retired: [] };
    return runKeyAction(action, {
      secret: this.#asSecret(),
      edge: this.#asEdge(),
      now: () => nowMs,
      random: (n) => new Uint8Array(randomBytes(n)),
      rotateAfterMs: LOCAL_ROTATION_DAYS * 86_400_000,
      activationDelayMs: 0,
    });
  }

  #asSecret(): KeyRingSecret {
    return {
      read: async () => this.#secret,
      write: async (text) => {
        this.#secret = text;
      },
    };
  }

  #asEdge(): EdgeKeyStore {
    return {
      playbackKeys: async () => new Map(this.#store),
      update: async (puts, deletes) => {
        for (const [key, value] of puts) this.#store.set(key, value);
        for (const key of deletes) this.#store.delete(key);
      },
    };
  }
}

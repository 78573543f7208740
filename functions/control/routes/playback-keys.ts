import { type AnyRoute, ApiError, route } from '../../../core/api/router.js';
import { jsonResponse } from '../../../core/http.js';
import type { KeyActionResult } from '../../../core/sessions/playback-key-rotation.js';
import type { RotationRefusal } from '../../../core/sessions/playback-keys.js';
import * as z from '../../../core/zod.js';
import { type ControlContext, notConfigured } from '../context.js';

/**
 * Who rotates the playback keys (decision D37): on AWS the PlaybackKeys function (invoked, it alone holds the
 * KeyValueStore's write permission and the secret's), in the embedded default the local ring (local/playback-keys.ts).
 */
export interface PlaybackKeyRotator {
  run(action: 'rotate' | 'describe'): Promise<KeyActionResult | RotationRefusal>;
}

// Memoised factories (decision D48), held uncalled by the route specs like functions/control/schemas.ts.
const keyView = () =>
  z.object({
    kid: z.string(),
    createdAt: z.string(),
    activeFrom: z.string(),
    state: z.enum(['signing', 'pending', 'retiring']).check(
      z.meta({
        description:
          '`signing`: tokens are signed with it; `pending`: signs from `activeFrom`; `retiring`: still verified until its last token expires.',
      }),
    ),
  });
const PlaybackKeysView = z.once(() =>
  z.object({
    keys: z.array(keyView()),
    added: z.optional(z.string()).check(z.meta({ description: 'The kid the rotation added.' })),
    retired: z.array(z.string()),
  }),
);

function answer(result: KeyActionResult | RotationRefusal) {
  if ('refused' in result) {
    throw new ApiError(
      409,
      'rotation_in_progress',
      `the previous rotation is still in its overlap; retry after ${new Date(result.retryAtMs).toISOString()}`,
      'playbackKeys',
      { 'retry-after': String(Math.max(1, Math.ceil((result.retryAtMs - Date.now()) / 1000))) },
    );
  }
  return result;
}

/** The playback signing keys: listed (never their material) and rotated; 409 where protection is off. */
export function playbackKeyRoutes(
  { auditedRoute }: ControlContext,
  rotator: PlaybackKeyRotator | undefined,
): AnyRoute[] {
  const need = () => {
    if (!rotator)
      throw notConfigured('playback protection is off here: there are no playback keys', 'playbackKeys');
    return rotator;
  };
  return [
    route({
      method: 'GET',
      path: '/api/control/playback-keys',
      operationId: 'listPlaybackKeys',
      summary: 'The playback signing keys by kid and state (never their material)',
      response: { status: 200, description: 'The key ring', schema: PlaybackKeysView },
      errors: [409],
      handle: async () => jsonResponse(200, answer(await need().run('describe'))),
    }),
    auditedRoute({
      method: 'POST',
      path: '/api/control/playback-keys/rotate',
      operationId: 'rotatePlaybackKeys',
      summary:
        'Add a playback key that signs 10 minutes from now; the key it replaces is verified until its last token expires',
      response: { status: 200, description: 'The key ring after the rotation', schema: PlaybackKeysView },
      errors: [409],
      target: () => 'playback-keys',
      handle: async () => jsonResponse(200, answer(await need().run('rotate'))),
    }),
  ];
}

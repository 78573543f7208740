import type { AnyRoute } from '../../../core/api/router.js';
import { signJwt } from '../../../core/auth/jwt.js';
import { MIRROR_ISSUER, type mirrorSigningKey } from '../../../core/auth/keys.js';
import { jsonResponse } from '../../../core/http.js';
import { type ControlContext, notConfigured } from '../context.js';
import * as S from '../schemas.js';

/**
 * Entitlements signed with Mirror's own key (decision D36), for operators and tests; customers' backends sign
 * their own with keys the stage trusts. Operator-only, like every control route, and audited.
 */
export function viewerTokenRoutes(
  { auditedRoute }: ControlContext,
  key: ReturnType<typeof mirrorSigningKey> | undefined,
  now: () => Date,
): AnyRoute[] {
  return [
    auditedRoute({
      method: 'POST',
      path: '/api/control/viewer-tokens',
      operationId: 'createViewerToken',
      summary: 'Mint a viewer entitlement for private streams',
      body: S.ViewerTokenBody,
      response: { status: 201, description: 'The entitlement', schema: S.ViewerTokenResponse },
      errors: [409],
      target: ({ body, principal }) => body.subject ?? principal,
      handle: async ({ body, principal }) => {
        if (!key) throw notConfigured('this stage has no viewer-token signing key', 'viewer-tokens');
        const iat = Math.floor(now().getTime() / 1000);
        // Within the 200 characters a `sub` may have (an IAM caller's ARN can be longer).
        const subject = body.subject ?? principal.slice(0, 200);
        const exp = iat + body.ttlSeconds;
        const token = signJwt(key.alg, key.privateKey, key.kid, {
          iss: MIRROR_ISSUER,
          sub: subject,
          streams: body.streams,
          iat,
          exp,
        });
        const expiresAt = new Date(exp * 1000).toISOString();
        return jsonResponse(201, { token, expiresAt, subject }, { 'cache-control': 'no-store' });
      },
    }),
  ];
}

import { buildOpenApi } from '../../core/api/openapi.js';
import type { AnyRoute } from '../../core/api/router.js';

export function buildControlOpenApi(routes: readonly AnyRoute[]): Record<string, unknown> {
  return buildOpenApi(routes, {
    title: 'Mirror control API',
    version: '1.0.0',
    description:
      'Operators manage streams, ingest capacity and the CDN cache. On AWS the same routes are served twice: ' +
      'under /api/control with API Gateway IAM authorization (SigV4: CLI, SDKs, automation) and under ' +
      '/api/operator with a Cognito access token as bearer (the operator page; decision D12). The embedded ' +
      'default serves /api/control with a bearer token (MIRROR_CONTROL_TOKEN). Every 4xx names the field at ' +
      'fault; unknown fields are refused; state-changing calls are audited with the caller.',
    security: { name: 'operator', scheme: { type: 'http', scheme: 'bearer' } },
  });
}

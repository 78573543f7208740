/**
 * Who called the control function on AWS, from API Gateway's authorizer context (never from a client header).
 * Two route sets reach the same function (decision D12):
 *   - `/api/control/*`: IAM authorization (SigV4: CLI, SDKs); the caller is the signing principal's ARN.
 *   - `/api/operator/*`: a Cognito JWT authorizer (the operator page); the caller is the token's user.
 * Operator paths are mapped onto the control routes, so both prefixes serve the same API.
 */
import { CONTROL_PATH, isUnderPath, OPERATOR_PATH } from '../../core/contracts/api-paths.js';

type Claims = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** The authorizer part of an API Gateway v2 request context, IAM or JWT. */
export interface AuthorizerContext {
  readonly iam?: { readonly userArn?: string | null } | null;
  readonly jwt?: { readonly claims?: Claims | null } | null;
}

export interface AwsCaller {
  /** The path the control routes know (`/api/control/...`). */
  readonly path: string;
  /** True when the request came in on `/api/operator`: only a JWT principal counts there. */
  readonly viaOperator: boolean;
  /** Audit principal, or undefined when the route's authorizer supplied none. */
  readonly principal?: string;
}

/**
 * `cognito:<username> (<sub>)`: access tokens carry `username`, ID tokens `cognito:username`; `sub` is unique for
 * the life of the pool even if a user name is deleted and reused.
 */
export function jwtPrincipal(claims: Claims | null | undefined): string | undefined {
  if (!claims) return undefined;
  const text = (name: string) => {
    const value = claims[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const sub = text('sub');
  const username = text('username') ?? text('cognito:username');
  if (username && sub && username !== sub) return `cognito:${username} (${sub})`;
  const id = username ?? sub;
  return id === undefined ? undefined : `cognito:${id}`;
}

export function awsCaller(path: string, authorizer: AuthorizerContext | null | undefined): AwsCaller {
  if (isUnderPath(path, OPERATOR_PATH)) {
    return {
      path: CONTROL_PATH + path.slice(OPERATOR_PATH.length),
      viaOperator: true,
      principal: jwtPrincipal(authorizer?.jwt?.claims),
    };
  }
  return { path, viaOperator: false, principal: authorizer?.iam?.userArn ?? undefined };
}

/** A Location header pointing into the control routes, moved back under the prefix the caller used. */
export function operatorLocation(location: string): string {
  return isUnderPath(location, CONTROL_PATH) ? OPERATOR_PATH + location.slice(CONTROL_PATH.length) : location;
}

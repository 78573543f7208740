import {
  AllowedMethods,
  type BehaviorOptions,
  CachedMethods,
  type Function as EdgeFunction,
  FunctionEventType,
  type ICachePolicy,
  type IOrigin,
  type IOriginRequestPolicy,
  type IResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import {
  BEHAVIOURS,
  type Behaviour,
  type CachePolicyName,
  DEFAULT_PATH_PATTERN,
  type MethodSet,
  type OriginName,
} from '../../../core/contracts/delivery.js';
import { isPageBehaviour } from '../../../core/contracts/security-headers.js';

const ALLOWED_METHODS: Record<MethodSet, AllowedMethods> = {
  GET_HEAD: AllowedMethods.ALLOW_GET_HEAD,
  GET_HEAD_OPTIONS: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
  ALL: AllowedMethods.ALLOW_ALL,
};

/** What the behaviours of the table refer to by name. */
export interface BehaviourTargets {
  readonly origins: Readonly<Record<OriginName, IOrigin>>;
  readonly cachePolicies: Readonly<Record<CachePolicyName, ICachePolicy>>;
  /** The policy of each `originRequest` that forwards more than the cache key. */
  readonly originRequestPolicies: Readonly<
    Record<Exclude<Behaviour['originRequest'], 'cacheKeyOnly'>, IOriginRequestPolicy>
  >;
  /** The page behaviours' policy (with the pages' CSP, core/contracts/security-headers.ts) and everyone else's. */
  readonly responseHeaders: Readonly<Record<'default' | 'pages', IResponseHeadersPolicy>>;
  readonly viewerFunctions: Partial<Record<NonNullable<Behaviour['viewerRequest']>, EdgeFunction>>;
}

/** The distribution's default and additional behaviours, in the table's order, every one HTTPS only. */
export function distributionBehaviours(targets: BehaviourTargets): {
  defaultBehavior: BehaviorOptions;
  additionalBehaviors: Record<string, BehaviorOptions>;
} {
  const additionalBehaviors: Record<string, BehaviorOptions> = {};
  let defaultBehavior: BehaviorOptions | undefined;
  for (const behaviour of BEHAVIOURS) {
    const options = behaviourOptions(behaviour, targets);
    if (behaviour.pathPattern === DEFAULT_PATH_PATTERN) defaultBehavior = options;
    else additionalBehaviors[behaviour.pathPattern] = options;
  }
  if (defaultBehavior === undefined) throw new Error('the behaviour table has no default behaviour');
  return { defaultBehavior, additionalBehaviors };
}

function behaviourOptions(behaviour: Behaviour, targets: BehaviourTargets): BehaviorOptions {
  const viewerFunction = behaviour.viewerRequest && targets.viewerFunctions[behaviour.viewerRequest];
  return {
    viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
    responseHeadersPolicy: targets.responseHeaders[isPageBehaviour(behaviour.name) ? 'pages' : 'default'],
    compress: behaviour.compress,
    origin: targets.origins[behaviour.origin],
    cachePolicy: targets.cachePolicies[behaviour.cachePolicy],
    originRequestPolicy:
      behaviour.originRequest === 'cacheKeyOnly'
        ? undefined
        : targets.originRequestPolicies[behaviour.originRequest],
    allowedMethods: ALLOWED_METHODS[behaviour.allowedMethods],
    // GET and HEAD are CloudFront's default when the property is left out.
    cachedMethods:
      behaviour.cachedMethods === 'GET_HEAD_OPTIONS' ? CachedMethods.CACHE_GET_HEAD_OPTIONS : undefined,
    functionAssociations: viewerFunction
      ? [{ function: viewerFunction, eventType: FunctionEventType.VIEWER_REQUEST }]
      : undefined,
  };
}

import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EntitlementSettings } from '../../../core/auth/settings.js';
import { EntitlementKeysEnv, StreamDefaultsEnv, ViewerTokenKeyEnv } from '../../../core/contracts/env.js';
import type { Visibility } from '../../../core/streams/schema.js';
import { type BindTarget, bindEnvironment } from '../binding.js';

export interface ViewerAccessProps {
  /** Visibility of a stream created without one (`private` in prod). */
  readonly defaultVisibility: Visibility;
  /** The customer's entitlement keys the session function trusts; unset, only Mirror's own key. */
  readonly entitlements?: EntitlementSettings;
  /** Keep Mirror's entitlement key when the stack is deleted, so tokens it minted stay valid across a rebuild. */
  readonly retain: boolean;
}

/**
 * Who may watch (decision D36): the stage's default stream visibility for the control function, Mirror's own
 * entitlement key (a generated secret the Ed25519 key is derived from, core/auth/keys.ts) for the control function
 * (mints) and the session function (verifies), and the customer's keys for the session function.
 */
export class ViewerAccess extends Construct {
  readonly tokenKey: Secret;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ViewerAccessProps,
  ) {
    super(scope, id);
    this.tokenKey = new Secret(this, 'ViewerTokenKey', {
      description: 'Mirror viewer entitlement signing key seed (Ed25519, D36)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.tokenKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A new key id invalidates every entitlement Mirror minted; rotate by replacing the secret value in a quiet window (docs/security.md).',
    });
  }

  /** The control function: the default visibility and the key it mints viewer tokens with. */
  bindControl(control: BindTarget): void {
    bindEnvironment(control, StreamDefaultsEnv, { MIRROR_DEFAULT_VISIBILITY: this.props.defaultVisibility });
    this.bindKey(control);
  }

  /** The session function: Mirror's key (its public half is derived) and the customer's keys. */
  bindSession(session: BindTarget): void {
    this.bindKey(session);
    const { entitlements } = this.props;
    bindEnvironment(session, EntitlementKeysEnv, {
      MIRROR_ENTITLEMENTS: entitlements ? JSON.stringify(entitlements) : undefined,
    });
  }

  private bindKey(target: BindTarget): void {
    bindEnvironment(target, ViewerTokenKeyEnv, { MIRROR_VIEWER_TOKEN_SECRET_ARN: this.tokenKey.secretArn });
    this.tokenKey.grantRead(target);
  }
}

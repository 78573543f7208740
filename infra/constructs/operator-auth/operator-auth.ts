import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface OperatorAuthProps {
  readonly stage: string;
  /**
   * Origins serving the operator page (`https://<host>`, no trailing slash): the distribution's own domain and any
   * custom domain names. `<origin>/operator/` becomes a callback and sign-out URL of the app client.
   */
  readonly pageOrigins: readonly string[];
  /** `required` for every operator, or `optional` (each operator may enrol a TOTP app). */
  readonly mfa: 'optional' | 'required';
  /** Prefix of the Hosted UI domain `<prefix>.auth.<region>.amazoncognito.com`. @default mirror-<stage>-<account> */
  readonly domainPrefix?: string;
  /** Keep the pool (and its operators) when the stack is deleted. */
  readonly retain: boolean;
}

/** The OAuth 2.0 scopes the operator page asks for. */
export const OPERATOR_SCOPES = ['openid', 'email', 'profile'] as const;

/**
 * Who may use the operator page on AWS (decision D12): a Cognito user pool of admin-created operators (no self
 * sign-up), its Hosted UI, and a public app client for the page (authorization code with PKCE, no secret). The
 * control API's `/api/operator` routes check the pool's access tokens with a JWT authorizer.
 */
export class OperatorAuth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: OperatorAuthProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'Operators', {
      userPoolName: `mirror-${props.stage}-operators`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      autoVerify: { email: true },
      mfa: props.mfa === 'required' ? Mfa.REQUIRED : Mfa.OPTIONAL,
      // TOTP apps only: SMS needs an SNS role and a sandbox exit, and is the weaker factor.
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Plus tier: threat protection blocks sign-ins from compromised credentials and risky attempts.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      userInvitation: {
        emailSubject: `Mirror ${props.stage} operator account`,
        emailBody:
          'Your Mirror operator user name is {username} and your temporary password is {####}. ' +
          'Sign in on the operator page (/operator/) and choose a new password.',
      },
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (props.mfa === 'optional') {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional on this stage by configuration (operators.mfa); prod stages require it. Threat protection (Plus tier, full function) still applies.',
      });
    }

    this.domain = this.userPool.addDomain('HostedUi', {
      cognitoDomain: {
        domainPrefix: props.domainPrefix ?? `mirror-${props.stage}-${Stack.of(this).account}`,
      },
    });

    const pageUrls = props.pageOrigins.map((origin) => `${origin}/operator/`);
    this.client = this.userPool.addClient('OperatorPage', {
      userPoolClientName: 'operator-page',
      // A browser page cannot keep a secret: public client, authorization code with PKCE.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: pageUrls,
        logoutUrls: pageUrls,
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
  }

  /** The `iss` of the pool's tokens, for a JWT authorizer. */
  get issuerUrl(): string {
    return this.userPool.userPoolProviderUrl;
  }

  /** https://<prefix>.auth.<region>.amazoncognito.com */
  get hostedUiUrl(): string {
    return this.domain.baseUrl();
  }

  /** The runtime configuration the operator page reads from /operator/config.json. */
  pageConfig(apiBase: string): Record<string, string> {
    return {
      auth: 'cognito',
      cognitoDomain: this.hostedUiUrl,
      clientId: this.client.userPoolClientId,
      scope: OPERATOR_SCOPES.join(' '),
      apiBase,
    };
  }
}

import { join } from 'node:path';
import { CfnOutput, Duration, Fn, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import { FunctionUrlAuthType, type IFunctionUrl, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CONTROL_PATH, OPERATOR_PATH, SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { OriginVerifyEnv, SessionSecretEnv } from '../../../core/contracts/env.js';
import { ORIGIN_VERIFY_CURRENT_KEY, ORIGIN_VERIFY_HEADER } from '../../../core/contracts/origin-verify.js';
import { type ViewerApiSizing, viewerApiSizing } from '../../../core/sessions/api-sizing.js';
import { AppFunction } from '../app-function/app-function.js';
import { bindEnvironment, grantBatchSecretReads } from '../binding.js';

export interface ApiProps {
  readonly vpc: IVpc;
  readonly stage: string;
  /** Directory holding `<name>/handler.ts` for manifest, session and control. */
  readonly functionsDir: string;
  /**
   * Concurrent viewers the stage is sized for (config `audience.expectedViewers`): the HTTP API's stage throttle
   * and the session function's reserved concurrency follow from it (core/sessions/api-sizing.ts, D27).
   */
  readonly expectedViewers: number;
  /**
   * Reserved concurrency of the manifest function (config `manifest.reservedConcurrency`): media misses and
   * blocking reloads can never take more of the account than this, and live playback always has this much.
   */
  readonly manifestReservedConcurrency: number;
  /**
   * The HTTP API's custom domain name and its ACM certificate (in the stack's region). When set, the default
   * execute-api endpoint is disabled: CloudFront and SigV4 callers reach the API by this name only (D39). Its DNS
   * record (a CNAME to the `ApiDomainTarget` output) is created outside the template.
   * @default - the execute-api endpoint, which stays enabled (AWS offers no other way in without a domain)
   */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
  /**
   * The Secrets Manager version CloudFront's origin header is read from. CloudFormation resolves a secret reference
   * again only when its text changes, so a rotation names the new version here (docs/operations.md).
   * @default - the current version when the distribution is created
   */
  readonly originVerifyVersion?: string;
}

/**
 * The request path: the manifest function (a function URL that only CloudFront may call, through origin access
 * control), and an HTTP API with the control routes (IAM authorization) and the public session routes.
 */
export class Api extends Construct {
  readonly manifest: AppFunction;
  readonly session: AppFunction;
  readonly control: AppFunction;
  readonly manifestUrl: IFunctionUrl;
  readonly httpApi: HttpApi;
  /** HMAC key for playback session tokens (MIRROR_SESSION_SECRET_ARN, read by the session function only). */
  readonly sessionSecret: ISecret;
  /**
   * What CloudFront sends with every API request (D39): the origin-verify header, its value a dynamic reference to
   * the secret (resolved by CloudFormation at deploy, never written in the template).
   */
  readonly originVerifyHeaders: Readonly<Record<string, string>>;
  /** Holds `{ current, previous? }`: CloudFront sends `current`, the session function accepts both. */
  readonly originVerifySecret: ISecret;
  private readonly domain?: DomainName;
  /** The request rates, throttle and concurrency derived from the expected audience. */
  readonly sizing: ViewerApiSizing;
  private readonly controlIntegration: HttpLambdaIntegration;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const fn = (name: string, timeout: Duration, reservedConcurrency?: number) =>
      new AppFunction(this, name[0]!.toUpperCase() + name.slice(1), {
        entry: join(props.functionsDir, name, 'handler.ts'),
        serviceName: name,
        stage: props.stage,
        vpc: props.vpc,
        timeout,
        reservedConcurrency,
      });
    this.sizing = viewerApiSizing(props.expectedViewers);
    // Blocking playlist reloads and held part requests wait up to three target durations; CloudFront's origin
    // read timeout is 30 s, so the function never needs longer than that. Its reserved concurrency caps what a flood
    // of viewer requests can take from the account. The session function reserves what the expected audience needs
    // (its rate times its call duration, with headroom): viewers keep their heartbeats while playlists flood, and a
    // flood of session calls cannot take the manifest's share. Control stays in the unreserved pool, bounded by the
    // stage throttle.
    this.manifest = fn('manifest', Duration.seconds(28), props.manifestReservedConcurrency);
    this.session = fn('session', Duration.seconds(10), this.sizing.sessionConcurrency);
    this.control = fn('control', Duration.seconds(28));

    this.sessionSecret = new Secret(this, 'SessionSecret', {
      description: 'Mirror playback session token HMAC key',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.sessionSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key would invalidate every live viewer session at once; rotate by redeploying in a quiet window (docs/deploy.md).',
    });
    bindEnvironment(this.session, SessionSecretEnv, {
      MIRROR_SESSION_SECRET_ARN: this.sessionSecret.secretArn,
    });
    this.sessionSecret.grantRead(this.session);
    // Its cold start reads up to four secrets (this one, origin verify, viewer-token key, key ring) at once (D48).
    grantBatchSecretReads(this.session);

    this.originVerifySecret = this.createOriginVerifySecret(props.originVerifyVersion);
    this.originVerifyHeaders = {
      [ORIGIN_VERIFY_HEADER]: SecretValue.secretsManager(this.originVerifySecret.secretArn, {
        jsonField: ORIGIN_VERIFY_CURRENT_KEY,
        versionId: props.originVerifyVersion,
      }).unsafeUnwrap(),
    };

    // Only CloudFront may call it: IAM auth, and origin access control signs CloudFront's requests.
    this.manifestUrl = this.manifest.function.addFunctionUrl({
      authType: FunctionUrlAuthType.AWS_IAM,
      invokeMode: InvokeMode.BUFFERED,
    });

    this.httpApi = new HttpApi(this, 'Http', {
      description: `Mirror ${props.stage} control and session API`,
      createDefaultStage: false,
      // Without a custom domain the execute-api endpoint is the only way in, CloudFront's included (D39).
      disableExecuteApiEndpoint: props.domain !== undefined,
    });
    if (props.domain) {
      this.domain = new DomainName(this, 'Domain', {
        domainName: props.domain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'DomainCertificate', props.domain.certificateArn),
      });
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Point a CNAME for ${props.domain.domainName} here (the API's only endpoint)`,
        value: this.domain.regionalDomainName,
      });
    }
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
      // Every viewer's expected calls plus operators, with headroom (D27); API Gateway's account limit applies on
      // top (10,000 requests/s by default: docs/scale.md lists the increase a large audience needs).
      throttle: this.sizing.throttle,
      domainMapping: this.domain && { domainName: this.domain },
    });

    this.controlIntegration = new HttpLambdaIntegration('Control', this.control.function);
    this.addPrefixRoutes(CONTROL_PATH, this.controlIntegration, new HttpIamAuthorizer());
    // Viewers are anonymous: a session is how they get a playback token in the first place.
    this.addPrefixRoutes(SESSIONS_PATH, new HttpLambdaIntegration('Session', this.session.function));
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Session routes are public by design (anonymous viewers obtain playback tokens there); control routes use IAM authorization, operator routes a Cognito JWT authorizer.',
    });
  }

  /**
   * `/api/operator` and `/api/operator/{proxy+}` to the control function, behind a JWT authorizer: the operator
   * page sends its Cognito access token as `Authorization: Bearer`. IAM stays on `/api/control` for SDK/CLI callers.
   * @param issuer the user pool's token issuer (https://cognito-idp.<region>.amazonaws.com/<pool id>)
   * @param audience app client ids whose tokens are accepted (checked against `aud`, or `client_id` in access tokens)
   */
  addOperatorRoutes(issuer: string, audience: readonly string[]): void {
    const jwt = new HttpJwtAuthorizer('Operators', issuer, {
      authorizerName: 'operators',
      jwtAudience: [...audience],
    });
    this.addPrefixRoutes(OPERATOR_PATH, this.controlIntegration, jwt);
  }

  /**
   * The origin-verify secret (D39), bound to the session function: the public routes, whose rate limit counts the
   * viewer address CloudFront sets. The control routes are not checked: API Gateway authenticates every one (IAM or
   * a Cognito JWT) before the function runs, and SigV4 callers reach them directly, not through CloudFront.
   */
  private createOriginVerifySecret(version: string | undefined): ISecret {
    const secret = new Secret(this, 'OriginVerify', {
      description: 'Mirror: the header CloudFront adds to API requests; JSON { current, previous? }',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: ORIGIN_VERIFY_CURRENT_KEY,
        passwordLength: 48,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by an operator with overlap (new current, old previous) and a deploy naming the new version: a Lambda rotation cannot redeploy the distribution (docs/operations.md, D39).',
    });
    bindEnvironment(this.session, OriginVerifyEnv, {
      MIRROR_ORIGIN_VERIFY_SECRET_ARN: secret.secretArn,
      MIRROR_ORIGIN_VERIFY_VERSION: version,
    });
    secret.grantRead(this.session);
    return secret;
  }

  /** `ANY <prefix>` and `ANY <prefix>/{proxy+}` to one integration; no authorizer means public routes. */
  private addPrefixRoutes(
    prefix: string,
    integration: HttpLambdaIntegration,
    authorizer?: IHttpRouteAuthorizer,
  ): void {
    for (const path of [prefix, `${prefix}/{proxy+}`]) {
      this.httpApi.addRoutes({ path, methods: [HttpMethod.ANY], integration, authorizer });
    }
  }

  /** Host name CloudFront reaches the HTTP API by: the custom domain when there is one, else the default endpoint. */
  get apiDomainName(): string {
    return this.domain?.name ?? Fn.select(2, Fn.split('/', this.httpApi.apiEndpoint));
  }

  /** URL of the control API (signed requests go here directly: CloudFront changes the Host header). */
  get controlUrl(): string {
    return `${this.domain ? `https://${this.domain.name}` : this.httpApi.apiEndpoint}${CONTROL_PATH}/`;
  }
}

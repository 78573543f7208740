import { join } from 'node:path';
import { Duration, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import { FunctionUrlAuthType, type IFunctionUrl, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CONTROL_PATH, OPERATOR_PATH, SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { SessionSecretEnv } from '../../../core/contracts/env.js';
import { type ViewerApiSizing, viewerApiSizing } from '../../../core/sessions/api-sizing.js';
import { AppFunction } from '../app-function/app-function.js';
import { bindEnvironment } from '../binding.js';

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

    this.manifestUrl = this.manifest.function.addFunctionUrl({
      authType: FunctionUrlAuthType.AWS_IAM,
      invokeMode: InvokeMode.BUFFERED,
    });

    this.httpApi = new HttpApi(this, 'Http', {
      description: `Mirror ${props.stage} control and session API`,
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
      // Every viewer's expected calls plus operators, with headroom (D27); API Gateway's account limit applies on
      // top (10,000 requests/s by default: docs/scale.md lists the increase a large audience needs).
      throttle: this.sizing.throttle,
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

  /** Host name of the HTTP API's default endpoint, for a CloudFront origin. */
  get apiDomainName(): string {
    return Fn.select(2, Fn.split('/', this.httpApi.apiEndpoint));
  }

  /** URL of the control API (signed requests go here directly: CloudFront changes the Host header). */
  get controlUrl(): string {
    return `${this.httpApi.apiEndpoint}${CONTROL_PATH}/`;
  }
}

import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import type { ISource } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import type { IngestConfig, MediaConfig, StageConfig } from '../config.js';
import { Api, OPERATOR_PATH } from '../constructs/api/api.js';
import { Delivery } from '../constructs/delivery/delivery.js';
import { Ingest } from '../constructs/ingest/ingest.js';
import type { LiveState } from '../constructs/live-state/live-state.js';
import type { MediaStorage } from '../constructs/media-storage/media-storage.js';
import { Observability } from '../constructs/observability/observability.js';
import { OperatorAuth } from '../constructs/operator-auth/operator-auth.js';

export interface PlatformStackProps extends StackProps {
  readonly stage: string;
  readonly vpc: IVpc;
  readonly storage: MediaStorage;
  readonly liveState: LiveState;
  readonly ingest: IngestConfig;
  readonly media: MediaConfig;
  readonly delivery: StageConfig['delivery'];
  readonly operators: StageConfig['operators'];
  /** Keep the operator user pool when the stack is deleted. */
  readonly retainData: boolean;
  readonly alarmEmail?: string;
  readonly ingestImage: ContainerImage;
  readonly webSource: ISource;
  /** Directory with `<name>/handler.ts` per function. */
  readonly functionsDir: string;
}

/** The packaging settings ingest (which cuts parts) and the manifest function (which lists them) must agree on. */
export function packagingEnvironment(media: MediaConfig): Record<string, string> {
  return {
    MIRROR_PART_TARGET_MS: String(media.partTargetMs),
    MIRROR_SEGMENT_TARGET_MS: String(media.segmentTargetMs),
    MIRROR_WINDOW_SEGMENTS: String(media.windowSegments),
    MIRROR_DVR_WINDOW_S: String(media.dvrWindowS),
    MIRROR_LADDER: media.ladder,
  };
}

/** Ingest, APIs, delivery and observability: everything that can be replaced without losing data. */
export class PlatformStack extends Stack {
  readonly ingest: Ingest;
  readonly api: Api;
  readonly delivery: Delivery;
  readonly operatorAuth: OperatorAuth;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const environment = packagingEnvironment(props.media);
    const { ingest: cfg } = props;

    this.ingest = new Ingest(this, 'Ingest', {
      vpc: props.vpc,
      stage: props.stage,
      image: props.ingestImage,
      instanceType: cfg.instanceType,
      minTasks: cfg.minTasks,
      maxTasks: cfg.maxTasks,
      nvencSessionsPerGpu: cfg.nvencSessionsPerGpu,
      srtPort: cfg.srtPort,
      healthPort: cfg.healthPort,
      encoderCidrs: cfg.encoderCidrs,
      drainSeconds: cfg.drainSeconds,
      environment,
    });
    props.storage.bindTo(this.ingest.containerTarget, 'readWrite');
    props.liveState.bindTo(this.ingest.containerTarget);

    this.api = new Api(this, 'Api', {
      vpc: props.vpc,
      stage: props.stage,
      functionsDir: props.functionsDir,
      environment,
    });
    const { manifest, session, control } = this.api;
    for (const fn of [manifest, session, control]) props.liveState.bindTo(fn);
    props.storage.bindTo(manifest, 'read');
    this.ingest.bindControlTo(control);

    this.delivery = new Delivery(this, 'Delivery', {
      mediaBucket: props.storage.bucket,
      logBucket: props.storage.logBucket,
      manifestUrl: this.api.manifestUrl,
      apiDomainName: this.api.apiDomainName,
      webSource: props.webSource,
      priceClass: props.delivery.priceClass,
      geoAllowList: props.delivery.geoAllowList,
      corsAllowOrigins: props.delivery.corsAllowOrigins,
      domainNames: props.delivery.domainNames,
      certificateArn: props.delivery.certificateArn,
      playbackProtection: props.delivery.playbackProtection,
    });
    this.delivery.bindInvalidationTo(control);

    // The operator page signs in with Cognito and calls /api/operator with the access token (decision D12).
    this.operatorAuth = new OperatorAuth(this, 'OperatorAuth', {
      stage: props.stage,
      pageOrigins: this.delivery.origins,
      mfa: props.operators.mfa,
      domainPrefix: props.operators.domainPrefix,
      retain: props.retainData,
    });
    this.api.addOperatorRoutes(this.operatorAuth.issuerUrl, [this.operatorAuth.client.userPoolClientId]);
    this.delivery.addWebJson('operator/config.json', this.operatorAuth.pageConfig(OPERATOR_PATH));

    this.observability = new Observability(this, 'Observability', {
      stage: props.stage,
      alarmEmail: props.alarmEmail,
      partTargetMs: props.media.partTargetMs,
      distributionId: this.delivery.distribution.distributionId,
      httpApiId: this.api.httpApi.apiId,
      manifestFunctionName: manifest.function.functionName,
      functionNames: [manifest, session, control].map((f) => f.function.functionName),
      redisNodeIds: props.liveState.nodeIds,
    });

    new CfnOutput(this, 'SrtIngestEndpoint', {
      description: 'Point encoders here (SRT caller mode, streamid = the stream publish key)',
      value: this.ingest.srtEndpoint,
    });
    new CfnOutput(this, 'PlaybackBaseUrl', {
      description: 'Playlists are at <base>/<streamId>/master.m3u8',
      value: this.delivery.baseUrl,
    });
    new CfnOutput(this, 'ViewerUrl', { description: 'Viewer web app', value: `${this.delivery.baseUrl}/` });
    if (this.delivery.playbackKeys) {
      // Tokens are only worth issuing when the edge checks them.
      session.addEnvironment('MIRROR_PLAYBACK_PROTECTION', 'on');
      new CfnOutput(this, 'PlaybackKeyValueStoreArn', {
        description:
          'Copy the session secret into this store under key playback-secret once after deploy (docs/sessions.md)',
        value: this.delivery.playbackKeys.keyValueStoreArn,
      });
      new CfnOutput(this, 'SessionSecretArn', {
        description: 'The HMAC key the session function signs playback tokens with',
        value: this.api.sessionSecret.secretArn,
      });
    }
    new CfnOutput(this, 'OperatorPageUrl', {
      description: 'Operator page (signs in through the Cognito Hosted UI)',
      value: `${this.delivery.baseUrl}/operator/`,
    });
    new CfnOutput(this, 'OperatorHostedUiUrl', {
      description: 'Cognito Hosted UI of the operator user pool (the page redirects here to sign in)',
      value: this.operatorAuth.hostedUiUrl,
    });
    new CfnOutput(this, 'OperatorUserPoolId', {
      description:
        'Create operators here: aws cognito-idp admin-create-user --user-pool-id <this> (docs/deploy.md)',
      value: this.operatorAuth.userPool.userPoolId,
    });
    new CfnOutput(this, 'ControlApiUrl', {
      description: 'Control API (SigV4-signed requests, service execute-api)',
      value: this.api.controlUrl,
    });
  }
}

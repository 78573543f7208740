import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import type { ISource } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { OPERATOR_PATH } from '../../core/contracts/api-paths.js';
import { SHORTEST_PART_TARGET_MS } from '../../core/latency-profiles.js';
import type { IngestConfig, MediaConfig, StageConfig } from '../config.js';
import { Api } from '../constructs/api/api.js';
import { Delivery } from '../constructs/delivery/delivery.js';
import { Ingest } from '../constructs/ingest/ingest.js';
import type { LiveState } from '../constructs/live-state/live-state.js';
import type { MediaStorage } from '../constructs/media-storage/media-storage.js';
import { Observability } from '../constructs/observability/observability.js';
import { OperatorAuth } from '../constructs/operator-auth/operator-auth.js';
import { OperatorEvents } from '../constructs/operator-events/operator-events.js';
import { PlaybackKeys } from '../constructs/playback-keys/playback-keys.js';
import { SecretsKey } from '../constructs/secrets-key/secrets-key.js';
import { ViewerAccess } from '../constructs/viewer-access/viewer-access.js';

export interface PlatformStackProps extends StackProps {
  readonly stage: string;
  readonly vpc: IVpc;
  readonly storage: MediaStorage;
  readonly liveState: LiveState;
  readonly ingest: IngestConfig;
  readonly media: MediaConfig;
  readonly delivery: StageConfig['delivery'];
  readonly manifest: StageConfig['manifest'];
  readonly audience: StageConfig['audience'];
  readonly operators: StageConfig['operators'];
  /** Keep the operator user pool when the stack is deleted. */
  readonly retainData: boolean;
  readonly alarmEmail?: string;
  readonly ingestImage: ContainerImage;
  readonly webSource: ISource;
  /** Directory with `<name>/handler.ts` per function. */
  readonly functionsDir: string;
}

/** Ingest, APIs, delivery and observability: everything that can be replaced without losing data. */
export class PlatformStack extends Stack {
  readonly ingest: Ingest;
  readonly api: Api;
  readonly delivery: Delivery;
  /** Playback protection's keys, when the stage turns it on. */
  readonly playbackKeys?: PlaybackKeys;
  readonly operatorAuth: OperatorAuth;
  /** The operator page's live updates (D44). */
  readonly operatorEvents: OperatorEvents;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { ingest: cfg, media } = props;

    this.ingest = new Ingest(this, 'Ingest', {
      vpc: props.vpc,
      stage: props.stage,
      image: props.ingestImage,
      instanceType: cfg.instanceType,
      minTasks: cfg.minTasks,
      maxTasks: cfg.maxTasks,
      nvencSessionsPerGpu: cfg.nvencSessionsPerGpu,
      srtPort: cfg.srtPort,
      rtpPort: cfg.rtpPort,
      healthPort: cfg.healthPort,
      encoderCidrs: cfg.encoderCidrs,
      drainSeconds: cfg.drainSeconds,
      packaging: {
        ladder: media.ladder,
        windowSegments: media.windowSegments,
        dvrWindowS: media.dvrWindowS,
        recordingRetentionDays: media.recordingRetentionDays,
      },
    });
    props.storage.bindTo(this.ingest.containerTarget, 'readWrite');
    props.liveState.bindTo(this.ingest.containerTarget, 'ingest');

    this.api = new Api(this, 'Api', {
      vpc: props.vpc,
      stage: props.stage,
      functionsDir: props.functionsDir,
      manifestReservedConcurrency: props.manifest.reservedConcurrency,
      expectedViewers: props.audience.expectedViewers,
      domain: props.delivery.apiDomain,
      originVerifyVersion: props.delivery.originVerifyVersion,
    });
    const { manifest, session, control } = this.api;
    // One Redis user per component (D38): the public functions cannot read stream secrets or write live state.
    props.liveState.bindTo(manifest, 'manifest');
    props.liveState.bindTo(session, 'session');
    props.liveState.bindTo(control, 'control', { operate: true });
    // SRT passphrases at rest (D38): the control function seals, the ingest task alone opens.
    const secretsKey = new SecretsKey(this, 'SecretsKey', { retain: props.retainData });
    secretsKey.bindSealer(control);
    secretsKey.bindOpener(this.ingest.containerTarget);
    props.storage.bindTo(manifest, 'read');
    props.storage.bindRecordingDeleteTo(control);
    this.ingest.bindControlTo(control);
    // Who may watch (D36): default visibility, Mirror's entitlement key, the customer's keys.
    const viewerAccess = new ViewerAccess(this, 'ViewerAccess', {
      defaultVisibility: props.delivery.defaultVisibility,
      entitlements: props.delivery.entitlements,
      retain: props.retainData,
    });
    viewerAccess.bindControl(control);
    viewerAccess.bindSession(session);
    // The operator page's live updates (D44): its own Redis user, which may only listen on the events channel.
    this.operatorEvents = new OperatorEvents(this, 'OperatorEvents', {
      vpc: props.vpc,
      stage: props.stage,
      functionsDir: props.functionsDir,
    });
    props.liveState.bindTo(this.operatorEvents.function, 'events');

    // Playback protection (D37): retained keys the deployment loads into the edge's KeyValueStore and rotates.
    this.playbackKeys = props.delivery.playbackProtection
      ? new PlaybackKeys(this, 'PlaybackKeys', {
          functionsDir: props.functionsDir,
          rotationDays: props.delivery.playbackKeyRotationDays,
        })
      : undefined;
    this.delivery = new Delivery(this, 'Delivery', {
      mediaBucket: props.storage.bucket,
      logBucket: props.storage.logBucket,
      manifestUrl: this.api.manifestUrl,
      eventsUrl: this.operatorEvents.url,
      apiDomainName: this.api.apiDomainName,
      apiOriginHeaders: this.api.originVerifyHeaders,
      webSource: props.webSource,
      priceClass: props.delivery.priceClass,
      geoAllowList: props.delivery.geoAllowList,
      corsAllowOrigins: props.delivery.corsAllowOrigins,
      domainNames: props.delivery.domainNames,
      certificateArn: props.delivery.certificateArn,
      playbackKeyStore: this.playbackKeys?.store,
    });
    this.delivery.bindInvalidationTo(control);
    props.storage.createBucketPolicy(this, this.delivery.distribution);

    // The operator page signs in with Cognito and calls /api/operator with the access token (decision D12).
    this.operatorAuth = new OperatorAuth(this, 'OperatorAuth', {
      stage: props.stage,
      pageOrigins: this.delivery.origins,
      mfa: props.operators.mfa,
      domainPrefix: props.operators.domainPrefix,
      retain: props.retainData,
    });
    this.api.addOperatorRoutes(this.operatorAuth.issuerUrl, [this.operatorAuth.client.userPoolClientId]);
    this.operatorEvents.trustOperators(this.operatorAuth.issuerUrl);
    this.delivery.addWebJson('operator/config.json', this.operatorAuth.pageConfig(OPERATOR_PATH));
    // The operator sign-in fetches tokens from the Cognito domain: the pages' CSP allows it (D39).
    this.delivery.allowPageConnect(this.operatorAuth.hostedUiUrl);

    this.observability = new Observability(this, 'Observability', {
      stage: props.stage,
      alarmEmail: props.alarmEmail,
      // Per-rendition parts (decision D28): a part published late stalls players of the shortest parts first.
      partTargetMs: SHORTEST_PART_TARGET_MS,
      distributionId: this.delivery.distribution.distributionId,
      httpApiId: this.api.httpApi.apiId,
      manifestFunctionName: manifest.function.functionName,
      functionNames: [manifest, session, control, this.operatorEvents.function].map(
        (f) => f.function.functionName,
      ),
      redisNodeIds: props.liveState.nodeIds,
    });

    // Tokens are only worth issuing when the edge checks them.
    this.playbackKeys?.bindSigner(session);
    if (this.playbackKeys) this.playbackKeys.grantRotate(control);
    this.addOutputs();
  }

  /** What operators need after a deploy: endpoints, URLs, and the one-time step playback protection needs. */
  private addOutputs(): void {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { description, value });
    const base = this.delivery.baseUrl;
    output(
      'SrtIngestEndpoint',
      this.ingest.srtEndpoint,
      'Point encoders here (SRT caller mode, streamid = the stream publish key)',
    );
    output('PlaybackBaseUrl', base, 'Playlists are at <base>/<streamId>/master.m3u8');
    output('ViewerUrl', `${base}/`, 'Viewer web app');
    if (this.playbackKeys) {
      output(
        'PlaybackKeyRingArn',
        this.playbackKeys.secret.secretArn,
        'Playback key ring (retained); rotate with POST /api/control/playback-keys/rotate (docs/operations.md)',
      );
    }
    output('OperatorPageUrl', `${base}/operator/`, 'Operator page (signs in through the Cognito Hosted UI)');
    output(
      'OperatorHostedUiUrl',
      this.operatorAuth.hostedUiUrl,
      'Cognito Hosted UI of the operator user pool (the page redirects here to sign in)',
    );
    output(
      'OperatorUserPoolId',
      this.operatorAuth.userPool.userPoolId,
      'Create operators here: aws cognito-idp admin-create-user --user-pool-id <this> (docs/deploy.md)',
    );
    output('ControlApiUrl', this.api.controlUrl, 'Control API (SigV4-signed requests, service execute-api)');
  }
}

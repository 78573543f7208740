import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { KeyValueStore } from 'aws-cdk-lib/aws-cloudfront';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  PlaybackKeysEnv,
  PlaybackKeysRotatorEnv,
  PlaybackProtectionEnv,
} from '../../../core/contracts/env.js';
import type { AppFunction } from '../app-function/app-function.js';
import { FUNCTION_BUNDLING } from '../app-function/bundling.js';
import { bindEnvironment } from '../binding.js';

export interface PlaybackKeysProps {
  /** Directory holding `playback-keys/lambda.ts`. */
  readonly functionsDir: string;
  /** Days a key signs before the schedule rotates it (config `delivery.playbackKeyRotationDays`). */
  readonly rotationDays: number;
}

/** How often the upkeep runs: a rotated-out key leaves the store at most this long after its overlap ends. */
export const UPKEEP_MINUTES = 15;

/**
 * Playback signing keys that survive deploys and rotate (issue 16, decision D37): the key ring in a retained Secrets
 * Manager secret, the CloudFront KeyValueStore the edge function reads them from (retained too), and the one function
 * that writes both (functions/playback-keys/lambda.ts). The deployment runs it as a custom resource, so a new or
 * replaced store is filled from the secret, or a first key is made, without a manual step; the key material goes
 * from the secret to the store inside that function, never through the template. An EventBridge rule runs its
 * upkeep (retire keys past their overlap; rotate when due); the control API asks it to rotate (`grantRotate`).
 */
export class PlaybackKeys extends Construct {
  readonly store: KeyValueStore;
  readonly secret: Secret;
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: PlaybackKeysProps) {
    super(scope, id);
    this.store = new KeyValueStore(this, 'Store', {
      comment:
        'Mirror playback keys (playback-key-<kid>), kept in step with the key ring by the PlaybackKeys function',
    });
    // Retained: a stack replacement must not strand viewers with tokens the edge can no longer check.
    this.store.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.secret = new Secret(this, 'Ring', {
      description:
        'Mirror playback key ring (kid, key, activation); written only by the PlaybackKeys function',
      // An empty ring: the function's first run adds the first key. No key material in the template.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ version: 1, keys: [] }),
        generateStringKey: 'unused',
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The ring rotates its keys itself with an overlap (PlaybackKeys function on an EventBridge schedule and the control API, D37); a Secrets Manager rotation would replace keys without the overlap.',
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(props.functionsDir, 'playback-keys', 'lambda.ts'),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      logGroup: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }),
      loggingFormat: LoggingFormat.JSON,
      environment: {
        MIRROR_PLAYBACK_KEYS_SECRET_ARN: this.secret.secretArn,
        MIRROR_PLAYBACK_KVS_ARN: this.store.keyValueStoreArn,
        MIRROR_PLAYBACK_KEY_ROTATION_DAYS: String(props.rotationDays),
      },
      // Its SDK clients bundled (not the runtime's copy): the KeyValueStore client needs the SigV4A signer it
      // registers. Not a request-path function, so the D26 size budget is not its concern.
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: FUNCTION_BUNDLING.target,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
        banner: FUNCTION_BUNDLING.banner,
      },
    });
    this.secret.grantRead(this.function);
    this.secret.grantWrite(this.function);
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'cloudfront-keyvaluestore:DescribeKeyValueStore',
          'cloudfront-keyvaluestore:ListKeys',
          'cloudfront-keyvaluestore:UpdateKeys',
        ],
        resources: [this.store.keyValueStoreArn],
      }),
    );

    // The deployment fills the store: on create, and whenever the store or the secret is replaced. The function is
    // its own service token (it answers CloudFormation's response URL itself): no provider framework functions.
    new CustomResource(this, 'Load', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::MirrorPlaybackKeys',
      properties: { KvsArn: this.store.keyValueStoreArn, SecretArn: this.secret.secretArn },
    });

    new Rule(this, 'Upkeep', {
      description: `Retire playback keys past their overlap; rotate every ${props.rotationDays} days (D37)`,
      schedule: Schedule.rate(Duration.minutes(UPKEEP_MINUTES)),
      targets: [
        new LambdaFunction(this.function, { event: RuleTargetInput.fromObject({ action: 'maintain' }) }),
      ],
    });

    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWS-managed policy limited to writing the function logs.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'Node 22, as every Mirror function (AppFunction): raised deliberately, not by a rule.',
      },
    );
  }

  /** The session function signs playback tokens with the ring's signing key (read, never write). */
  bindSigner(session: AppFunction): void {
    bindEnvironment(session, PlaybackProtectionEnv, { MIRROR_PLAYBACK_PROTECTION: 'on' });
    bindEnvironment(session, PlaybackKeysEnv, { MIRROR_PLAYBACK_KEYS_SECRET_ARN: this.secret.secretArn });
    this.secret.grantRead(session.function);
  }

  /** The control function may ask the key function to rotate (`POST /api/control/playback-keys/rotate`). */
  grantRotate(control: AppFunction): void {
    bindEnvironment(control, PlaybackKeysRotatorEnv, {
      MIRROR_PLAYBACK_KEYS_FUNCTION: this.function.functionName,
    });
    // The function itself, not grantInvoke's "<arn>:*" (its versions): the control API invokes $LATEST only.
    control.function.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
  }
}

import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { LiveState } from '../constructs/live-state/live-state.js';
import { MediaStorage } from '../constructs/media-storage/media-storage.js';

export interface DataStackProps extends StackProps {
  readonly vpc: IVpc;
  /** Keep buckets, the AUTH secret and a final Redis snapshot when the stack is deleted. */
  readonly retain: boolean;
  readonly dvrWindowDays: number;
  readonly recordingTransitionDays: number;
  readonly recordingRetentionDays: number;
  readonly redisNodeType: string;
  readonly redisReplicas: number;
}

/** Stateful resources, in their own stack so the platform can be replaced without touching them. */
export class DataStack extends Stack {
  readonly storage: MediaStorage;
  readonly liveState: LiveState;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.storage = new MediaStorage(this, 'MediaStorage', {
      dvrWindowDays: props.dvrWindowDays,
      recordingTransitionDays: props.recordingTransitionDays,
      recordingRetentionDays: props.recordingRetentionDays,
      retain: props.retain,
    });
    // The media bucket's policy names the distribution, so the platform stack writes it (createBucketPolicy, D39).
    this.liveState = new LiveState(this, 'LiveState', {
      vpc: props.vpc,
      nodeType: props.redisNodeType,
      replicas: props.redisReplicas,
      retain: props.retain,
    });
  }
}

import { RemovalPolicy } from 'aws-cdk-lib';
import { AccountRootPrincipal, type IGrantable, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SecretsKeyEnv } from '../../../core/contracts/env.js';
import { KMS_CONTEXT_KEY } from '../../../core/streams/secrets.js';
import { type BindTarget, bindEnvironment } from '../binding.js';

export interface SecretsKeyProps {
  /** Keep the key when the stack is deleted: the sealed passphrases in Redis open with it alone. */
  readonly retain: boolean;
}

/**
 * Key administration for the account (the key stays manageable, and deletable, by the account's administrators),
 * but none of the cryptographic actions: only the key policy statements below may use the key, so no identity
 * policy elsewhere in the account can grant Decrypt (with the default key policy it could).
 */
const ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

/**
 * The KMS key that wraps the data keys sealing streams' SRT passphrases (decision D38). The control function may
 * only generate data keys (seal: GenerateDataKey returns the plaintext key once, to encrypt a new passphrase), the
 * ingest task only decrypt them (open: libsrt needs the plain passphrase); both only for stream secrets (the
 * encryption context names a stream). Nothing else in the account may use it.
 */
export class SecretsKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: SecretsKeyProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Mirror: data keys of the SRT passphrases at rest (control seals, ingest opens)',
      enableKeyRotation: true,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'KeyAdministration',
            principals: [new AccountRootPrincipal()],
            actions: ADMIN_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
    });
  }

  /** The control function: MIRROR_SECRETS_KEY_ARN and GenerateDataKey (no Decrypt) for stream secrets. */
  bindSealer(target: BindTarget): void {
    this.allow(target, 'SealPassphrases', ['kms:GenerateDataKey']);
  }

  /** The ingest task: MIRROR_SECRETS_KEY_ARN and Decrypt (no GenerateDataKey, no Encrypt) for stream secrets. */
  bindOpener(target: BindTarget): void {
    this.allow(target, 'OpenPassphrases', ['kms:Decrypt']);
  }

  private allow(target: BindTarget, sid: string, actions: string[]): void {
    bindEnvironment(target, SecretsKeyEnv, { MIRROR_SECRETS_KEY_ARN: this.key.keyArn });
    // In the key policy, naming the role: the grant is the key's, not an identity policy anyone could widen.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid,
        principals: [(target as IGrantable).grantPrincipal],
        actions,
        resources: ['*'],
        conditions: { StringLike: { [`kms:EncryptionContext:${KMS_CONTEXT_KEY}`]: 'mirror:stream:*' } },
      }),
    );
  }
}

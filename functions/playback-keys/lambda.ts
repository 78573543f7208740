// The KeyValueStore data plane signs with SigV4A: this registers the pure-JS signer (bundled with this function,
// not left to the runtime's SDK copy, which may not carry it).
import '@aws-sdk/signature-v4a';
import { randomBytes } from 'node:crypto';
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { keyValueStoreKeys, secretsManagerRing } from '../../core/adapters/playback-keys.js';
import { type KeyActionDeps, runKeyAction } from '../../core/sessions/playback-key-rotation.js';
import { describeRing, parseRing } from '../../core/sessions/playback-keys.js';

/**
 * The PlaybackKeys function (decision D37): the one holder of the playback key ring's write permissions. Not a
 * `handler.ts`: it is no request-path function (the D26 bundle budget is theirs), and it bundles its SDK clients.
 *
 * Invoked three ways, each answering the key ring as operators see it (kids and states, never key material):
 * - by CloudFormation (custom resource, Create/Update): `maintain`, so a deploy fills a new or replaced
 *   KeyValueStore from the retained secret, or creates the first key: no manual step. Delete does nothing: both
 *   the secret and the store are retained.
 * - by the EventBridge schedule: `maintain` (retire keys past their overlap, rotate when the signing key is due).
 * - by the control API (`POST /api/control/playback-keys/rotate`): `rotate` or `describe`.
 */

const SECRET_ARN = required('MIRROR_PLAYBACK_KEYS_SECRET_ARN');
const KVS_ARN = required('MIRROR_PLAYBACK_KVS_ARN');
const ROTATE_AFTER_DAYS = Number(required('MIRROR_PLAYBACK_KEY_ROTATION_DAYS'));

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const secrets = new SecretsManagerClient({});
const deps: KeyActionDeps = {
  secret: secretsManagerRing(secrets, SECRET_ARN),
  // The store is global: its data plane is reached through the region-independent endpoint the client derives.
  edge: keyValueStoreKeys(new CloudFrontKeyValueStoreClient({}), KVS_ARN),
  now: Date.now,
  random: (n) => new Uint8Array(randomBytes(n)),
  rotateAfterMs: ROTATE_AFTER_DAYS * 86_400_000,
};

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/**
 * A custom resource's answer, PUT to the pre-signed URL CloudFormation gave (the function is its own service token,
 * so no provider framework). Data carries kids only: CloudFormation stores it.
 */
async function answerCloudFormation(event: CustomResourceEvent): Promise<void> {
  const PhysicalResourceId = event.PhysicalResourceId ?? `playback-keys-${KVS_ARN.split('/').pop()}`;
  let outcome: { Status: 'SUCCESS' | 'FAILED'; Reason?: string; Data?: Record<string, string> };
  try {
    if (event.RequestType === 'Delete') {
      outcome = { Status: 'SUCCESS' }; // the secret and the store are retained: nothing to undo
    } else {
      const result = await runKeyAction('maintain', deps);
      outcome = {
        Status: 'SUCCESS',
        Data: { kids: 'keys' in result ? result.keys.map((k) => k.kid).join(',') : '' },
      };
    }
  } catch (error) {
    outcome = { Status: 'FAILED', Reason: String(error).slice(0, 500) };
  }
  const body = JSON.stringify({
    ...outcome,
    Reason: outcome.Reason ?? 'see the PlaybackKeys function log',
    PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const response = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!response.ok) throw new Error(`CloudFormation response URL answered ${response.status}`);
}

type KeyEvent = CustomResourceEvent | { readonly action: 'rotate' | 'describe' | 'maintain' } | object;

export async function handler(event: KeyEvent): Promise<unknown> {
  if ('RequestType' in event) return answerCloudFormation(event);
  const action = 'action' in event ? event.action : 'maintain';
  if (action === 'describe') {
    return { keys: describeRing(parseRing(await deps.secret.read()), Date.now()), retired: [] };
  }
  return runKeyAction(action === 'rotate' ? 'rotate' : 'maintain', deps);
}

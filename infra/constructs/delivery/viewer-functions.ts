import {
  Function as EdgeFunction,
  FunctionCode,
  FunctionRuntime,
  KeyValueStore,
} from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import type { Behaviour } from '../../../core/contracts/delivery.js';
import { playbackFunctionCode } from '../../../core/sessions/playback-function.js';

/** Stands in for the store id in the function source: the real id is a deploy-time token, not a literal. */
const KVS_ID_PLACEHOLDER = 'mirror-kvs-id-placeholder';

export interface ViewerFunctions {
  /** By the table's `viewerRequest` name; `playbackCheck` only when playback protection is on. */
  readonly functions: Partial<Record<NonNullable<Behaviour['viewerRequest']>, EdgeFunction>>;
  /** Holds the playback token secret (key `playback-secret`) when playback protection is on. */
  readonly playbackKeys?: KeyValueStore;
}

/** The CloudFront Functions the behaviours run on viewer requests. */
export function createViewerFunctions(scope: Construct, playbackProtection: boolean): ViewerFunctions {
  const directoryIndex = new EdgeFunction(scope, 'DirectoryIndex', {
    comment: 'Serve /operator/ as /operator/index.html',
    runtime: FunctionRuntime.JS_2_0,
    code: FunctionCode.fromInline(
      "function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
    ),
  });
  if (!playbackProtection) return { functions: { directoryIndex } };

  const playbackKeys = new KeyValueStore(scope, 'PlaybackKeys', {
    comment:
      'Mirror playback token secret (key playback-secret), copied from the session secret after deploy',
  });
  const playbackCheck = new EdgeFunction(scope, 'PlaybackCheck', {
    comment: 'Check the playback token (cookie mirror_playback or ?token=) before the cache',
    runtime: FunctionRuntime.JS_2_0,
    keyValueStore: playbackKeys,
    // playbackFunctionCode checks that a literal id is an id; the store's id is a token resolved at deploy.
    code: FunctionCode.fromInline(
      playbackFunctionCode(KVS_ID_PLACEHOLDER).replaceAll(KVS_ID_PLACEHOLDER, playbackKeys.keyValueStoreId),
    ),
  });
  return { functions: { directoryIndex, playbackCheck }, playbackKeys };
}

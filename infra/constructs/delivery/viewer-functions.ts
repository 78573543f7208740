import {
  Function as EdgeFunction,
  FunctionCode,
  FunctionRuntime,
  type IKeyValueStore,
} from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import type { Behaviour } from '../../../core/contracts/delivery.js';
import { playlistFunctionCode } from '../../../core/contracts/playlist-freshness.js';
import { playbackFunctionCode } from '../../../core/sessions/playback-function.js';

/** Stands in for the store id in the function source: the real id is a deploy-time token, not a literal. */
const KVS_ID_PLACEHOLDER = 'mirror-kvs-id-placeholder';

export interface ViewerFunctions {
  /**
   * By the table's `viewerRequest` name; `playbackCheck` only when playback protection is on; `playlistFreshness`
   * always (it carries the playback check when protection is on: one viewer-request function per behaviour).
   */
  readonly functions: Partial<Record<NonNullable<Behaviour['viewerRequest']>, EdgeFunction>>;
}

/**
 * The CloudFront Functions the behaviours run on viewer requests. With `playbackKeys` (the playback keys'
 * KeyValueStore, infra/constructs/playback-keys, D37) the media functions check playback tokens against it.
 */
export function createViewerFunctions(scope: Construct, playbackKeys?: IKeyValueStore): ViewerFunctions {
  const directoryIndex = new EdgeFunction(scope, 'DirectoryIndex', {
    comment: 'Serve /operator/ as /operator/index.html',
    runtime: FunctionRuntime.JS_2_0,
    code: FunctionCode.fromInline(
      "function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
    ),
  });
  if (playbackKeys === undefined) {
    const playlistFreshness = new EdgeFunction(scope, 'PlaylistFreshness', {
      comment: 'Key plain media-playlist requests by a 100 ms bucket, so a new player starts fresh (D31)',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(playlistFunctionCode()),
    });
    return { functions: { directoryIndex, playlistFreshness } };
  }

  const playbackCheck = new EdgeFunction(scope, 'PlaybackCheck', {
    comment:
      'Check the stream playback token (cookie mirror_play or ?token=, key by kid) before the cache (D37)',
    runtime: FunctionRuntime.JS_2_0,
    keyValueStore: playbackKeys,
    // playbackFunctionCode checks that a literal id is an id; the store's id is a token resolved at deploy.
    code: FunctionCode.fromInline(
      playbackFunctionCode(KVS_ID_PLACEHOLDER).replaceAll(KVS_ID_PLACEHOLDER, playbackKeys.keyValueStoreId),
    ),
  });
  const playlistFreshness = new EdgeFunction(scope, 'PlaylistFreshness', {
    comment: 'Check the playback token, then key plain media-playlist requests by a 100 ms bucket (D31)',
    runtime: FunctionRuntime.JS_2_0,
    keyValueStore: playbackKeys,
    code: FunctionCode.fromInline(
      playlistFunctionCode(playbackFunctionCode(KVS_ID_PLACEHOLDER)).replaceAll(
        KVS_ID_PLACEHOLDER,
        playbackKeys.keyValueStoreId,
      ),
    ),
  });
  return { functions: { directoryIndex, playbackCheck, playlistFreshness } };
}

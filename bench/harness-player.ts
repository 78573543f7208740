// What a harness page gets as `MirrorLive`: the viewer's live behaviours, so a harness player acts as a viewer's tile
// does (catch-up on every timeupdate; the fault suite also applies the tile's re-sync rule on its sampler's tick).
export * from '../web/src/live-catchup.js';
export { RESYNC_BEHIND_S, resyncPosition } from '../web/src/viewer/tile-model.js';

import { describe, expect, it } from 'vitest';
import { LiveState } from '../../core/adapters/live/live-state.js';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { buildMediaPlaylist, renderMediaPlaylist } from '../../core/hls/index.js';
import { Packager } from '../../core/packager/index.js';
import { usePackagerFixture } from './packager-support.js';

/**
 * A draining ingest task hands its encoders to another task: its renditions close their open segments but must not
 * end the playlist, since a player that reads EXT-X-ENDLIST stops reloading and never sees the stream go on (the
 * fault suite's SIGTERM row: the player stayed stuck while the playlist moved on).
 */

const fixture = usePackagerFixture('mirror-handover-', 2);

async function endedPlaylist(streamId: string, handover: boolean): Promise<string> {
  const live = new LiveState(fixture.redis.client());
  const sink = new Packager({
    storage: new LocalDiskStorage(fixture.dir),
    live,
    partTargetMs: 100,
    segmentTargetMs: 500,
  }).open(streamId, '360p', { broadcast: 'mh3k2x9a00h1' });
  for (let i = 0; i < fixture.source.byteLength; i += 7919) sink.write(fixture.source.subarray(i, i + 7919));
  await sink.end(handover ? { handover: true } : undefined);
  const timeline = (await live.read(streamId))!.renditions.get('360p')!.timeline;
  expect(timeline.open).toBeUndefined();
  expect(timeline.segments.length).toBeGreaterThan(2);
  return renderMediaPlaylist(buildMediaPlaylist(timeline));
}

describe('ending a rendition', () => {
  it('for good publishes EXT-X-ENDLIST', async () => {
    expect(await endedPlaylist('ends', false)).toContain('#EXT-X-ENDLIST');
  });

  it('for a handover to another task closes the open segment without EXT-X-ENDLIST', async () => {
    expect(await endedPlaylist('hands-over', true)).not.toContain('#EXT-X-ENDLIST');
  });
});

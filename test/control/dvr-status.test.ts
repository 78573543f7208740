import { describe, expect, it } from 'vitest';
import { StreamStatusSchema } from '../../functions/control/schemas.js';
import { statusView } from '../../functions/control/views.js';

describe('dvrUrl in the control API stream status (D43)', () => {
  it('names the DVR multivariant while the stream is on air (live or paused), nothing while idle', () => {
    for (const state of ['live', 'paused'] as const) {
      const view = StreamStatusSchema.parse(statusView({ state }, 'task-a', 'cam'));
      expect(view.dvrUrl, state).toBe('/cam/dvr.m3u8');
    }
    // A lease without a report yet (the first second of a publish) is live too.
    expect(statusView(undefined, 'task-a', 'cam').dvrUrl).toBe('/cam/dvr.m3u8');
    expect(statusView(undefined, undefined, 'cam').dvrUrl).toBeUndefined();
    expect(statusView({ state: 'error' }, undefined, 'cam').dvrUrl).toBeUndefined();
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../local/platform.js';
import { startTempPlatform, type TempPlatform } from '../support/platform.js';

let running: TempPlatform | undefined;
let platform: Platform;

beforeAll(async () => {
  running = await startTempPlatform('thumbs', { streams: 1, ladder: 'tile', gpu: 'off' });
  platform = running.platform;
}, 90_000);
afterAll(async () => {
  await running?.stop();
});

const dir = mkdtempSync(join(tmpdir(), 'mirror-thumbs-e2e-'));
/** ffprobe's width of a JPEG. */
function widthOf(jpeg: Buffer): number {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.jpg`);
  writeFileSync(file, jpeg);
  const out = spawnSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width'],
    ...['-of', 'csv=p=0', file],
  ]);
  expect(out.stdout.toString().trim().split(',')[0]).toBe('mjpeg');
  return Number(out.stdout.toString().trim().split(',')[1]);
}

describe('thumbnails on the embedded platform (D41)', () => {
  it('the status names the thumbnail; the edge serves a fresh JPEG each second as the encoder clock runs', async () => {
    const id = platform.streams[0]!.id;
    const control = (path: string) =>
      fetch(`${platform.urls.http}/api/control${path}`, {
        headers: { authorization: `Bearer ${platform.controlToken}` },
      });
    let url: string | undefined;
    const deadline = Date.now() + 60_000;
    while (url === undefined) {
      const r = await control(`/streams/${id}`);
      if (r.ok)
        url = ((await r.json()) as { stream: { status: { thumbnailUrl?: string } } }).stream.status
          .thumbnailUrl;
      expect(Date.now(), 'no thumbnailUrl in the status').toBeLessThan(deadline);
      if (url === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(url).toBe(`/${id}/thumbnail-320.jpg`);
    const get = async (path: string) => {
      for (;;) {
        const r = await fetch(`${platform.urls.http}${path}`);
        if (r.ok)
          return { bytes: Buffer.from(await r.arrayBuffer()), cacheControl: r.headers.get('cache-control') };
        expect(Date.now(), `${path} not served`).toBeLessThan(deadline);
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    const first = await get(url);
    expect(first.cacheControl).toBe('public, max-age=1');
    expect(widthOf(first.bytes)).toBe(320);
    expect(widthOf((await get(`/${id}/thumbnail-640.jpg`)).bytes)).toBe(640);
    // The synthetic encoder burns its clock in: 2.5 s later the picture differs.
    await new Promise((r) => setTimeout(r, 2500));
    const later = await get(url);
    expect(later.bytes.equals(first.bytes)).toBe(false);
  }, 90_000);

  it('a stream made private moves its pictures to a capability URL only its status names (D41 amended)', async () => {
    const id = platform.streams[0]!.id;
    const control = (path: string, init: RequestInit = {}) =>
      fetch(`${platform.urls.http}/api/control${path}`, {
        ...init,
        headers: { authorization: `Bearer ${platform.controlToken}`, 'content-type': 'application/json' },
      });
    const patched = await control(`/streams/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ visibility: 'private' }),
    });
    expect(patched.status).toBe(200);
    const capabilityUrl = new RegExp(`^/${id}/thumbnail-[A-Za-z0-9_-]{22}-320\\.jpg$`);
    let url: string | undefined;
    const deadline = Date.now() + 20_000;
    while (url === undefined) {
      const r = await control(`/streams/${id}`);
      const named = ((await r.json()) as { stream: { status: { thumbnailUrl?: string } } }).stream.status
        .thumbnailUrl;
      if (named !== undefined && capabilityUrl.test(named)) url = named;
      else {
        expect(Date.now(), `status still names ${named}`).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const get = async (path: string) => {
      for (;;) {
        const r = await fetch(`${platform.urls.http}${path}`);
        if (r.ok) return Buffer.from(await r.arrayBuffer());
        expect(Date.now(), `${path} not served`).toBeLessThan(deadline);
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    const first = await get(url);
    expect(widthOf(first)).toBe(320);
    expect(widthOf(await get(url.replace('-320.jpg', '-640.jpg')))).toBe(640);
    // The public name is no longer written: the picture there stays the last public one.
    const publicBefore = await get(`/${id}/thumbnail-320.jpg`);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await get(`/${id}/thumbnail-320.jpg`)).equals(publicBefore)).toBe(true);
    expect((await get(url)).equals(first)).toBe(false);
    // Viewers without an entitlement are not told the URL: the public list no longer has the stream.
    const list = (await (await fetch(`${platform.urls.http}/api/sessions/streams`)).json()) as {
      streams: { id: string }[];
    };
    expect(list.streams.map((s) => s.id)).not.toContain(id);
  }, 60_000);
});

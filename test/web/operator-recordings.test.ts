import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../../core/adapters/storage/local.js';
import { recordingId, recordingKeys } from '../../core/contracts/names.js';
import { createApps, serveEdge } from '../../local/apps.js';
import { EdgeCache } from '../../local/edge/cache.js';
import { createMediaOrigin } from '../../local/edge/static-origin.js';
import { playbackViewerRequest } from '../../local/edge/viewer-request.js';
import { LocalPlaybackKeys } from '../../local/playback-keys.js';
import { Teardown } from '../../local/teardown.js';
import { TOKEN } from '../control/helpers.js';
import { launchChromium } from '../support/browser.js';
import { encodeTestSource } from '../support/media.js';
import { recordBroadcasts } from '../support/recordings.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
/** Eleven broadcasts: one more than a page (RECORDINGS_PAGE), so the second page holds the oldest. */
const BROADCASTS = Array.from({ length: 11 }, (_, i) => `mh3k2x9a7q${i.toString(36).padStart(2, '0')}`);
const NEWEST_FIRST = BROADCASTS.map((b) => recordingId('cam', b)).reverse();

/**
 * The operator page's recordings card (D40), in headless chromium through the local edge as `npm start` wires it:
 * a stream's recordings newest first a page at a time, one played with hls.js, one deleted after a confirmation,
 * after which the edge no longer serves what it had cached of it.
 */
interface OperatorEdge {
  /** HTTPS, where the browser keeps the playback cookie (Secure); `http` for the test's own fetches. */
  readonly https: string;
  readonly http: string;
  stop(): Promise<void>;
}

/**
 * The apps and the local edge as `npm start` wires them (one edge cache for the edge and the control API's
 * invalidations), on `redis` and a media directory holding `broadcasts` of `streamId`; with `protection`, the
 * edge's playback check (D37) and the session app signing from a local key ring, as `--playback-protection`.
 */
async function startOperatorEdge(
  redis: Redis,
  work: string,
  stream: { id: string; visibility: 'public' | 'private'; broadcasts: readonly string[] },
  protection: boolean,
): Promise<OperatorEdge> {
  const teardown = new Teardown((error) => {
    throw error;
  });
  const media = join(work, 'media');
  await mkdir(media, { recursive: true });
  const storage = new LocalDiskStorage(media);
  const source = await encodeTestSource(3);
  await recordBroadcasts(
    { storage, redis, streamId: stream.id, renditions: ['360p'] },
    stream.broadcasts,
    source,
  );
  const cache = new EdgeCache();
  const playbackKeys = protection ? new LocalPlaybackKeys() : undefined;
  await playbackKeys?.run('maintain');
  const apps = createApps(
    {
      redis,
      storage,
      controlToken: TOKEN,
      srt: { host: '127.0.0.1', port: 9000 },
      sessionSecret: 'operator-recordings-secret-0123456789',
      edgeCache: cache,
      ...(playbackKeys ? { playbackKeys } : {}),
    },
    teardown,
  );
  const { server } = await serveEdge(
    {
      apps,
      media: createMediaOrigin(media),
      dataDir: work,
      httpsPort: 0,
      httpPort: 0,
      cache,
      ...(playbackKeys ? { viewerRequest: playbackViewerRequest(playbackKeys.lookup) } : {}),
    },
    teardown,
  );
  const created = await apps.control.handle({
    method: 'POST',
    path: '/api/control/streams',
    query: {},
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ id: stream.id, name: stream.id, visibility: stream.visibility }),
  });
  expect(created.status).toBe(201);
  return {
    https: `https://127.0.0.1:${server.httpsPort}`,
    http: `http://127.0.0.1:${server.httpPort}`,
    stop: () => teardown.run(),
  };
}

interface OperatorFixture {
  edge: OperatorEdge;
  browser: Awaited<ReturnType<typeof launchChromium>>;
}

/** For the enclosing describe: redis-server, the operator edge on `stream` and Chromium, stopped after its tests. */
function useOperatorEdge(
  stream: { id: string; visibility: 'public' | 'private'; broadcasts: readonly string[] },
  protection: boolean,
): OperatorFixture {
  const fixture = {} as OperatorFixture;
  let server: RedisServer | undefined;
  let work: string | undefined;
  beforeAll(async () => {
    [server, work] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), 'mirror-op-rec-'))]);
    fixture.edge = await startOperatorEdge(server.client(), work, stream, protection);
    fixture.browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.edge?.stop();
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });
  return fixture;
}

/** Signs in to the operator page with the control token and picks `streamId` in the recordings card. */
async function openRecordings(page: import('playwright-core').Page, base: string, streamId: string) {
  await page.goto(`${base}/operator/`);
  await page.fill('#token', TOKEN);
  await page.click('button[type="submit"]');
  await page.waitForSelector(`#recordings-stream option[value="${streamId}"]`, { state: 'attached' });
  await page.selectOption('#recordings-stream', streamId);
}

/** Resolves once the recording player has played to (nearly) its 3 s end. */
const playedToEnd = (page: import('playwright-core').Page) =>
  page.waitForFunction(
    () => {
      const v = document.querySelector<HTMLVideoElement>('#recording-player');
      return v !== null && (v.ended || v.currentTime >= 2.5);
    },
    undefined,
    { timeout: 20_000 },
  );

describe('operator page: recordings (chromium, hls.js, local edge, real redis-server)', () => {
  const f = useOperatorEdge({ id: 'cam', visibility: 'public', broadcasts: BROADCASTS }, false);

  it('lists newest first by page, plays one to its end, deletes one after the confirmation', async () => {
    const page = await f.browser.context.newPage();
    await openRecordings(page, f.edge.http, 'cam');
    const ids = () =>
      page.$$eval('#recording-rows tr[data-recording]', (rows) =>
        rows.map((r) => (r as HTMLElement).dataset.recording),
      );
    await page.waitForFunction(
      () => document.querySelectorAll('#recording-rows tr[data-recording]').length === 10,
    );
    expect(await ids()).toEqual(NEWEST_FIRST.slice(0, 10));
    await page.click('#recordings-more');
    await page.waitForFunction(
      () => document.querySelectorAll('#recording-rows tr[data-recording]').length === 11,
    );
    expect(await ids()).toEqual(NEWEST_FIRST);
    expect(await page.isHidden('#recordings-more')).toBe(true);

    // Play the newest: hls.js in the page, through the edge (which caches its playlists and chunks).
    const newest = NEWEST_FIRST[0]!;
    await page.click(`tr[data-recording="${newest}"] button.play`);
    await playedToEnd(page);
    const multivariant = `${f.edge.http}/${recordingKeys.multivariant('cam', BROADCASTS.at(-1)!)}`;
    expect((await fetch(multivariant)).status).toBe(200);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'operator-recordings.png'), fullPage: true });

    // Dismissed: nothing is deleted. Accepted: the row goes, and the edge answers 404 for what it had cached.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click(`tr[data-recording="${newest}"] button.delete`);
    await page.waitForTimeout(500);
    expect((await ids())[0]).toBe(newest);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click(`tr[data-recording="${newest}"] button.delete`);
    await page.waitForFunction((id) => document.querySelector(`tr[data-recording="${id}"]`) === null, newest);
    expect((await ids())[0]).toBe(NEWEST_FIRST[1]);
    expect((await fetch(multivariant)).status).toBe(404);
    const audit = await fetch(`${f.edge.http}/api/control/audit`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect((await audit.json()).entries[0]).toMatchObject({ action: 'deleteRecording', target: newest });
    await page.close();
  }, 50_000);
});

describe('operator page: a private stream’s recording where the edge checks playback tokens (D37)', () => {
  const B = 'mh3k2x9a7qzz';
  const f = useOperatorEdge({ id: 'vault', visibility: 'private', broadcasts: [B] }, true);

  it('plays it with the cookie of a session the page opens; without one the edge refuses it', async () => {
    const multivariant = `/${recordingKeys.multivariant('vault', B)}`;
    expect((await fetch(`${f.edge.http}${multivariant}`)).status).toBe(403);
    const page = await f.browser.context.newPage();
    const media: string[] = [];
    page.on('response', (r) => {
      if (/\.(m3u8|m4s|mp4)$/.test(new URL(r.url()).pathname)) media.push(`${r.status()}`);
    });
    await openRecordings(page, f.edge.https, 'vault');
    await page.click(`tr[data-recording="${recordingId('vault', B)}"] button.play`);
    await playedToEnd(page);
    expect(media.length).toBeGreaterThanOrEqual(4);
    expect(new Set(media)).toEqual(new Set(['200']));
    const cookies = await f.browser.context.cookies(`${f.edge.https}/vault/`);
    expect(cookies.find((c) => c.name === 'mirror_play')).toMatchObject({ path: '/vault/', httpOnly: true });
    await page.close();
  }, 50_000);
});

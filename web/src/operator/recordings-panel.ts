// The operator page's recordings (decision D40): a stream's recordings newest first, a page at a time through the
// control API, one played in the page with hls.js, one deleted after a confirmation.
import Hls from 'hls.js';
import { h } from '../dom.js';
import { type Api, isUnauthorized } from './api.js';
import { fmt } from './format.js';
import { page } from './page.js';
import { openPlaybackAccess, type PlaybackAccess } from './playback-access.js';

/** A recording as the control API lists it (functions/control/routes/recordings.ts RecordingView). */
export interface Recording {
  id: string;
  streamId: string;
  start: string;
  end: string | null;
  durationS: number;
  bytes: number;
  renditions: string[];
  status: 'recording' | 'complete' | 'failed';
  playbackUrl: string | null;
}

/** Recordings asked for per page: a day of hourly broadcasts fits in three. */
export const RECORDINGS_PAGE = 10;

/** The cells of a recording's row: start (local time), duration, size, renditions and status. */
export function recordingCells(r: Recording): string[] {
  return [
    new Date(r.start).toLocaleString(),
    fmt(r.durationS, ' s', 1),
    fmt(r.bytes / 1_000_000, ' MB', 1),
    r.renditions.join(' '),
    r.status,
  ];
}

/**
 * Adds the recordings card to the signed-in page once the dashboard has drawn it (now, or when it does: the
 * dashboard owns the page's layout and may draw it after an await).
 */
export function showRecordings(api: Api): void {
  const main = page.app.querySelector('main.operator');
  if (main === null) {
    const observer = new MutationObserver(() => {
      if (page.app.querySelector('main.operator') === null) return;
      observer.disconnect();
      showRecordings(api);
    });
    observer.observe(page.app, { childList: true });
    return;
  }
  if (main.querySelector('#recordings-card') !== null) return;
  const streams = h('select', { id: 'recordings-stream' });
  const rows = h('tbody', { id: 'recording-rows' });
  const more = h('button', { id: 'recordings-more', type: 'button', hidden: true }, 'More');
  const banner = h('p', { className: 'error-banner', id: 'recordings-banner' });
  const video = h('video', { id: 'recording-player', controls: true, muted: true, width: 640, hidden: true });
  let player: Hls | undefined;
  let access: PlaybackAccess | undefined;
  let cursor: string | null = null;
  /** Private streams among those listed: their media need an entitlement where the edge checks tokens. */
  const privateStreams = new Set<string>();

  const fail = (error: unknown) => {
    if (!isUnauthorized(error)) banner.textContent = String((error as Error).message);
  };
  const play = async (r: Recording) => {
    const url = r.playbackUrl!;
    player?.destroy();
    player = undefined;
    access?.close();
    // The stream's playback cookie first (D37): on a protected stage the edge refuses the playlist without it.
    access = await openPlaybackAccess(api, r.streamId, privateStreams.has(r.streamId));
    video.hidden = false;
    if (Hls.isSupported()) {
      player = new Hls();
      player.loadSource(url);
      player.attachMedia(video);
    } else {
      // Safari plays HLS natively.
      video.src = url;
    }
    void video.play().catch(() => undefined);
  };
  const row = (r: Recording) =>
    h(
      'tr',
      { dataset: { recording: r.id, status: r.status } },
      ...recordingCells(r).map((cell) => h('td', {}, cell)),
      h(
        'td',
        { className: 'actions' },
        r.playbackUrl === null
          ? ''
          : h(
              'button',
              { className: 'play', type: 'button', onclick: () => void play(r).catch(fail) },
              'Play',
            ),
        // A recording still being recorded cannot be deleted (409); its button would only fail.
        r.status === 'recording'
          ? ''
          : h(
              'button',
              {
                className: 'danger delete',
                type: 'button',
                onclick: () => {
                  if (!confirm(`Delete the recording of ${r.start}? Its media is removed for good.`)) return;
                  void api('DELETE', `/recordings/${encodeURIComponent(r.id)}`)
                    .then(() => load(true))
                    .catch(fail);
                },
              },
              'Delete',
            ),
      ),
    );
  /** Loads the first page (`fresh`) or the next one, for the selected stream. */
  const load = async (fresh: boolean) => {
    banner.textContent = '';
    const stream = streams.value;
    if (fresh) cursor = null;
    if (stream === '') {
      rows.replaceChildren();
      return;
    }
    const query = new URLSearchParams({ limit: String(RECORDINGS_PAGE) });
    if (cursor !== null) query.set('cursor', cursor);
    const list = await api<{ recordings: Recording[]; nextCursor: string | null }>(
      'GET',
      `/streams/${encodeURIComponent(stream)}/recordings?${query}`,
    );
    // A fresh page replaces the rows only once it has arrived: no empty table in between (a reader, or a test,
    // would see the list as empty), and two fresh loads racing each other leave one page, not both.
    if (fresh) rows.replaceChildren(...list.recordings.map(row));
    else rows.append(...list.recordings.map(row));
    if (rows.childElementCount === 0)
      rows.append(h('tr', {}, h('td', { colSpan: 6, className: 'muted' }, 'No recordings.')));
    cursor = list.nextCursor;
    more.hidden = cursor === null;
  };
  const loadStreams = async () => {
    const list = await api<{ streams: { id: string; name: string; visibility?: string }[] }>(
      'GET',
      '/streams?limit=100',
    );
    privateStreams.clear();
    for (const s of list.streams) if (s.visibility === 'private') privateStreams.add(s.id);
    const chosen = streams.value;
    streams.replaceChildren(
      h('option', { value: '' }, 'Choose a stream'),
      ...list.streams.map((s) => h('option', { value: s.id }, `${s.name} (${s.id})`)),
    );
    if (list.streams.some((s) => s.id === chosen)) streams.value = chosen;
  };
  streams.onchange = () => void load(true).catch(fail);
  more.onclick = () => void load(false).catch(fail);
  const refresh = h(
    'button',
    {
      type: 'button',
      onclick: () =>
        void loadStreams()
          .then(() => load(true))
          .catch(fail),
    },
    'Refresh',
  );

  main.append(
    h(
      'section',
      { className: 'card', id: 'recordings-card' },
      h('h2', {}, 'Recordings'),
      h('div', { className: 'inline' }, streams, ' ', refresh),
      h(
        'table',
        { id: 'recordings' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Start', 'Duration', 'Size', 'Renditions', 'Status', ''].map((t) => h('th', {}, t)),
          ),
        ),
        rows,
      ),
      more,
      banner,
      video,
    ),
  );
  void loadStreams().catch(fail);
}

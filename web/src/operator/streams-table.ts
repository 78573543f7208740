import { h } from '../dom.js';
import type { Act, Api } from './api.js';
import { streamCells } from './format.js';
import type { Credentials, Stream } from './model.js';

export const STREAM_HEADERS = [
  'State',
  'Stream',
  'Access',
  'Input',
  'Bitrate',
  'SRT RTT / loss · RTP',
  'Latency',
  'Viewers',
  'Task',
  '',
] as const;

/** What a row's buttons do: rotate shows the new credentials; kick, purge and delete refresh the table. */
export interface RowActions {
  readonly api: Api;
  readonly act: Act;
  readonly showCredentials: (title: string, credentials: Credentials) => void;
}

/** Fills the table body with one row per stream (or a placeholder row when there are none). */
export function renderStreamRows(body: HTMLElement, streams: readonly Stream[], actions: RowActions): void {
  body.replaceChildren(...streams.map((s) => streamRow(s, actions)));
  if (streams.length === 0)
    body.append(
      h('tr', {}, h('td', { colSpan: STREAM_HEADERS.length, className: 'muted' }, 'No streams yet.')),
    );
}

function streamRow(s: Stream, actions: RowActions): HTMLTableRowElement {
  const cells = streamCells(s);
  return h(
    'tr',
    { dataset: { stream: s.id, state: s.status.state } },
    h('td', {}, h('span', { className: `dot ${s.status.state}` }), ' ', s.status.state),
    h(
      'td',
      {},
      thumbnail(s.status.thumbnailUrl),
      h('b', {}, s.name),
      h('div', { className: 'muted' }, cells.details),
    ),
    visibilityCell(s, actions),
    h('td', {}, cells.input, h('div', { className: 'muted sync' }, cells.sync)),
    h('td', { className: 'bitrate' }, cells.bitrate),
    h('td', { className: 'srt' }, cells.srt),
    h('td', { className: 'latency' }, cells.latency),
    h('td', { className: 'viewers' }, cells.viewers),
    h('td', {}, cells.task),
    rowButtons(s, actions),
  );
}

/**
 * The live stream's latest picture (D41), fetched again at each table refresh: it is cached 1 s, so each render
 * shows one at most a couple of seconds old; hidden when it is not there yet (the first second of a publish).
 */
export function thumbnail(url: string | undefined): HTMLElement | string {
  if (url === undefined) return '';
  const img = h('img', { className: 'thumb', src: url, alt: '', width: 160, loading: 'lazy' });
  img.onerror = () => img.remove();
  return img;
}

/** The stream's visibility (D36), and the button that flips it (takes effect for new sessions and the list). */
function visibilityCell(s: Stream, { api, act }: RowActions): HTMLTableCellElement {
  const visibility = s.visibility ?? 'public';
  const other = visibility === 'public' ? 'private' : 'public';
  return h(
    'td',
    { className: 'visibility', dataset: { visibility } },
    visibility,
    ' ',
    h(
      'button',
      {
        title: `Make ${other}`,
        onclick: () => act(async () => void (await api('PATCH', `/streams/${s.id}`, { visibility: other }))),
      },
      `Make ${other}`,
    ),
  );
}

function rowButtons(s: Stream, { api, act, showCredentials }: RowActions): HTMLTableCellElement {
  return h(
    'td',
    { className: 'actions' },
    h(
      'button',
      {
        onclick: () =>
          act(async () =>
            showCredentials(
              s.name,
              (await api<{ credentials: Credentials }>('POST', `/streams/${s.id}/rotate`, {})).credentials,
            ),
          ),
      },
      'Rotate',
    ),
    h(
      'button',
      { onclick: () => act(async () => void (await api('POST', `/streams/${s.id}/disconnect`, {}))) },
      'Kick',
    ),
    // Pause keeps the encoder connected and shows viewers a slate; the record keeps it until resumed (D32).
    h(
      'button',
      {
        className: 'pause',
        onclick: () =>
          act(async () => void (await api('POST', `/streams/${s.id}/${s.paused ? 'resume' : 'pause'}`))),
      },
      s.paused ? 'Resume' : 'Pause',
    ),
    h(
      'button',
      { onclick: () => act(async () => void (await api('POST', `/streams/${s.id}/restart`))) },
      'Restart',
    ),
    h(
      'button',
      { onclick: () => act(async () => void (await api('POST', `/streams/${s.id}/invalidate`))) },
      'Purge cache',
    ),
    h(
      'button',
      {
        className: 'danger',
        onclick: () => {
          if (confirm(`Delete ${s.name}? Its publisher is kicked and its keys removed.`)) {
            void act(async () => void (await api('DELETE', `/streams/${s.id}`)));
          }
        },
      },
      'Delete',
    ),
  );
}

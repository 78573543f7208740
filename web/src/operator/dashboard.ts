// The signed-in page: the new-stream form, the streams table and ingest capacity. Changes are pushed (live updates,
// D44: operator/live-updates.ts); the page polls every REFRESH_MS only while the push is down.
import { h } from '../dom.js';
import { type Act, type Api, isUnauthorized } from './api.js';
import { createStreamForm } from './create-form.js';
import { credentialsDialog } from './credentials-dialog.js';
import { renderIngest } from './ingest-panel.js';
import {
  type AlarmEvent,
  applyStatus,
  applyViewers,
  mergeFetched,
  type StatusEvent,
  startLiveUpdates,
  type UpdatesMode,
  type ViewersEvent,
} from './live-updates.js';
import type { Ingest, Stream } from './model.js';
import { page } from './page.js';
import { renderStreamRows, STREAM_HEADERS } from './streams-table.js';

/** Polling, while the live updates are down. */
const REFRESH_MS = 2000;
/**
 * While changes are pushed: one full read this often for the figures no event carries (ingest capacity: task
 * reports and the ECS service, not one Redis read), and to mend a hint pub/sub lost; not for state or viewers.
 */
const RECONCILE_MS = 10_000;
/** Events arriving together are drawn once: a burst of status events costs one table render. */
const RENDER_DELAY_MS = 50;

let timer: ReturnType<typeof setTimeout> | undefined;
let updates: { stop(): void } | undefined;

/** Stops the refresh loop and the live updates (sign-out, or a sign-in redirect under way). */
export function stopRefresh(): void {
  clearTimeout(timer);
  updates?.stop();
  updates = undefined;
}

export async function showDashboard(api: Api): Promise<void> {
  page.logout.hidden = false;
  const streamsBody = h('tbody', { id: 'stream-rows' });
  const ingestBox = h('div', { id: 'ingest' });
  const banner = h('p', { className: 'error-banner', id: 'banner' });
  const credentials = credentialsDialog();

  let streams: Stream[] = [];
  let mode: UpdatesMode = 'connecting';
  const draw = () => {
    renderStreamRows(streamsBody, streams, { api, act, showCredentials: credentials.show });
    page.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };
  const refresh = async () => {
    const [list, ingest] = await Promise.all([
      api<{ streams: Stream[] }>('GET', '/streams?limit=100'),
      api<Ingest>('GET', '/ingest'),
    ]);
    streams = mergeFetched(list.streams, streams);
    draw();
    renderIngest(ingestBox, ingest, api, act);
  };
  const act: Act = async (run) => {
    try {
      banner.textContent = '';
      await run();
      await refresh();
    } catch (error) {
      if (!isUnauthorized(error)) banner.textContent = String((error as Error).message);
    }
  };

  page.app.replaceChildren(
    h(
      'main',
      { className: 'operator' },
      h(
        'section',
        { className: 'card' },
        h('h2', {}, 'New stream'),
        createStreamForm(api, act, credentials.show),
        banner,
      ),
      h(
        'section',
        { className: 'card' },
        h('h2', {}, 'Streams'),
        h(
          'table',
          { id: 'streams' },
          h('thead', {}, h('tr', {}, ...STREAM_HEADERS.map((t) => h('th', {}, t)))),
          streamsBody,
        ),
      ),
      h('section', { className: 'card' }, h('h2', {}, 'Ingest capacity'), ingestBox),
      credentials.dialog,
    ),
  );

  const loop = async () => {
    clearTimeout(timer);
    try {
      await refresh();
    } catch (error) {
      if (isUnauthorized(error)) return;
      banner.textContent = String((error as Error).message);
    }
    // Reads overlap (an event's refetch during a timed one): one timer stays, never one chain per read.
    clearTimeout(timer);
    timer = setTimeout(() => void loop(), mode === 'push' ? RECONCILE_MS : REFRESH_MS);
  };
  stopRefresh();
  const scheduleDraw = coalesced(draw);
  const scheduleRefetch = coalesced(() => void loop());
  updates = liveUpdates(api, {
    status: (event) => {
      streams = applyStatus(streams, event);
      scheduleDraw();
    },
    viewers: (event) => {
      const next = applyViewers(streams, event);
      if (next === streams) return;
      streams = next;
      scheduleDraw();
    },
    // A change the event does not carry in full (a new or deleted stream, a `sync` after a reconnect): read it all.
    refetch: scheduleRefetch,
    // A stream that went into error (or degraded storage) says so in the banner until it clears.
    alarm: (event) => {
      const prefix = `${event.streamId}: `;
      if (event.alarm === 'raised') banner.textContent = `${prefix}${event.reason}`;
      else if (banner.textContent?.startsWith(prefix)) banner.textContent = '';
    },
    mode: (next) => {
      mode = next;
      document.body.dataset.updates = next;
      // Polling starts at once when the push goes down; a push that comes up leaves the timer to the next loop.
      if (next === 'polling') void loop();
    },
  });
  await loop();
}

/** `run` once, RENDER_DELAY_MS after the first of any number of calls meanwhile. */
function coalesced(run: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      run();
    }, RENDER_DELAY_MS);
  };
}

/** The live updates wired to the dashboard: status and viewers events patch the table, the others ask for a full read. */
function liveUpdates(
  api: Api,
  on: {
    status(event: StatusEvent): void;
    viewers(event: ViewersEvent): void;
    refetch(): void;
    alarm(event: AlarmEvent): void;
    mode(mode: UpdatesMode): void;
  },
): { stop(): void } | undefined {
  const { credential } = api;
  if (!credential) return undefined;
  return startLiveUpdates({
    credential,
    onMode: on.mode,
    onMessage: (message) => {
      if (message.event === 'status') on.status(JSON.parse(message.data) as StatusEvent);
      else if (message.event === 'viewers') on.viewers(JSON.parse(message.data) as ViewersEvent);
      else if (message.event === 'bye' || message.event === 'overflow') return;
      else {
        if (message.event === 'alarm') on.alarm(JSON.parse(message.data) as AlarmEvent);
        if (message.event === 'recording') {
          // The recordings card (operator/recordings-panel.ts) may listen for its own refresh.
          document.dispatchEvent(new CustomEvent('mirror:recording', { detail: JSON.parse(message.data) }));
        }
        on.refetch();
      }
    },
  });
}

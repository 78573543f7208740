// The signed-in page: the new-stream form, the streams table and ingest capacity, refreshed every REFRESH_MS.
import { h } from '../dom.js';
import { type Act, type Api, isUnauthorized } from './api.js';
import { createStreamForm } from './create-form.js';
import { credentialsDialog } from './credentials-dialog.js';
import { renderIngest } from './ingest-panel.js';
import type { Ingest, Stream } from './model.js';
import { page } from './page.js';
import { renderStreamRows, STREAM_HEADERS } from './streams-table.js';

const REFRESH_MS = 2000;

let timer: ReturnType<typeof setTimeout> | undefined;

/** Stops the refresh loop (sign-out, or a sign-in redirect under way). */
export function stopRefresh(): void {
  clearTimeout(timer);
}

export async function showDashboard(api: Api): Promise<void> {
  page.logout.hidden = false;
  const streamsBody = h('tbody', { id: 'stream-rows' });
  const ingestBox = h('div', { id: 'ingest' });
  const banner = h('p', { className: 'error-banner', id: 'banner' });
  const credentials = credentialsDialog();

  const refresh = async () => {
    const [list, ingest] = await Promise.all([
      api<{ streams: Stream[] }>('GET', '/streams?limit=100'),
      api<Ingest>('GET', '/ingest'),
    ]);
    renderStreamRows(streamsBody, list.streams, { api, act, showCredentials: credentials.show });
    renderIngest(ingestBox, ingest, api, act);
    page.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
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
    try {
      await refresh();
    } catch (error) {
      if (isUnauthorized(error)) return;
      banner.textContent = String((error as Error).message);
    }
    timer = setTimeout(() => void loop(), REFRESH_MS);
  };
  stopRefresh();
  await loop();
}

// The operator page: streams with status and live figures, create / rotate / kick / delete, ingest capacity.
// Two ways to sign in (decision D12):
//   - on AWS the stack deploys /operator/config.json: the page signs in through the Cognito Hosted UI
//     (authorization code + PKCE) and calls /api/operator with the access token (API Gateway's JWT authorizer);
//   - without it (the embedded default) it asks for MIRROR_CONTROL_TOKEN and calls /api/control with it.
// Tokens are kept in sessionStorage: this tab only.

import {
  authorizeUrl,
  codeChallengeS256,
  codeVerifier,
  logoutUrl,
  newState,
  type OperatorAuthConfig,
  parseAuthConfig,
  parseTokenResponse,
  readCallback,
  tokenRequest,
  usableTokens,
} from './operator-auth.js';

interface StreamStatus {
  state: 'live' | 'idle' | 'error';
  taskId?: string;
  input?: { codec?: string; width?: number; height?: number; fps?: number; bitrateKbps?: number };
  srt?: { rttMs?: number; lossPercent?: number };
  renditions: string[];
  latencyMs?: number;
  error?: string;
}
interface Stream {
  id: string;
  name: string;
  ladder: string;
  latency: string;
  encrypted: boolean;
  status: StreamStatus;
  viewers: number;
}
interface Credentials {
  publishKey: string;
  passphrase: string | null;
  srtUrl: string;
  srtPlainKeyUrl: string;
}
interface Ingest {
  tasks: { taskId: string; capacity?: number; streams?: number; cpuPercent?: number; gpu?: boolean }[];
  totals: { capacity: number; streams: number };
  service: {
    desiredCount: number;
    runningCount: number;
    pendingCount: number;
    minTasks: number;
    maxTasks: number;
  } | null;
}

const TOKEN_KEY = 'mirror.controlToken';
const OAUTH_TOKENS_KEY = 'mirror.operatorTokens';
const OAUTH_PENDING_KEY = 'mirror.operatorSignIn';
const REFRESH_MS = 2000;
const app = document.getElementById('app') as HTMLElement;
const updated = document.getElementById('updated') as HTMLElement;
const logout = document.getElementById('logout') as HTMLButtonElement;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(el, rest);
  if (dataset) Object.assign(el.dataset, dataset);
  el.append(...children);
  return el;
}

class ApiFailure extends Error {}

/** Set when /operator/config.json names a Cognito user pool (AWS); undefined in the embedded default. */
let cognito: OperatorAuthConfig | undefined;
/** The page's own URL, registered as the app client's callback and sign-out URL. */
const pageUrl = () => `${location.origin}/operator/`;

async function loadAuthConfig(): Promise<OperatorAuthConfig | undefined> {
  try {
    const response = await fetch('/operator/config.json', { cache: 'no-store' });
    return response.ok ? parseAuthConfig(await response.json()) : undefined;
  } catch {
    return undefined; // no file, or not JSON (a local edge answering with a page): bearer-token mode
  }
}

/** Set once a redirect to the Hosted UI is under way: parallel 401s must not start a second one. */
let signingIn = false;

/** Sends the browser to the Hosted UI; the verifier and state wait in sessionStorage for the callback. */
async function startSignIn(config: OperatorAuthConfig): Promise<void> {
  // Two requests refused together would otherwise store two states, and the callback would carry the other one.
  if (signingIn) return;
  signingIn = true;
  const verifier = codeVerifier();
  const state = newState();
  sessionStorage.setItem(OAUTH_PENDING_KEY, JSON.stringify({ verifier, state }));
  const challenge = await codeChallengeS256(verifier);
  location.assign(authorizeUrl(config, { redirectUri: pageUrl(), state, challenge }));
}

/** Handles `?code=&state=` (or `?error=`) from the Hosted UI. Returns a problem to show, or undefined. */
async function finishSignIn(config: OperatorAuthConfig): Promise<string | undefined> {
  const pending = JSON.parse(sessionStorage.getItem(OAUTH_PENDING_KEY) ?? '{}') as {
    verifier?: string;
    state?: string;
  };
  const callback = readCallback(location.search, pending.state ?? null);
  if (callback.kind === 'none') return undefined;
  sessionStorage.removeItem(OAUTH_PENDING_KEY);
  history.replaceState(null, '', location.pathname); // the code is single-use: keep it out of history
  if (callback.kind === 'error') return callback.message;
  if (!pending.verifier) return 'the sign-in was started in another tab; sign in again';
  const { url, init } = tokenRequest(config, {
    code: callback.code,
    verifier: pending.verifier,
    redirectUri: pageUrl(),
  });
  try {
    const response = await fetch(url, init);
    const json = (await response.json()) as { error?: string };
    if (!response.ok) return `sign-in refused: ${json.error ?? response.status}`;
    sessionStorage.setItem(OAUTH_TOKENS_KEY, JSON.stringify(parseTokenResponse(json, Date.now())));
    return undefined;
  } catch (error) {
    return `sign-in failed: ${(error as Error).message}`;
  }
}

function authorization(): string {
  if (cognito) {
    return `Bearer ${usableTokens(sessionStorage.getItem(OAUTH_TOKENS_KEY), Date.now())?.accessToken ?? ''}`;
  }
  return `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}`;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${cognito?.apiBase ?? '/api/control'}${path}`, {
    method,
    headers: {
      authorization: authorization(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    if (cognito) {
      // Expired or revoked: sign in again (the Hosted UI session usually makes this a quick round trip).
      sessionStorage.removeItem(OAUTH_TOKENS_KEY);
      clearTimeout(timer);
      void startSignIn(cognito);
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin('The token was refused.');
    }
    throw new ApiFailure('unauthorized');
  }
  if (response.status === 204) return undefined as T;
  const json = (await response.json()) as T & { message?: string; field?: string };
  if (!response.ok)
    throw new ApiFailure(
      json.field ? `${json.field}: ${json.message}` : (json.message ?? String(response.status)),
    );
  return json;
}

/** AWS: one button to the Hosted UI, shown after a failed sign-in (no automatic redirect loop). */
function showCognitoLogin(config: OperatorAuthConfig, problem?: string): void {
  logout.hidden = true;
  const button = h('button', { className: 'primary', type: 'button', id: 'sign-in' }, 'Sign in');
  button.addEventListener('click', () => void startSignIn(config));
  app.replaceChildren(
    h(
      'section',
      { className: 'card login' },
      h('h2', {}, 'Sign in'),
      h('p', { className: 'muted' }, 'Operators sign in with their Mirror operator account.'),
      h('p', {}, button),
      h('p', { className: 'error-banner' }, problem ?? ''),
    ),
  );
}

function showLogin(problem?: string): void {
  logout.hidden = true;
  const input = h('input', {
    type: 'password',
    placeholder: 'Operator token',
    autocomplete: 'off',
    id: 'token',
  });
  input.style.width = '100%';
  const form = h(
    'form',
    { className: 'card login' },
    h('h2', {}, 'Sign in'),
    h(
      'p',
      { className: 'muted' },
      'Enter the control token (MIRROR_CONTROL_TOKEN). It is kept for this tab only.',
    ),
    input,
    h('p', {}, h('button', { className: 'primary', type: 'submit' }, 'Continue')),
    h('p', { className: 'error-banner' }, problem ?? ''),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    void showDashboard();
  });
  app.replaceChildren(h('section', { className: 'card login' }, form));
  input.focus();
}

const fmt = (value: number | undefined, unit = '', digits = 0) =>
  value === undefined ? '–' : `${value.toFixed(digits)}${unit}`;

let timer: ReturnType<typeof setTimeout> | undefined;

async function showDashboard(): Promise<void> {
  logout.hidden = false;
  const streamsBody = h('tbody', { id: 'stream-rows' });
  const ingestBox = h('div', { id: 'ingest' });
  const banner = h('p', { className: 'error-banner', id: 'banner' });
  const dialog = h('dialog', { id: 'credentials' });

  const name = h('input', { placeholder: 'Stream name', required: true, name: 'name' });
  const ladder = h(
    'select',
    { name: 'ladder' },
    ...['tile', 'full', 'passthrough'].map((l) => h('option', { value: l }, l)),
  );
  const latency = h(
    'select',
    { name: 'latency' },
    h('option', { value: 'low' }, 'low latency'),
    h('option', { value: 'standard' }, 'standard'),
  );
  const encrypted = h('input', { type: 'checkbox', checked: true, name: 'encrypted' });
  const create = h(
    'form',
    { className: 'inline', id: 'create' },
    name,
    ladder,
    latency,
    h('label', { className: 'muted' }, encrypted, ' encrypted'),
    h('button', { className: 'primary', type: 'submit' }, 'Create stream'),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(async () => {
      const result = await api<{ stream: Stream; credentials: Credentials }>('POST', '/streams', {
        name: name.value,
        ladder: ladder.value,
        latency: latency.value,
        encrypted: encrypted.checked,
        clientToken: crypto.randomUUID(),
      });
      name.value = '';
      showCredentials(result.stream.name, result.credentials);
    });
  });

  const showCredentials = (title: string, c: Credentials) => {
    dialog.replaceChildren(
      h('h2', {}, `Credentials for ${title}`),
      h('p', { className: 'muted' }, 'Shown once. Copy them into the encoder now.'),
      h('div', {}, 'SRT URL', h('code', { className: 'srt-url' }, c.srtUrl)),
      h('div', {}, 'SRT URL (plain key as streamid)', h('code', {}, c.srtPlainKeyUrl)),
      h('div', {}, 'Passphrase', h('code', {}, c.passphrase ?? '(none: unencrypted)')),
      h('form', { method: 'dialog' }, h('button', { className: 'primary' }, 'Done')),
    );
    dialog.showModal();
  };

  const act = async (run: () => Promise<void>) => {
    try {
      banner.textContent = '';
      await run();
      await refresh();
    } catch (error) {
      if (!(error instanceof ApiFailure && error.message === 'unauthorized'))
        banner.textContent = String((error as Error).message);
    }
  };

  const row = (s: Stream) => {
    const input = s.status.input;
    const buttons = h(
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
    return h(
      'tr',
      { dataset: { stream: s.id, state: s.status.state } },
      h('td', {}, h('span', { className: `dot ${s.status.state}` }), ' ', s.status.state),
      h(
        'td',
        {},
        h('b', {}, s.name),
        h('div', { className: 'muted' }, `${s.id} · ${s.ladder} · ${s.latency}`),
      ),
      h(
        'td',
        {},
        input?.codec ? `${input.codec} ${input.width ?? '?'}×${input.height ?? '?'} @${fmt(input.fps)}` : '–',
      ),
      h(
        'td',
        { className: 'bitrate' },
        fmt(input?.bitrateKbps !== undefined ? input.bitrateKbps / 1000 : undefined, ' Mbps', 1),
      ),
      h(
        'td',
        { className: 'srt' },
        `${fmt(s.status.srt?.rttMs, ' ms')} / ${fmt(s.status.srt?.lossPercent, ' %', 2)}`,
      ),
      h(
        'td',
        { className: 'latency' },
        fmt(s.status.latencyMs !== undefined ? s.status.latencyMs / 1000 : undefined, ' s', 2),
      ),
      h('td', { className: 'viewers' }, String(s.viewers)),
      h('td', {}, s.status.taskId ?? '–'),
      buttons,
    );
  };

  const renderIngest = (ingest: Ingest) => {
    const service = ingest.service;
    const kpi = (value: string, label: string) =>
      h('div', { className: 'kpi' }, h('b', {}, value), h('span', {}, label));
    const scale = h('form', { className: 'inline' });
    if (service) {
      const count = h('input', {
        type: 'number',
        min: String(service.minTasks),
        max: String(service.maxTasks),
        value: String(service.desiredCount),
      });
      count.style.width = '80px';
      scale.append(
        h('span', { className: 'muted' }, `Tasks (${service.minTasks}–${service.maxTasks})`),
        count,
        h('button', { type: 'submit' }, 'Scale'),
      );
      scale.addEventListener('submit', (event) => {
        event.preventDefault();
        void act(async () => void (await api('PUT', '/ingest/scale', { desiredCount: Number(count.value) })));
      });
    }
    ingestBox.replaceChildren(
      h(
        'div',
        { className: 'kpis' },
        kpi(`${ingest.totals.streams} / ${ingest.totals.capacity}`, 'streams / capacity'),
        kpi(String(ingest.tasks.length), 'tasks reporting'),
        ...(service
          ? [kpi(`${service.runningCount} / ${service.desiredCount}`, 'ECS running / desired')]
          : []),
      ),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h('tr', {}, ...['Task', 'Streams', 'Capacity', 'CPU', 'GPU'].map((t) => h('th', {}, t))),
        ),
        h(
          'tbody',
          {},
          ...ingest.tasks.map((t) =>
            h(
              'tr',
              {},
              h('td', {}, t.taskId),
              h('td', {}, fmt(t.streams)),
              h('td', {}, fmt(t.capacity)),
              h('td', {}, fmt(t.cpuPercent, ' %')),
              h('td', {}, t.gpu ? 'yes' : 'no'),
            ),
          ),
        ),
      ),
      scale,
    );
  };

  const refresh = async () => {
    const [list, ingest] = await Promise.all([
      api<{ streams: Stream[] }>('GET', '/streams?limit=100'),
      api<Ingest>('GET', '/ingest'),
    ]);
    streamsBody.replaceChildren(...list.streams.map(row));
    if (list.streams.length === 0)
      streamsBody.append(h('tr', {}, h('td', { colSpan: 9, className: 'muted' }, 'No streams yet.')));
    renderIngest(ingest);
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  const headers = ['State', 'Stream', 'Input', 'Bitrate', 'SRT RTT / loss', 'Latency', 'Viewers', 'Task', ''];
  app.replaceChildren(
    h(
      'main',
      { className: 'operator' },
      h('section', { className: 'card' }, h('h2', {}, 'New stream'), create, banner),
      h(
        'section',
        { className: 'card' },
        h('h2', {}, 'Streams'),
        h(
          'table',
          { id: 'streams' },
          h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', {}, t)))),
          streamsBody,
        ),
      ),
      h('section', { className: 'card' }, h('h2', {}, 'Ingest capacity'), ingestBox),
      dialog,
    ),
  );

  const loop = async () => {
    try {
      await refresh();
    } catch (error) {
      if (error instanceof ApiFailure && error.message === 'unauthorized') return;
      banner.textContent = String((error as Error).message);
    }
    timer = setTimeout(() => void loop(), REFRESH_MS);
  };
  clearTimeout(timer);
  await loop();
}

logout.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OAUTH_TOKENS_KEY);
  clearTimeout(timer);
  // Ends the Hosted UI session too, else the next sign-in would pass without a password.
  if (cognito) location.assign(logoutUrl(cognito, pageUrl()));
  else showLogin();
});

async function start(): Promise<void> {
  cognito = await loadAuthConfig();
  if (!cognito) {
    if (sessionStorage.getItem(TOKEN_KEY)) void showDashboard();
    else showLogin();
    return;
  }
  const problem = await finishSignIn(cognito);
  if (problem) showCognitoLogin(cognito, problem);
  else if (usableTokens(sessionStorage.getItem(OAUTH_TOKENS_KEY), Date.now())) void showDashboard();
  else await startSignIn(cognito);
}

void start();

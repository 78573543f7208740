// The operator page: streams with status and live figures, create / rotate / kick / delete, ingest capacity.
// Two ways to sign in (decision D12):
//   - on AWS the stack deploys /operator/config.json: the page signs in through the Cognito Hosted UI
//     (authorization code + PKCE) and calls /api/operator with the access token (API Gateway's JWT authorizer);
//   - without it (the embedded default) it asks for MIRROR_CONTROL_TOKEN and calls /api/control with it.
// Tokens are kept in sessionStorage: this tab only.

import { type Api, createApi } from './operator/api.js';
import { showDashboard, stopRefresh } from './operator/dashboard.js';
import { showCognitoLogin, showTokenLogin } from './operator/login.js';
import { page } from './operator/page.js';
import { showRecordings } from './operator/recordings-panel.js';
import {
  finishSignIn,
  forgetAll,
  hasControlToken,
  hasUsableTokens,
  loadAuthConfig,
  pageUrl,
  startSignIn,
} from './operator/sign-in.js';
import { logoutUrl, type OperatorAuthConfig } from './operator-auth.js';

/** Set when /operator/config.json names a Cognito user pool (AWS); undefined in the embedded default. */
let cognito: OperatorAuthConfig | undefined;
/** The control API client, made once the sign-in mode is known. */
let api: Api;

/** The API refused the credential (already forgotten): sign in again. */
function onRefused(): void {
  if (cognito) {
    // Expired or revoked: the Hosted UI session usually makes this a quick round trip.
    stopRefresh();
    void startSignIn(cognito);
  } else {
    showLogin('The token was refused.');
  }
}

/** The signed-in page: the dashboard, and the recordings card below it (D40). */
function openDashboard(): void {
  void showDashboard(api);
  showRecordings(api);
}

function showLogin(problem?: string): void {
  showTokenLogin(openDashboard, problem);
}

page.logout.addEventListener('click', () => {
  forgetAll();
  stopRefresh();
  // Ends the Hosted UI session too, else the next sign-in would pass without a password.
  if (cognito) location.assign(logoutUrl(cognito, pageUrl()));
  else showLogin();
});

async function start(): Promise<void> {
  cognito = await loadAuthConfig();
  api = createApi(cognito, onRefused);
  if (!cognito) {
    if (hasControlToken()) openDashboard();
    else showLogin();
    return;
  }
  const problem = await finishSignIn(cognito);
  if (problem) showCognitoLogin(cognito, problem);
  else if (hasUsableTokens()) openDashboard();
  else await startSignIn(cognito);
}

void start();

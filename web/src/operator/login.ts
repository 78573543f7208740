// The sign-in screens: the Hosted UI button (AWS) or the control-token form (the embedded default).
import { h } from '../dom.js';
import type { OperatorAuthConfig } from '../operator-auth.js';
import { page } from './page.js';
import { saveControlToken, startSignIn } from './sign-in.js';

/** AWS: one button to the Hosted UI, shown after a failed sign-in (no automatic redirect loop). */
export function showCognitoLogin(config: OperatorAuthConfig, problem?: string): void {
  page.logout.hidden = true;
  const button = h('button', { className: 'primary', type: 'button', id: 'sign-in' }, 'Sign in');
  button.addEventListener('click', () => void startSignIn(config));
  page.app.replaceChildren(
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

/** The embedded default: asks for MIRROR_CONTROL_TOKEN, keeps it for this tab and calls `onToken`. */
export function showTokenLogin(onToken: () => void, problem?: string): void {
  page.logout.hidden = true;
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
    saveControlToken(input.value.trim());
    onToken();
  });
  page.app.replaceChildren(h('section', { className: 'card login' }, form));
  input.focus();
}

/** The log-in form (tenant id and API key, checked against the API) used by the work and tenant views. */
import { ApiError, logIn } from './api.ts';
import { field, h, message } from './dom.ts';

export function loginForm(onDone: () => void): HTMLElement {
  const tenant = h('input', { name: 'tenant', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'off' });
  const key = h('input', { name: 'key', type: 'password', autocomplete: 'current-password', required: true, placeholder: 'kml_…' });
  const note = h('p', { role: 'alert', class: 'message' });
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, 'Log in'),
    h('p', { class: 'muted' }, 'With your tenant id and an API key (an operator key sees every tenant). The key stays in this browser tab only.'),
    field('Tenant id', tenant),
    field('API key', key),
    h('button', { type: 'submit' }, 'Log in'),
    note,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message(note, 'Checking…');
    try {
      await logIn(tenant.value.trim(), key.value.trim());
      onDone();
    } catch (err) {
      message(note, err instanceof ApiError ? `Not logged in: ${err.message} (${err.code})` : `Not logged in: ${String(err)}`, 'error');
      key.focus();
    }
  });
  return form;
}

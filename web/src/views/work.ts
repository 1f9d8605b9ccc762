/**
 * Work view (`#/work`): queued and running jobs with filters (tenant, class, pool, state); `#/work/<tenant>/<id>`
 * is one job: its plan — where, when and why (the candidates' scores) — and its events. Needs a key: a tenant
 * sees its own jobs, an operator every tenant's. Data: `GET /v1/jobs`, `GET /v1/jobs/:id`, `…/plan`, `…/events`.
 */
import { currentSession, api } from '../api.ts';
import { count, field, fill, h, message, select } from '../dom.ts';
import { jobDetail, jobsTable } from '../jobs-ui.ts';
import { loginForm } from '../login.ts';
import { JOB_CLASSES, JOB_STATUSES, POOL_CLASSES } from '../types.ts';
import type { View } from '../view.ts';

const OPEN = 'submitted,planned,transferring,running,paused';

/** Filters survive leaving the view and coming back. */
const filters = { status: OPEN, class: '', poolClass: '', tenant: '' };

export function workView(root: HTMLElement, parts: string[], rerender: () => void): View {
  const session = currentSession();
  if (!session) {
    fill(root, h('h1', null, 'Work'), h('p', null, 'Jobs, their plans and events need an API key.'), loginForm(rerender));
    return { refresh: async () => {}, dispose: () => {} };
  }
  if (parts.length >= 2) {
    const [tenant, id] = parts;
    const box = h('div', { role: 'region', 'aria-label': `Job ${id}` }, h('p', { class: 'muted' }, 'Loading…'));
    fill(root, h('h1', null, 'Work'), h('p', null, h('a', { href: '#/work' }, '← All jobs')), box);
    return {
      async refresh() {
        try {
          fill(box, await jobDetail(tenant, id, () => void this.refresh()));
        } catch (err) {
          fill(box, h('p', { class: 'message error' }, `Cannot show job ${id}: ${err instanceof Error ? err.message : String(err)}`));
        }
      },
      dispose: () => {},
    };
  }

  const operator = session.role === 'operator';
  const status = select('status', [[OPEN, 'queued or running'], ['', 'any state'], ...JOB_STATUSES.map((s): [string, string] => [s, s])], filters.status);
  const jobClass = select('class', [['', 'any class'], ...JOB_CLASSES.map((c): [string, string] => [c, c])], filters.class);
  const poolClass = select('poolClass', [['', 'any pool'], ...POOL_CLASSES.map((c): [string, string] => [c, c])], filters.poolClass);
  const tenant = h('input', { name: 'tenant', value: filters.tenant, placeholder: 'all tenants', spellcheck: 'false', autocapitalize: 'off' });
  const note = h('p', { role: 'status', class: 'muted' });
  const list = h('div');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Job filters' },
    field('State', status),
    field('Job class', jobClass),
    field('Pool class', poolClass),
    operator ? field('Tenant', tenant) : null,
    h('button', { type: 'submit' }, 'Apply'),
  );
  fill(root, h('h1', null, 'Work'), h('p', { class: 'muted' }, operator ? 'Every tenant’s jobs (operator key).' : `Jobs of ${session.name}.`), form, note, list);

  const view: View = {
    async refresh() {
      Object.assign(filters, { status: status.value, class: jobClass.value, poolClass: poolClass.value, tenant: operator ? tenant.value.trim() : '' });
      try {
        const page = await api.jobs({ status: filters.status || undefined, class: filters.class || undefined, poolClass: filters.poolClass || undefined, tenant: filters.tenant || undefined });
        message(note, count(page.jobs.length, 'job', page.next !== null));
        fill(list, jobsTable('Jobs', page.jobs, operator));
      } catch (err) {
        message(note, `Cannot list jobs: ${err instanceof Error ? err.message : String(err)}`, 'error');
      }
    },
    dispose: () => {},
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void view.refresh();
  });
  for (const el of [status, jobClass, poolClass]) el.addEventListener('change', () => void view.refresh());
  return view;
}

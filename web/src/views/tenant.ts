/**
 * Tenant view (`#/tenant`): log in with an API key; then the tenant's own jobs, a form to submit one, and the
 * month's bill. Data: `GET /v1/tenants/:id` (log-in check), `GET /v1/jobs`, `POST /v1/jobs`,
 * `GET /v1/tenants/:id/bill?month=`, sites from `GET /v1/dashboard/network`.
 */
import { api, currentSession, logOut } from '../api.ts';
import { count, field, fill, h, message, num, pct, table } from '../dom.ts';
import { jobsTable, submitForm } from '../jobs-ui.ts';
import { loginForm } from '../login.ts';
import { router, serviceClock, type View } from '../view.ts';

export function tenantView(root: HTMLElement, rerender: () => void): View {
  const session = currentSession();
  if (!session) {
    fill(root, h('h1', null, 'Tenant'), loginForm(rerender));
    return { refresh: async () => {}, dispose: () => {} };
  }
  const formBox = h('div', null, h('p', { class: 'muted' }, 'Loading the sites…'));
  const jobsBox = h('div');
  const jobsNote = h('p', { role: 'status', class: 'muted' });
  // The service's month (its clock is simulated): empty until known, then the bill's (the API defaults to the service's month).
  const month = h('input', { name: 'month', type: 'month', value: serviceClock.nowMs === null ? '' : new Date(serviceClock.nowMs).toISOString().slice(0, 7) });
  const billBox = h('div');
  const billNote = h('p', { role: 'status', class: 'muted' });
  const logout = h('button', { type: 'button', class: 'secondary' }, 'Log out');
  logout.addEventListener('click', () => {
    logOut();
    rerender();
  });
  fill(
    root,
    h('h1', null, `Tenant: ${session.name}`),
    h('p', null, `Logged in as ${session.tenantId} (${session.role}). `, logout),
    formBox,
    h('h2', null, 'Your jobs'),
    jobsNote,
    jobsBox,
    h('h2', null, 'Your bill'),
    h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() }, field('Month (UTC)', month)),
    billNote,
    billBox,
  );
  let formBuilt = false;

  async function refreshJobs(): Promise<void> {
    try {
      const page = await api.jobs({ tenant: session!.role === 'operator' ? session!.tenantId : undefined });
      message(jobsNote, count(page.jobs.length, 'job', page.next !== null));
      fill(jobsBox, jobsTable('Your jobs', page.jobs, false));
    } catch (err) {
      message(jobsNote, `Cannot list jobs: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }

  async function refreshBill(): Promise<void> {
    try {
      const bill = await api.bill(session!.tenantId, month.value || undefined);
      if (!month.value) month.value = bill.month;
      const t = bill.totals;
      message(billNote, `${bill.month}: ${num(t.costYuan, 2)} yuan, ${num(t.energyKWh, 1)} kWh (${pct(t.greenShare)} green), ${num(t.carbonKg, 2)} kg CO2, ${num(t.unitHours, 1)} unit-hours.`);
      fill(
        billBox,
        table(
          `Bill lines, ${bill.month}`,
          ['Job', 'Site', 'Pool', 'Unit-hours', 'Energy kWh', 'Green share', 'Cost yuan', 'Carbon kg'],
          bill.lines.map((l) => [l.jobId, l.site, l.pool, num(l.unitHours, 2), num(l.energyKWh, 2), pct(l.greenShare), num(l.costYuan, 2), num(l.carbonKg, 2)]),
          { numeric: [3, 4, 5, 6, 7], empty: 'Nothing metered this month yet.' },
        ),
      );
    } catch (err) {
      message(billNote, `Cannot read the bill: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  }
  month.addEventListener('change', () => void refreshBill());

  return {
    async refresh() {
      if (!formBuilt) {
        try {
          const net = await api.network();
          serviceClock.nowMs = net.nowMs;
          // Through the router, so that rebuilding the jobs table keeps the keyboard focus.
          fill(formBox, submitForm(net.sites, () => router.refresh()));
          formBuilt = true;
        } catch (err) {
          fill(formBox, h('p', { class: 'message error' }, `Cannot load the sites for the form: ${err instanceof Error ? err.message : String(err)}`));
        }
      }
      await Promise.all([refreshJobs(), refreshBill()]);
    },
    dispose: () => {},
  };
}

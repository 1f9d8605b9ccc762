/** Pieces the work and tenant views share: the jobs table, the job detail (plan, why, events), the submit form. */
import { ApiError, api, currentSession } from './api.ts';
import { duration, field, h, message, num, pct, select, table, utc } from './dom.ts';
import { JOB_CLASSES, POOL_CLASSES, SCORE_UNITS, type Job, type JobEvent, type JobPlan, type Unplaced } from './types.ts';
import { serviceClock } from './view.ts';

export const jobHref = (job: { tenant: string; id: string }) => `#/work/${encodeURIComponent(job.tenant)}/${encodeURIComponent(job.id)}`;

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge s-${status}` }, status);
}

export function jobsTable(caption: string, jobs: Job[], showTenant: boolean): HTMLElement {
  const headers = ['Job', ...(showTenant ? ['Tenant'] : []), 'Status', 'Class', 'Pool', 'Units', 'Duration', 'Release', 'Deadline', 'Origin', 'No place because'];
  return table(
    caption,
    headers,
    jobs.map((j) => [
      h('a', { href: jobHref(j) }, j.id),
      ...(showTenant ? [j.tenant] : []),
      statusBadge(j.status),
      j.class,
      j.poolClass,
      String(j.units),
      duration(j.durationS),
      utc(j.release),
      utc(j.deadline),
      j.origin,
      // The reason codes of the last cycle that found no place for it (or of its miss); the job's page has the detail.
      j.unplaced ? j.unplaced.codes.join(', ') : '–',
    ]),
    { numeric: [showTenant ? 5 : 4], empty: 'No jobs match.' },
  );
}

function describeEvent(e: JobEvent): string {
  // Events with the dispatcher's reasons (noteUnplaced, unplanJob, markMissed) say their summary; the page lists the rest.
  if (typeof e.detail.reason === 'string' && Array.isArray(e.detail.reasons)) return e.detail.reason;
  const text = Object.keys(e.detail).length ? JSON.stringify(e.detail) : '';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'missed']);
const partHeader = (name: string) => (name in SCORE_UNITS ? `${name}, ${SCORE_UNITS[name as keyof typeof SCORE_UNITS]}` : name);

/** One job: its fields, its plan (where and when), why (the candidates' scores), and its events; a job not ended can be cancelled. */
export async function jobDetail(tenant: string, id: string, onChange: () => void): Promise<HTMLElement> {
  const asOther = currentSession()?.tenantId !== tenant ? tenant : undefined;
  const [job, planView, events] = await Promise.all([api.job(id, asOther), api.plan(id, asOther), api.events(id, asOther)]);
  const plan = planView.plan;
  const parts = plan ? [...new Set(plan.explain.candidates.flatMap((c) => Object.keys(c.parts)))] : [];
  const scoreRow = (c: NonNullable<JobPlan['plan']>['explain']['candidates'][number], label: string) => [label, c.site, utc(c.start), utc(c.end), num(c.score, 3), ...parts.map((p) => num(c.parts[p], 3))];
  const cancelNote = h('span', { role: 'status', class: 'message' });
  const cancel = FINAL.has(job.status)
    ? null
    : h('button', {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          if (!confirm(`Cancel job ${job.id}?`)) return;
          try {
            await api.cancel(job.id, asOther);
            onChange();
          } catch (err) {
            message(cancelNote, `Not cancelled: ${err instanceof Error ? err.message : String(err)}`, 'error');
          }
        },
      }, 'Cancel job');
  return h(
    'article',
    { class: 'job-detail', 'aria-labelledby': 'job-title' },
    h('h2', { id: 'job-title' }, `Job ${job.id} `, statusBadge(job.status)),
    cancel ? h('p', null, cancel, ' ', cancelNote) : null,
    h(
      'dl',
      { class: 'facts' },
      ...(
        [
          ['Tenant', job.tenant],
          ['Class', `${job.class} on ${job.poolClass}`],
          ['Units', String(job.units)],
          ['Duration', duration(job.durationS)],
          ['Release', utc(job.release)],
          ['Deadline', utc(job.deadline)],
          ['Origin', `${job.origin}${job.inputGb ? `, ${num(job.inputGb, 0)} GB input` : ''}`],
          ['Interruptible', job.interruptible ? 'yes' : 'no'],
          ['Allowed sites', job.allowedSites ? job.allowedSites.join(', ') : 'any'],
        ] as const
      ).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
    ),
    h('h3', null, 'Plan: where and when'),
    plan
      ? h(
          'div',
          null,
          h('p', { class: 'plan-summary' }, `At ${plan.site} (pool ${plan.pool}) by policy ${plan.explain.policy}: ${num(plan.energyKWh, 1)} kWh, ${pct(plan.energyKWh > 0 ? plan.greenKWh / plan.energyKWh : null)} green, ${num(plan.costYuan, 2)} yuan, ${num(plan.carbonKg, 2)} kg CO2.`),
          table('Runs', ['Start', 'End', 'Units'], plan.runs.map((r) => [utc(r.start), utc(r.end), String(r.units)]), { numeric: [2] }),
          plan.transfer ? h('p', null, `Input moved ${plan.transfer.route.join(' → ')}: ${num(plan.transfer.gb, 0)} GB, ${utc(plan.transfer.start)} to ${utc(plan.transfer.end)}.`) : null,
          h('h3', null, 'Why: the best place at each site (lower score is better; the first was chosen)'),
          table(
            'Candidates and their scores',
            ['', 'Site', 'Start', 'End', 'Score (weighted)', ...parts.map(partHeader)],
            [
              ...plan.explain.candidates.map((c, i) => scoreRow(c, i === 0 ? 'chosen' : '')),
              ...(plan.explain.earliestHere ? [scoreRow(plan.explain.earliestHere, 'earliest here')] : []),
            ],
            { numeric: [4, ...parts.map((_, i) => 5 + i)] },
          ),
          plan.explain.rejected.length ? table('Sites ruled out', ['Site', 'Reason'], plan.explain.rejected.map((r) => [r.site, r.reason])) : null,
          plan.explain.signalNotes?.length
            ? h(
                'div',
                { class: 'signal-notes' },
                h('p', null, 'Planned on fallback forecasts (no forecast was stored for these slots):'),
                h('ul', null, ...plan.explain.signalNotes.map((note) => h('li', null, note))),
              )
            : null,
        )
      : planView.unplaced
        ? unplacedSection(planView.unplaced, job.status)
        : h('p', { class: 'muted' }, 'Not planned yet: the dispatch loop plans it at its next cycle.'),
    h('h3', null, 'Events'),
    table(
      'Events, oldest first',
      ['#', 'At', 'Event', 'From', 'To', 'Detail'],
      events.events.map((e) => [String(e.version), utc(e.at), e.name, e.from ?? '–', e.to, describeEvent(e)]),
      { numeric: [0] },
    ),
  );
}

/**
 * Why a job has no plan: the dispatch loop's reasons (a summary line, then each site's), as of its latest cycle; for a
 * missed job, why it could no longer meet its deadline. Shown by `jobDetail` in place of the plan.
 */
function unplacedSection(unplaced: Unplaced, status: string): HTMLElement {
  const [summary, ...sites] = unplaced.reasons;
  const bySite = sites.map((line) => {
    const at = line.indexOf(': ');
    return at > 0 ? [line.slice(0, at), line.slice(at + 2)] : ['', line];
  });
  const heading =
    status === 'missed'
      ? 'Missed: it could no longer meet its deadline'
      : FINAL.has(status)
        ? 'It had no place when it ended'
        : 'No place yet: why the dispatch loop could not plan it';
  return h(
    'div',
    { class: 'unplaced' },
    h('p', { class: 'unplaced-summary' }, h('strong', null, `${heading}. `), summary),
    h('p', { class: 'muted' }, `Reasons: ${unplaced.codes.join(', ')}. As of ${utc(unplaced.at)}${unplaced.since !== unplaced.at ? `, the same since ${utc(unplaced.since)}` : ''}.`),
    bySite.length ? table('Why each site cannot run it', ['Site', 'Reason'], bySite) : null,
  );
}

/** An ISO 8601 instant, epoch ms (NaN when it is not one); a date-time without a zone is UTC, as the form says (Date.parse would take the browser's zone). */
export function parseUtc(text: string): number {
  return Date.parse(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text);
}

/** The job submission form; `onSubmitted` gets the stored job. */
export function submitForm(sites: { id: string; name: string }[], onSubmitted: (job: Job) => void): HTMLElement {
  const id = h('input', { name: 'id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._:\\-]{0,127}', value: `web-${Date.now().toString(36)}` });
  const jobClass = select('class', JOB_CLASSES.map((c) => [c, c]), 'training');
  const poolClass = select('poolClass', POOL_CLASSES.map((c) => [c, { ai: 'ai (accelerators)', general: 'general (CPU cores)', hpc: 'hpc (nodes)' }[c]]), 'ai');
  const units = h('input', { name: 'units', type: 'number', min: 1, step: 1, required: true, value: 1 });
  const hours = h('input', { name: 'hours', type: 'number', min: 0.25, step: 0.25, required: true, value: 2 });
  const release = h('input', { name: 'release', placeholder: 'now', spellcheck: 'false', autocapitalize: 'off' });
  const slackHours = h('input', { name: 'slack', type: 'number', min: 0, step: 0.25, required: true, value: 24 });
  const origin = select('origin', sites.map((s) => [s.id, s.name]), sites[0]?.id ?? '');
  const inputGb = h('input', { name: 'inputGb', type: 'number', min: 0, step: 1, value: 0 });
  const interruptible = h('input', { name: 'interruptible', type: 'checkbox' });
  const note = h('p', { role: 'status', class: 'message' });
  const form = h(
    'form',
    { class: 'submit-job', 'aria-labelledby': 'submit-title' },
    h('h2', { id: 'submit-title' }, 'Submit a job'),
    h(
      'div',
      { class: 'grid' },
      field('Job id', id),
      field('Job class', jobClass),
      field('Pool class', poolClass),
      field('Units', units, 'accelerators, cores or nodes at once'),
      field('Duration, hours', hours),
      field('Release (UTC, ISO 8601)', release, 'earliest start, e.g. 2026-06-01T03:00Z; empty: now on the service’s clock'),
      field('Slack, hours', slackHours, 'deadline = release + duration + slack; 0: start at release'),
      field('Input data at', origin),
      field('Input data, GB', inputGb),
      field('Interruptible', interruptible),
    ),
    h('button', { type: 'submit' }, 'Submit job'),
    note,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const releaseMs = release.value.trim() ? parseUtc(release.value.trim()) : (serviceClock.nowMs ?? Date.now());
    if (!Number.isFinite(releaseMs)) {
      note.textContent = ''; // said again on a second try
      message(note, 'Release is not an ISO 8601 instant, e.g. 2026-06-01T03:00Z.', 'error');
      release.focus();
      return;
    }
    const durationS = Math.round(Number(hours.value) * 3600);
    const deadlineMs = releaseMs + durationS * 1000 + Number(slackHours.value) * 3_600_000;
    message(note, 'Submitting…');
    try {
      const { jobs } = await api.submit({
        id: id.value.trim(),
        class: jobClass.value,
        poolClass: poolClass.value,
        units: Number(units.value),
        durationS,
        release: new Date(releaseMs).toISOString(),
        deadline: new Date(deadlineMs).toISOString(),
        origin: origin.value,
        inputGb: Number(inputGb.value || 0),
        interruptible: interruptible.checked,
      });
      message(note, `Submitted job ${jobs[0].id}: ${jobs[0].status}.`, 'ok');
      id.value = `web-${Date.now().toString(36)}`;
      onSubmitted(jobs[0]);
    } catch (err) {
      const fields = err instanceof ApiError && err.fields.length ? ` (${err.fields.map((f) => `${f.field}: ${f.message}`).join('; ')})` : '';
      message(note, `Not submitted: ${err instanceof Error ? err.message : String(err)}${fields}`, 'error');
    }
  });
  return form;
}


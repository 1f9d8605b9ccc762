/**
 * The CLI as a client of a running service: `kumul jobs submit|list|get|cancel` and `kumul bill`,
 * with `--url` and `--key` (or KUMUL_URL and KUMUL_KEY).
 */
import type { Command } from 'commander';
import { ApiCallError, ApiClient } from '../client/api-client.ts';
import { CliError } from './errors.ts';
import { readJobsFile } from './files.ts';

interface Connection {
  url: string;
  key?: string;
}

const BATCH = 5000;

export function registerClientCommands(program: Command): void {
  const jobs = program.commands.find((c) => c.name() === 'jobs') ?? program.command('jobs');
  const connected = (command: Command) =>
    command
      .option('--url <url>', 'the service (or KUMUL_URL)', process.env.KUMUL_URL ?? 'http://127.0.0.1:8080')
      .option('--key <key>', 'API key (or KUMUL_KEY)', process.env.KUMUL_KEY);

  connected(jobs.command('submit').description('submit the jobs of a jobs file (CSV) to a running service').argument('<file>', 'jobs file')).action(
    (file: string, o: Connection) =>
      call(async (api) => {
        const parsed = await readJobsFile(file);
        for (let i = 0; i < parsed.length; i += BATCH) {
          const batch = parsed.slice(i, i + BATCH).map(({ tenant: _tenant, releaseMs, deadlineMs, ...job }) => ({ ...job, release: new Date(releaseMs).toISOString(), deadline: new Date(deadlineMs).toISOString() }));
          const result = await api.request<{ jobs: { id: string }[] }>('POST', '/v1/jobs', { jobs: batch });
          process.stdout.write(`submitted ${result.jobs.length} jobs (${i + 1}–${i + result.jobs.length} of ${parsed.length})\n`);
        }
      }, o),
  );

  connected(jobs.command('list').description("list the key's jobs").option('--status <list>', 'comma-separated states').option('--limit <n>', 'at most this many', '100')).action(
    (o: Connection & { status?: string; limit: string }) =>
      call(async (api) => {
        const query = new URLSearchParams({ limit: o.limit });
        if (o.status) query.set('status', o.status);
        const page = await api.request<{ jobs: { id: string; status: string; class: string; poolClass: string; units: number; plan?: { site: string; start: string } | null }[] }>('GET', `/v1/jobs?${query}`);
        for (const j of page.jobs) process.stdout.write(`${j.id}\t${j.status}\t${j.class}\t${j.units} ${j.poolClass}\n`);
      }, o),
  );

  // JSON: { job, plan, unplaced, events }. `unplaced` says why the dispatch loop found no place for the job (or why it
  // was missed) while `plan` is null; stderr repeats its summary line so that a person sees it first.
  connected(jobs.command('get').description('a job with its plan (or why it has none) and events').argument('<id>', 'job id')).action((id: string, o: Connection) =>
    call(async (api) => {
      const path = `/v1/jobs/${encodeURIComponent(id)}`;
      const job = await api.request<unknown>('GET', path);
      const { plan, unplaced } = await api.request<{ plan: unknown; unplaced: { reasons: string[] } | null }>('GET', `${path}/plan`);
      const { events } = await api.request<{ events: unknown[] }>('GET', `${path}/events`);
      if (plan === null && unplaced) process.stderr.write(`${id}: no place: ${unplaced.reasons[0]}\n`);
      process.stdout.write(JSON.stringify({ job, plan, unplaced, events }, null, 2) + '\n');
    }, o),
  );

  connected(jobs.command('cancel').description('cancel a job').argument('<id>', 'job id')).action((id: string, o: Connection) =>
    call(async (api) => {
      const result = await api.request<{ status?: string; job?: { status: string } }>('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
      process.stdout.write(`${id}: ${result.job?.status ?? result.status ?? 'cancelled'}\n`);
    }, o),
  );

  connected(program.command('bill').description("a tenant's monthly bill").argument('<tenant>', 'tenant id').requiredOption('--month <YYYY-MM>', 'UTC month').option('--csv', 'CSV line items')).action(
    (tenant: string, o: Connection & { month: string; csv?: boolean }) =>
      call(async (api) => {
        const path = `/v1/tenants/${encodeURIComponent(tenant)}/bill?month=${encodeURIComponent(o.month)}`;
        const text = o.csv ? await api.request<string>('GET', `${path}&format=csv`, undefined, 'text/csv') : JSON.stringify(await api.request<unknown>('GET', path), null, 2) + '\n';
        process.stdout.write(text);
      }, o),
  );
}

/** Runs a client action; API errors become CLI errors naming the code, status and fields. */
async function call(action: (api: ApiClient) => Promise<void>, o: Connection): Promise<void> {
  try {
    await action(new ApiClient(o.url, o.key));
  } catch (err) {
    if (!(err instanceof ApiCallError)) throw err;
    const fields = err.fields.map((f) => `\n  ${f.field}: ${f.message}`).join('');
    throw new CliError(`${err.code}${err.status ? ` (${err.status})` : ''}: ${err.message}${fields}`, err.status >= 400 && err.status < 500 ? 2 : 1);
  }
}

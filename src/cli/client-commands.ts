/**
 * The CLI as a client of a running service: `kumul jobs submit|list|get|cancel`, `kumul bill` and
 * `kumul services create|demand|load|list|get|routing|delete`, with `--url` and `--key` (or KUMUL_URL and KUMUL_KEY).
 */
import type { Command } from 'commander';
import { ApiCallError, ApiClient } from '../client/api-client.ts';
import { CliError } from './errors.ts';
import { readJobsFile } from './files.ts';
import { readScenarioJson } from '../scenario/load.ts';
import { numberAtLeast, userInput } from './options.ts';

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

  registerServiceClientCommands(program, connected);
}

/**
 * `kumul services …` against a running service (docs/services.md, "The service"): a services file's services are
 * created one by one (the API checks each as the file's checks do; an error names the file and `services[i].<field>`),
 * a demand file's series are posted to their services, and a service is listed, read, routed or deleted.
 */
function registerServiceClientCommands(program: Command, connected: (command: Command) => Command): void {
  const services = program.commands.find((c) => c.name() === 'services') ?? program.command('services');
  /** Posts `body`; an API error names the file and the part of it the request came from. */
  const post = async (api: ApiClient, path: string, body: unknown, file: string, at: string) => {
    try {
      return await api.request<unknown>('POST', path, body);
    } catch (err) {
      if (!(err instanceof ApiCallError) || err.fields.length === 0) throw err;
      throw new CliError(err.fields.map((f) => `${file}: ${at}${f.field === 'body' ? '' : `.${f.field}`}: ${f.message}`).join('\n'), 2);
    }
  };
  connected(services.command('create').description('create the services of a services file in a running service').argument('<file>', 'services file (JSON)')).action((file: string, o: Connection) =>
    call(async (api) => {
      const json = userInput(() => readScenarioJson(file)) as { services?: unknown[] };
      if (!Array.isArray(json.services)) throw new CliError(`${file}: services: required: a services file lists its services (docs/services.md)`, 2);
      for (const [i, service] of json.services.entries()) {
        await post(api, '/v1/services', service, file, `services[${i}]`);
        process.stdout.write(`created ${(service as { id?: string }).id}\n`);
      }
    }, o),
  );
  connected(services.command('demand').description("post a demand file's series to their services").argument('<file>', 'demand file (JSON)')).action((file: string, o: Connection) =>
    call(async (api) => {
      const json = userInput(() => readScenarioJson(file)) as { series?: { service?: unknown }[] };
      if (!Array.isArray(json.series)) throw new CliError(`${file}: series: required: a demand file lists its series (docs/services.md)`, 2);
      const ids = [...new Set(json.series.map((s) => String(s.service)))];
      for (const id of ids) {
        const result = (await post(api, `/v1/services/${encodeURIComponent(id)}/demand`, { ...json, series: json.series.filter((s) => String(s.service) === id) }, file, `series (service '${id}')`)) as { values: number };
        process.stdout.write(`${id}: ${result.values} values\n`);
      }
    }, o),
  );
  // For trying bursts by hand or from a script: what a load balancer posts every minute or so (docs/services.md).
  connected(
    services
      .command('load')
      .description("report a service's load now: requests/s observed per user region (POST /v1/services/{id}/load)")
      .requiredOption('--service <id>', 'service id')
      .requiredOption('--region <region=rps...>', 'requests/s observed from a user region, e.g. --region beijing=240.5 shanghai=120'),
  ).action((o: Connection & { service: string; region: string[] }) =>
    call(async (api) => {
      const load = o.region.map((text) => {
        const m = /^([^=\s]+)=(.+)$/.exec(text.trim());
        if (!m) throw new CliError(`--region: '${text}' must be REGION=RPS, e.g. beijing=240.5`, 2);
        return { region: m[1], requestsPerS: numberAtLeast(`--region ${m[1]}`, m[2], 0) };
      });
      let result: { regions: number; reportedAt: string };
      try {
        result = await api.request<{ regions: number; reportedAt: string }>('POST', `/v1/services/${encodeURIComponent(o.service)}/load`, { load });
      } catch (err) {
        // A refused report names the option it came from: `load[1].region` is the second --region.
        if (!(err instanceof ApiCallError) || err.fields.length === 0) throw err;
        throw new CliError(err.fields.map((f) => `${/^load\[(\d+)\]/.test(f.field) ? `--region ${o.region[Number(/^load\[(\d+)\]/.exec(f.field)![1])]}` : f.field}: ${f.message}`).join('\n'), 2);
      }
      process.stdout.write(`${o.service}: load of ${result.regions} region(s) reported at ${result.reportedAt}\n`);
    }, o),
  );
  connected(services.command('list').description("list the key's services")).action((o: Connection) =>
    call(async (api) => {
      const { services: list } = await api.request<{ services: { id: string; tenant: string; status: string; spec: { model: string } }[] }>('GET', '/v1/services');
      for (const s of list) process.stdout.write(`${s.tenant}/${s.id}\t${s.status}\t${s.spec.model}\n`);
    }, o),
  );
  for (const [name, description, suffix] of [
    ['get', 'a service: replicas per site now, routing, attainment per region (JSON)', ''],
    ['routing', "a service's routing now, for a load balancer (JSON)", '/routing'],
  ] as const) {
    connected(services.command(name).description(description).argument('<id>', 'service id')).action((id: string, o: Connection) =>
      call(async (api) => void process.stdout.write(`${JSON.stringify(await api.request<unknown>('GET', `/v1/services/${encodeURIComponent(id)}${suffix}`), null, 2)}\n`), o),
    );
  }
  connected(services.command('delete').description('delete a service (its replicas are stopped)').argument('<id>', 'service id')).action((id: string, o: Connection) =>
    call(async (api) => {
      await api.request<unknown>('DELETE', `/v1/services/${encodeURIComponent(id)}`);
      process.stdout.write(`${id}: deleted\n`);
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

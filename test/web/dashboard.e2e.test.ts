/**
 * The dashboard end to end: the real `kumul serve` (child process, SQLite in a temp dir, port 0, a fast
 * simulated clock) and Debian's headless Chromium driven by playwright-core. The browser loads `/`, sees the
 * network, reaches the nav and the log-in form with the keyboard alone, logs in with a tenant key, submits a
 * job from the form and sees it planned and then running in the work view; the backup view shows a dataset's
 * replica (copied by rclone between local-directory remotes) within its RPO and the links' load split into backup
 * and job input. Screenshots of every view at
 * 1280×800 and 390×844 go to test-artifacts/web/ (kept as artefacts). Fails, not skips, without Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServe, type ServeProcess } from '../support/serve-process.ts';

const CHROMIUM = process.env.KUMUL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/web');
const SIZES = [
  { name: '1280', width: 1280, height: 800 },
  { name: '390', width: 390, height: 844 },
] as const;
/** Generous: the job waits for its slot on the simulated clock (×300: a simulated hour is 12 s). */
const WAIT_MS = 90_000;

const dir = mkdtempSync(join(tmpdir(), 'kumul-web-e2e-'));
let server: ServeProcess;
let url = '';
let labKey = '';
let operatorKey = '';
let browser: Browser;

async function shoot(page: Page, view: string, size: (typeof SIZES)[number]): Promise<void> {
  await page.waitForTimeout(600); // charts finish drawing
  // Every control of every view has a label.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select')].filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => el.getAttribute('name')));
  expect(unlabelled, `controls without a label in the ${view} view`).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, `${view}-${size.name}.png`), fullPage: true });
  if (size.width < 500) {
    // Usable at phone width: the page itself never scrolls sideways (wide tables scroll in their own box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${view} at ${size.width} px is wider than the screen`).toBeLessThanOrEqual(1);
  }
}

/** Presses Tab until `selector` has the focus (at most `max` times); true when it did. */
async function tabTo(page: Page, selector: string, max = 40): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return true;
  }
  return false;
}

/** Tries `step` until it gives a value (at most 20 times): a live refresh may replace an element while a step acts on it. */
async function settle<T>(step: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 20; i++) {
    const value = await step();
    if (value !== null) return value;
  }
  throw new Error('a live refresh replaced the element at every try');
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/test.sh does)`).toBe(true);
  expect(existsSync(join(ROOT, 'dist/web/index.html')), 'the dashboard is not built: npm run build:web').toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  // Storage endpoints for backups: one local-directory rclone remote per site.
  const sites = ['hami', 'qingyang', 'zhengzhou', 'urumqi', 'beijing', 'chongqing'];
  writeFileSync(join(dir, 'rclone.conf'), sites.map((s) => `[${s}-store]\ntype = local\n`).join('\n'));
  for (const s of sites) mkdirSync(join(dir, 'stores', s), { recursive: true });
  writeFileSync(join(dir, 'endpoints.json'), JSON.stringify({ version: 1, rcloneConfig: 'rclone.conf', sites: Object.fromEntries(sites.map((s) => [s, { remote: `${s}-store`, path: join(dir, 'stores', s) }])) }));
  mkdirSync(join(dir, 'stores', 'beijing', 'lab', 'archive'), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'stores', 'beijing', 'lab', 'archive', `f${i}.bin`), Buffer.alloc(64 * 1024, i + 1));
  server = await startServe(['--db', `sqlite:${join(dir, 'k.db')}`, '--no-demo', '--time-scale', '300', '--start', '2026-06-01T00:00Z', '--tick-ms', '100', '--backup-endpoints', join(dir, 'endpoints.json')]);
  const started = { url: server.url, operatorKey: server.operatorKey! };
  url = started.url;
  operatorKey = started.operatorKey;
  const created = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${started.operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }),
  });
  expect(created.status).toBe(201);
  labKey = ((await created.json()) as { apiKey: string }).apiKey;
  // A short job through the API, so that a run has finished (and has a baseline) by the time of the savings view.
  const short = await fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${labKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'short-1', class: 'inference', poolClass: 'ai', units: 1, durationS: 1800, release: '2026-06-01T00:00:00Z', deadline: '2026-06-01T03:00:00Z', origin: 'beijing' }),
  });
  expect(short.status).toBe(201);
  // A dataset backed up from beijing to hami with a 2 h RPO: its seed copy runs within two simulated hours (24 s).
  for (const [path, body] of [
    ['/v1/backup/policies', { id: 'two-hourly', targets: ['hami'], replicas: 1, rpoHours: 2, retainVersions: 1 }],
    ['/v1/backup/datasets', { id: 'archive', origin: 'beijing', sizeGB: 0.001, dailyChangeGB: 0, policy: 'two-hourly', prefix: 'lab/archive' }],
  ] as const) {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${labKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.text()).toBe(201);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
});

describe('the dashboard in headless Chromium', () => {
  it('shows the network, logs in with the keyboard, submits a job and sees it planned and running', async () => {
    // In China's time zone: every time on the page is still UTC (charts included).
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.setDefaultTimeout(WAIT_MS);

    // The network view: every site of the built-in scenario, with its figures now.
    await page.goto(`${url}/`);
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/network');
    const sitesTable = page.getByRole('region', { name: 'Sites now' });
    await sitesTable.getByRole('link', { name: /Hami/ }).waitFor();
    expect(await sitesTable.locator('tbody tr').count()).toBe(6);
    expect(await page.getByRole('region', { name: 'Links' }).locator('tbody tr').count()).toBe(8);
    expect(await page.locator('.map canvas').count()).toBeGreaterThan(0);
    await page
      .locator('#live[data-state="live"]')
      .waitFor({ timeout: 20_000 })
      .catch(async (err) => {
        throw new Error(`live state never reached: "${await page.locator('#live').textContent()}"; serve: ${server.stderr().slice(-1500)}`, { cause: err });
      });
    // The live region announces the state only; the service's time beside it changes at every tick and is not announced.
    expect(await page.getByRole('status').filter({ hasText: 'Live' }).textContent()).toBe('Live');
    await expect.poll(() => page.locator('#live-time').textContent()).toMatch(/UTC$/);

    // Keyboard only: Tab reaches the nav; Enter on "Tenant" opens the log-in form; Tab reaches its fields.
    await page.locator('body').focus();
    expect(await tabTo(page, 'nav.views a[href="#/tenant"]'), 'Tab never reached the Tenant link').toBe(true);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline, 'the focused link shows a focus ring').not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(await tabTo(page, 'input[name="tenant"]'), 'Tab never reached the tenant id field').toBe(true);
    await page.keyboard.type('lab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('key');
    await page.keyboard.type(labKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tenant: Lab' }).waitFor();

    // Every control of the submit form has a label.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('main input, main select')].filter((el) => !(el as HTMLInputElement).labels?.length).map((el) => el.getAttribute('name')),
    );
    expect(unlabelled).toEqual([]);

    // Submit a job from the form: 4 h on 2 accelerators, input at Hami, to end within 3 h of the earliest end.
    await page.getByLabel('Job id').fill('e2e-1');
    await page.getByLabel('Units').fill('2');
    await page.getByLabel('Duration, hours').fill('4');
    await page.getByLabel('Slack, hours').fill('3');
    await page.getByLabel('Input data at').selectOption('hami');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText('Submitted job e2e-1').waitFor();
    const jobsTable = page.getByRole('region', { name: 'Your jobs' });
    await jobsTable.getByRole('link', { name: 'e2e-1' }).waitFor();

    // Live refreshes rebuild the table; the keyboard focus stays on the same job's link.
    // (A refresh may land between finding the link and focusing it: focus again until the focused link is the live one.)
    const link = await settle(async () => {
      const handle = (await jobsTable.getByRole('link', { name: 'e2e-1' }).elementHandle())!;
      await handle.focus();
      return (await handle.evaluate((el) => el.isConnected && document.activeElement === el)) ? handle : null;
    });
    await expect.poll(() => link.evaluate((el) => el.isConnected), { timeout: 20_000 }).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('e2e-1');

    // A release typed without a zone is UTC, as its label says (this browser is at UTC+8).
    await page.getByLabel('Job id').fill('e2e-2');
    await page.getByLabel('Release (UTC, ISO 8601)').fill('2026-06-20T05:00');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText('Submitted job e2e-2').waitFor();
    await expect.poll(() => jobsTable.getByRole('row').filter({ hasText: 'e2e-2' }).textContent()).toContain('2026-06-20 05:00 UTC');

    // Its page: planned (a plan with its candidates, an event into "planned"), then running.
    await jobsTable.getByRole('link', { name: 'e2e-1' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/work/lab/e2e-1');
    await page.getByRole('region', { name: 'Candidates and their scores' }).waitFor();
    // Each score plugin's part with its unit.
    expect(await page.getByRole('region', { name: 'Candidates and their scores' }).locator('thead th').allTextContents()).toEqual(expect.arrayContaining(['cost, yuan', 'carbon, kg CO2']));
    await page.locator('#job-title .badge', { hasText: 'running' }).waitFor();
    const events = page.getByRole('region', { name: 'Events, oldest first' });
    const toStates = await events.locator('tbody tr td:nth-child(5)').allTextContents();
    expect(toStates.slice(0, 1)).toEqual(['submitted']);
    expect(toStates).toContain('planned');
    expect(toStates.indexOf('planned')).toBeLessThan(toStates.indexOf('running'));
    await expect.poll(() => page.locator('.plan-summary').textContent()).toMatch(/^At \S+ \(pool /);

    // Screenshots of every view at both sizes.
    const views = [
      ['network', '#/network', () => page.getByRole('region', { name: 'Sites now' }).locator('tbody tr').first().waitFor()],
      ['energy', '#/energy/hami', () => page.locator('[aria-label="Per slot (start, UTC)"] tbody tr').nth(71).waitFor({ state: 'attached' })], // in a closed <details>
      ['work', '#/work', () => page.getByRole('region', { name: 'Jobs' }).getByRole('link', { name: 'e2e-1' }).waitFor()],
      ['job', '#/work/lab/e2e-1', () => page.getByRole('region', { name: 'Events, oldest first' }).waitFor()],
      ['savings', '#/savings', () => page.getByRole('region', { name: /^Latest \d+ bucket/ }).locator('tbody tr td.num').first().waitFor()],
      ['tenant', '#/tenant', () => page.getByRole('heading', { name: 'Your bill' }).waitFor()],
    ] as const;
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const [name, hash, ready] of views) {
        await page.evaluate((h) => (location.hash = h), hash);
        await ready();
        await shoot(page, name, size);
      }
    }
    for (const size of SIZES) for (const [name] of views) expect(existsSync(join(ARTIFACTS, `${name}-${size.name}.png`))).toBe(true);

    // The energy view shows the operator's idle draw beside the demand: a card, a column and a chart series.
    await page.evaluate(() => (location.hash = '#/energy/hami'));
    await expect.poll(() => page.locator('dl.cards dt').allTextContents()).toContain('Idle now (every node on)');
    expect(Number((await page.locator('dl.cards dd').nth(2).textContent())!.replace(/[^0-9.]/g, ''))).toBeGreaterThan(0);
    expect(await page.locator('[aria-label="Per slot (start, UTC)"] thead th').allTextContents()).toContain('Idle kW');

    // At phone width, a table scrolled sideways stays scrolled when a live refresh rebuilds it.
    await page.evaluate(() => (location.hash = '#/network'));
    const sites = page.getByRole('region', { name: 'Sites now' });
    await sites.locator('tbody tr').first().waitFor();
    const box = await settle(async () => {
      const handle = (await sites.elementHandle())!;
      return (await handle.evaluate((el) => ((el.scrollLeft = 150), el.isConnected && el.scrollLeft === 150))) ? handle : null;
    });
    await expect.poll(() => box.evaluate((el) => el.isConnected), { timeout: 20_000 }).toBe(false);
    expect(await sites.evaluate((el) => el.scrollLeft)).toBe(150);

    // Cancel a job that waits for a later release, from its page (the confirmation accepted).
    await page.setViewportSize({ width: 1280, height: 800 });
    const later = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${labKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'later-1', class: 'batch', poolClass: 'general', units: 8, durationS: 3600, release: '2026-06-20T00:00:00Z', origin: 'zhengzhou' }),
    });
    expect(later.status).toBe(201);
    await page.evaluate(() => (location.hash = '#/work/lab/later-1'));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('#job-title .badge', { hasText: 'cancelled' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);

    // A job that cannot reach its only allowed site before its deadline (50,000 GB at 10 Gbit/s take 11.1 h): missed at
    // once, and its page says why, site by site.
    const { nowMs } = (await (await fetch(`${url}/v1/dashboard/network`)).json()) as { nowMs: number };
    const releaseMs = Math.ceil(nowMs / 1000) * 1000;
    const far = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${labKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'far-1', class: 'training', poolClass: 'ai', units: 8, durationS: 3600, release: new Date(releaseMs).toISOString(), deadline: new Date(releaseMs + 6 * 3_600_000).toISOString(), origin: 'beijing', inputGb: 50_000, allowedSites: ['hami'] }),
    });
    expect(far.status).toBe(201);
    await page.evaluate(() => (location.hash = '#/work/lab/far-1'));
    await page.locator('#job-title .badge', { hasText: 'missed' }).waitFor();
    await page.getByText('Missed: it could no longer meet its deadline.').waitFor();
    const why = page.getByRole('region', { name: 'Why each site cannot run it' });
    await expect.poll(() => why.locator('tbody tr').count()).toBe(6);
    expect(await why.locator('tbody tr', { hasText: 'hami' }).textContent()).toContain('cannot finish by the deadline after moving 50000 GB');
    await page.screenshot({ path: join(ARTIFACTS, 'job-missed-1280.png'), fullPage: true });
    // The network view says how many waiting jobs have no place, and why (counts only).
    await page.evaluate(() => (location.hash = '#/network'));
    await expect.poll(() => page.locator('.unplaced-jobs').textContent()).toMatch(/^(Every waiting job has a place in the plan\.|\d+ waiting jobs? without a place at the last dispatch cycle: .+\.)$/);

    expect(foreign, 'requests to other origins').toEqual([]);
    expect(errors, 'errors in the page').toEqual([]);
    await context.close();
  }, 240_000);

  it("shows the backup view: a dataset's replica within its RPO, and link load split into backup and job input", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/#/backup`);
    await page.getByLabel('Tenant id').fill('lab');
    await page.getByLabel('API key').fill(labKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    const replicas = page.getByRole('region', { name: 'Replicas: the newest verified copy against the RPO' });
    const row = replicas.locator('tbody tr', { hasText: 'lab/archive' });
    await row.getByText('within RPO').waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['lab/archive', 'hami', 'within RPO']);
    expect(cells[4]).toBe('2 h');
    const links = page.getByRole('region', { name: 'Link load now: backup copies and job input' });
    expect(await links.locator('thead th').allTextContents()).toEqual(['From', 'To', 'Bandwidth Gbit/s', 'Backup Gbit/s', 'Job input Gbit/s']);
    expect(await links.locator('tbody tr').count()).toBeGreaterThan(0);
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await shoot(page, 'backup', size);
    }
    expect(errors, 'errors in the page').toEqual([]);
    await context.close();
  }, 120_000);

  it('shows an operator every tenant’s jobs, filtered by tenant, state and class', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${url}/#/work`);
    await page.getByLabel('Tenant id').fill('operator');
    await page.getByLabel('API key').fill(operatorKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Every tenant’s jobs (operator key).').waitFor();

    // Any state: the lab's jobs with their tenant column.
    await page.getByLabel('State').selectOption('');
    const jobs = page.getByRole('region', { name: 'Jobs' });
    await jobs.getByRole('link', { name: 'e2e-1' }).waitFor();
    expect(await jobs.locator('thead th').allTextContents()).toContain('Tenant');
    await page.getByLabel('Tenant').fill('nobody');
    await page.getByRole('button', { name: 'Apply' }).click();
    await jobs.getByText('No jobs match.').waitFor();
    await page.getByLabel('Tenant').fill('lab');
    await page.getByRole('button', { name: 'Apply' }).click();
    await jobs.getByRole('link', { name: 'later-1' }).waitFor();
    await page.getByLabel('Job class').selectOption('batch');
    await expect.poll(() => jobs.locator('tbody tr td:first-child').allTextContents()).toEqual(['later-1']);
    await page.screenshot({ path: join(ARTIFACTS, 'work-operator-1280.png'), fullPage: true });

    // The operator opens the lab's job: its plan and events, read with ?tenant=lab.
    await page.getByLabel('Job class').selectOption('training');
    await jobs.getByRole('link', { name: 'e2e-1' }).click();
    await page.getByRole('region', { name: 'Events, oldest first' }).waitFor();
    expect(await page.locator('#job-title').textContent()).toContain('e2e-1');
    await context.close();
  }, 120_000);
  it('shows a tenant its services: replicas per site, demand against capacity, attainment per region and the routing on the map', async () => {
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${labKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const spec = { id: 'chat', model: '8B chat', poolClass: 'ai', unitsPerReplica: 1, throughput: { requestsPerS: 10 }, latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 250 }, coldStart: { warmUpS: 60, energyKWh: 0.02 }, minReplicas: { total: 1 } };
    expect((await post('/v1/services', spec)).status).toBe(201);
    const demand = { version: 1, start: '2026-06-01T00:00Z', slotMinutes: 60, series: [{ service: 'chat', region: 'beijing', requestsPerS: new Array(96).fill(30) }, { service: 'chat', region: 'shanghai', requestsPerS: new Array(96).fill(20) }] };
    expect((await post('/v1/services/chat/demand', demand)).status).toBe(200);
    for (const size of SIZES) {
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.setDefaultTimeout(WAIT_MS);
      await page.goto(`${url}/#/services`);
      await page.getByLabel('Tenant id').fill('lab');
      await page.getByLabel('API key').fill(labKey);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('region', { name: 'Services' }).getByRole('link', { name: 'chat' }).waitFor();
      // The dispatch loop placed it: each region's demand, served within the objective, and where it is routed.
      const regions = page.getByRole('region', { name: 'User regions now' });
      await regions.getByRole('cell', { name: 'Beijing' }).waitFor();
      const beijing = await regions.locator('tr', { hasText: 'Beijing' }).locator('td').allTextContents();
      expect(beijing[1]).toBe('30.0');
      expect(beijing[3]).toBe('100.0 %');
      expect(beijing[5]).toMatch(/^[a-z]+ \d+ %/);
      expect(await page.locator('.map canvas').count()).toBeGreaterThan(0);
      expect(await page.getByRole('img', { name: /Replicas per site over time/ }).locator('canvas').count()).toBe(1);
      await page.getByLabel('Region', { exact: true }).selectOption('beijing');
      await shoot(page, 'services', size);
      expect(errors, 'errors in the page').toEqual([]);
      await context.close();
    }
  }, 120_000);
});

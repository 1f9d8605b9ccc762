/**
 * A tenant's monthly bill, for `GET /v1/tenants/{id}/bill` (routes/bills.ts): totals from the store's
 * `monthlyUsage` (one SQL sum), line items from each job's metering rows that start in the month
 * (`listJobs` + `jobMetering`), inference services' replicas per service, site and pool (`serviceUsage`), backup
 * storage and transfers (`backupUsage`) at BACKUP_PRICES with the network energy and carbon of the transfers, and the
 * same bill as CSV (jobs, services and backup). The totals cover jobs and services; backup is charged apart.
 */
import { PRECISIONS, type Precision } from '../core/model/types.ts';
import { formatCsvRecord } from '../csv/write.ts';
import { monthBoundsMs } from '../store/metering.ts';
import type { BackupUsage, MeteringRow, MonthlyUsage, Store } from '../store/port.ts';
import { fromRefusal } from './errors.ts';
import type { Bill, BillLine, ServiceBillLine } from './schemas/bill.ts';

const MS_PER_HOUR = 3_600_000;
const PAGE = 1000;

type Figures = Omit<BillLine, 'jobId' | 'site' | 'pool'>;

function emptyFigures(): Figures {
  return { rows: 0, unitHours: 0, energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, pflopHours: { fp64: 0, fp32: 0, bf16: 0 }, greenShare: null };
}

function withGreenShare<T extends Figures>(figures: T): T {
  return { ...figures, greenShare: figures.energyKWh > 0 ? figures.greenKWh / figures.energyKWh : null };
}

function addRow(figures: Figures, row: MeteringRow): void {
  figures.rows += 1;
  figures.unitHours += (row.units * (row.endMs - row.startMs)) / MS_PER_HOUR;
  figures.energyKWh += row.energyKWh;
  figures.greenKWh += row.greenKWh;
  figures.costYuan += row.costYuan;
  figures.carbonKg += row.carbonKg;
  for (const p of PRECISIONS) figures.pflopHours[p] += row.pflopHours[p];
}

function totalsOf(usage: MonthlyUsage | undefined): Figures {
  if (!usage) return emptyFigures();
  const { rows, unitHours, energyKWh, greenKWh, costYuan, carbonKg, pflopHours } = usage;
  return withGreenShare({ rows, unitHours, energyKWh, greenKWh, costYuan, carbonKg, pflopHours: { ...pflopHours }, greenShare: null });
}

/**
 * Kumul's list prices of backup, yuan (docs/backup.md, "Metering and bills", gives their sources): per GB kept for a
 * month at a replica site (copies and versions retained), and per GB a copy moves over a link (each hop).
 */
export const BACKUP_PRICES = { storageYuanPerGBMonth: 0.12, transferYuanPerGB: 0.5 } as const;

/**
 * The bill of `tenantId` for `month` (YYYY-MM). Lines are per job, site and pool, ordered by job id; a month
 * without metering costs no job scan, otherwise one metering query per job of the tenant (a per-tenant,
 * per-month metering query in the store would make it one; docs/api.md, Bills).
 */
export async function buildBill(store: Store, tenantId: string, month: string, nowMs: number): Promise<Bill> {
  const usage = await store.monthlyUsage(month, tenantId);
  if (!usage.ok) throw fromRefusal(usage, 'month');
  const backupUsage = await store.backupUsage(month, nowMs, tenantId);
  if (!backupUsage.ok) throw fromRefusal(backupUsage, 'month');
  const totals = totalsOf(usage.usage[0]);
  const bounds = monthBoundsMs(month)!;
  const lines = new Map<string, BillLine>();
  let after: string | null = null;
  while (totals.rows > 0) {
    const page = await store.listJobs({ tenantId }, { limit: PAGE, after });
    if (!page.ok) throw fromRefusal(page);
    for (const stored of page.jobs) {
      const rows = await store.jobMetering({ tenantId, jobId: stored.job.id });
      for (const row of rows) {
        if (row.startMs < bounds.startMs || row.startMs >= bounds.endMs) continue;
        const key = JSON.stringify([row.jobId, row.site, row.pool]);
        let line = lines.get(key);
        if (!line) lines.set(key, (line = { jobId: row.jobId, site: row.site, pool: row.pool, ...emptyFigures() }));
        addRow(line, row);
      }
    }
    after = page.next;
    if (after === null) break;
  }
  const sorted = [...lines.values()].sort((a, b) => compare(a.jobId, b.jobId) || compare(a.site, b.site) || compare(a.pool, b.pool));
  const serviceUsage = await store.serviceUsage(month, tenantId);
  if (!serviceUsage.ok) throw fromRefusal(serviceUsage, 'month');
  const services: ServiceBillLine[] = serviceUsage.usage.map((u) => ({ ...u, greenShare: u.energyKWh > 0 ? u.greenKWh / u.energyKWh : null }));
  for (const u of services) {
    totals.rows += u.rows;
    totals.unitHours += u.unitHours;
    totals.energyKWh += u.energyKWh;
    totals.greenKWh += u.greenKWh;
    totals.costYuan += u.costYuan;
    totals.carbonKg += u.carbonKg;
  }
  return { tenant: tenantId, month, lines: sorted.map(withGreenShare), services, totals: withGreenShare(totals), backup: backupCharges(backupUsage.usage[0]) };
}

/** A month's backup usage priced at BACKUP_PRICES (storage up to now in the current month). */
function backupCharges(usage: BackupUsage | undefined): Bill['backup'] {
  const storedGBMonths = usage?.storedGBMonths ?? 0;
  const transferredGB = usage?.transferredGB ?? 0;
  const storageYuan = storedGBMonths * BACKUP_PRICES.storageYuanPerGBMonth;
  const transferYuan = transferredGB * BACKUP_PRICES.transferYuanPerGB;
  const networkEnergyKWh = usage?.networkEnergyKWh ?? 0;
  const networkCarbonKg = usage?.networkCarbonKg ?? 0;
  return { storedGBMonths, transferredGB, ...BACKUP_PRICES, storageYuan, transferYuan, costYuan: storageYuan + transferYuan, networkEnergyKWh, networkCarbonKg };
}

/** Bytewise, as the store orders ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const BILL_CSV_COLUMNS = [
  'kind',
  'job_id',
  'site',
  'pool',
  'rows',
  'unit_hours',
  'energy_kwh',
  'green_kwh',
  'cost_yuan',
  'carbon_kg',
  ...PRECISIONS.map((p: Precision) => `pflop_h_${p}`),
  'green_share',
  'quantity',
  'unit',
  'unit_price_yuan',
] as const;

function figureFields(f: Figures): string[] {
  return [f.rows, f.unitHours, f.energyKWh, f.greenKWh, f.costYuan, f.carbonKg, ...PRECISIONS.map((p) => f.pflopHours[p])]
    .map(String)
    .concat(f.greenShare === null ? '' : String(f.greenShare));
}

/**
 * The bill as CSV: a header, one `line` row per job line item, one `service` row per service line (its id in `job_id`,
 * its units × hours in `unit_hours`, no PFLOP·h; replica-hours are in the JSON), one `total` row (jobs and services,
 * as the JSON's totals), then the backup part: `backup_storage` (GB-months at the price per GB-month), `backup_transfer`
 * (GB moved at the price per GB, with the network energy and carbon of moving them) and `backup_total` (their cost,
 * apart from `total` as in the JSON). Numbers as in the JSON; `quantity`, `unit` and `unit_price_yuan` are the backup
 * rows' (empty on the others), and a figure a row does not have is empty.
 */
export function formatBillCsv(bill: Bill): string {
  const service = (s: ServiceBillLine) => figureFields({ ...s, pflopHours: { fp64: 0, fp32: 0, bf16: 0 } });
  const none = ['', '', ''];
  const b = bill.backup;
  const energyShare = b.networkEnergyKWh > 0 ? '0' : '';
  // rows, unit_hours, energy_kwh, green_kwh, cost_yuan, carbon_kg, pflop_h_*, green_share: what a backup row has of them.
  const backupFields = (costYuan: number, network: boolean) => [
    '',
    '',
    network ? String(b.networkEnergyKWh) : '',
    network ? '0' : '',
    String(costYuan),
    network ? String(b.networkCarbonKg) : '',
    ...PRECISIONS.map(() => ''),
    network ? energyShare : '',
  ];
  const records = [
    [...BILL_CSV_COLUMNS],
    ...bill.lines.map((line) => ['line', line.jobId, line.site, line.pool, ...figureFields(line), ...none]),
    ...bill.services.map((s) => ['service', s.serviceId, s.site, s.pool, ...service(s), ...none]),
    ['total', '', '', '', ...figureFields(bill.totals), ...none],
    ['backup_storage', '', '', '', ...backupFields(b.storageYuan, false), String(b.storedGBMonths), 'GB-month', String(b.storageYuanPerGBMonth)],
    ['backup_transfer', '', '', '', ...backupFields(b.transferYuan, true), String(b.transferredGB), 'GB', String(b.transferYuanPerGB)],
    ['backup_total', '', '', '', ...backupFields(b.costYuan, true), ...none],
  ];
  return records.map((r) => `${formatCsvRecord(r)}\n`).join('');
}

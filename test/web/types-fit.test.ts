/**
 * The dashboard's view of the API (web/src/types.ts) against the API's own schemas: at type level, every answer
 * the schemas produce is accepted by the shape the dashboard reads (tsc fails otherwise), and at run time the
 * closed sets the forms and filters offer (job classes, pool classes, job states) are the server's, and the units
 * the job page gives the score plugins' parts are the plugins' own.
 */
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { NetworkView, EnergyView, SavingsView, TickEvent, UnplacedSummaryView } from '../../src/api/schemas/dashboard.ts';
import type { EventView, JobView, PlanView } from '../../src/api/schemas/jobs.ts';
import type { BillSchema } from '../../src/api/schemas/bill.ts';
import type { TenantView } from '../../src/api/schemas/tenants.ts';
import type { PlacementsView, ServiceView } from '../../src/api/schemas/services.ts';
import type { DatasetView } from '../../src/api/schemas/backup.ts';
import { builtinRegistry } from '../../src/core/dispatch/plugins/index.ts';
import { JOB_CLASSES, POOL_CLASSES } from '../../src/core/model/types.ts';
import { JOB_STATUSES } from '../../src/store/lifecycle.ts';
import * as web from '../../web/src/types.ts';

type Out<T extends z.ZodType> = z.output<T>;
const fits: [
  (v: Out<typeof NetworkView>) => web.NetworkNow,
  (v: Out<typeof EnergyView>) => web.SiteEnergy,
  (v: Out<typeof SavingsView>) => web.Savings,
  (v: Out<typeof TickEvent>) => web.Tick,
  (v: Out<typeof JobView>) => web.Job,
  (v: Out<typeof PlanView>) => web.JobPlan,
  (v: Out<typeof EventView>) => web.JobEvent,
  (v: Out<typeof BillSchema>) => web.Bill,
  (v: Out<typeof TenantView>) => web.Tenant,
  (v: Out<typeof UnplacedSummaryView>) => web.UnplacedSummary,
  (v: Out<typeof ServiceView>) => web.ServiceSummary,
  (v: Out<typeof PlacementsView>) => web.ServicePlacements,
  (v: Out<typeof DatasetView>) => web.BackupDataset,
] = [(v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v, (v) => v];
void fits;

describe("the dashboard's types", () => {
  it('offer exactly the server’s job classes, pool classes and job states', () => {
    expect([...web.JOB_CLASSES]).toEqual([...JOB_CLASSES]);
    expect([...web.POOL_CLASSES]).toEqual([...POOL_CLASSES]);
    expect([...web.JOB_STATUSES]).toEqual([...JOB_STATUSES]);
  });

  it('label each built-in score plugin’s part with the plugin’s unit', () => {
    const registry = builtinRegistry();
    expect(Object.keys(web.SCORE_UNITS).sort()).toEqual(registry.scoreNames().sort());
    for (const [name, unit] of Object.entries(web.SCORE_UNITS)) expect(unit.replace(/\s/g, '').toLowerCase(), name).toBe(registry.score(name).unit.toLowerCase());
  });
});

/**
 * A tenant's bill for one UTC month (routes/bills.ts, bill.ts): one line per job and place it ran that month,
 * the month's totals from the store's metering sums, and the green share.
 */
import { z } from 'zod';

const PflopHours = z.object({ fp64: z.number(), fp32: z.number(), bf16: z.number() }).meta({ description: 'Compute delivered by precision, PFLOP·h' });

const Figures = {
  rows: z.number().int().meta({ description: 'Metering rows summed' }),
  unitHours: z.number().meta({ description: 'Units × hours' }),
  energyKWh: z.number().meta({ description: 'Facility energy (IT × PUE, plus transfers)' }),
  greenKWh: z.number().meta({ description: 'Part of energyKWh from renewables' }),
  costYuan: z.number(),
  carbonKg: z.number().meta({ description: 'kg CO2' }),
  pflopHours: PflopHours,
  greenShare: z.number().nullable().meta({ description: 'greenKWh / energyKWh; null without energy' }),
};

export const BillLineSchema = z.object({ jobId: z.string(), site: z.string(), pool: z.string(), ...Figures });

/** An inference service's replicas at one site and pool in the month (docs/services.md, "Metering and bills"). */
export const ServiceBillLineSchema = z.object({
  serviceId: z.string(),
  site: z.string(),
  pool: z.string(),
  rows: Figures.rows,
  replicaHours: z.number().meta({ description: 'Replica runs × hours (warm-up included)' }),
  unitHours: Figures.unitHours,
  energyKWh: z.number().meta({ description: 'Facility energy at the load the placement gave, plus cold starts' }),
  greenKWh: Figures.greenKWh,
  costYuan: Figures.costYuan,
  carbonKg: Figures.carbonKg,
  greenShare: Figures.greenShare,
});

/** Backup storage and transfers of the month at Kumul's list prices (docs/backup.md, "Metering and bills"). */
export const BackupChargesSchema = z
  .object({
    storedGBMonths: z.number().meta({ description: 'GB kept at replica sites (copies and versions retained) × the share of the month kept' }),
    transferredGB: z.number().meta({ description: 'GB backup copies moved over links, every hop counted, for copies that started in the month' }),
    storageYuanPerGBMonth: z.number(),
    transferYuanPerGB: z.number(),
    storageYuan: z.number(),
    transferYuan: z.number(),
    costYuan: z.number().meta({ description: 'storageYuan + transferYuan (not in totals, which are the metered jobs and services)' }),
    networkEnergyKWh: z.number().meta({ description: "Network energy of the GB moved, kWh: each hop's GB × the link's energyKWhPerGB (all grid energy)" }),
    networkCarbonKg: z.number().meta({ description: 'Its carbon, kg: drawn half at each end of the hop at the actual carbon intensity of the slot the copy started in' }),
  })
  .meta({ id: 'BackupCharges' });

export const BillSchema = z
  .object({
    tenant: z.string(),
    month: z.string().meta({ description: 'YYYY-MM, UTC; metering rows count in the month their run segment starts' }),
    lines: z.array(BillLineSchema),
    services: z.array(ServiceBillLineSchema).meta({ description: 'Inference services: one line per service, site and pool' }),
    totals: z.object(Figures).meta({ description: 'Jobs and services together' }),
    backup: BackupChargesSchema,
  })
  .meta({ id: 'Bill' });

export type Bill = z.output<typeof BillSchema>;
export type BillLine = z.output<typeof BillLineSchema>;
export type ServiceBillLine = z.output<typeof ServiceBillLineSchema>;

export const Month = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'not a month YYYY-MM')
  .meta({ description: 'UTC month, YYYY-MM; default the current month', example: '2026-06' });

/**
 * Backup datasets and policies as the backup routes (routes/backup.ts) take and show them. Bodies are the backup
 * files' own schemas (src/backup/schema.ts: one shape, one set of messages), a dataset without `tenant` (the key's).
 */
import { z } from 'zod';
import { Instant } from './common.ts';

export { DatasetInputSchema as DatasetBody, PolicySchema as PolicyBody } from '../../backup/schema.ts';

export const PolicyView = z
  .object({ tenant: z.string(), id: z.string(), policy: z.record(z.string(), z.unknown()).meta({ description: 'The policy as it was posted' }), created: Instant })
  .meta({ id: 'BackupPolicyView' });

export const DatasetSummary = z
  .object({ tenant: z.string(), id: z.string(), dataset: z.record(z.string(), z.unknown()).meta({ description: 'The dataset as it was posted' }), created: Instant })
  .meta({ id: 'BackupDatasetSummary' });

export const ReplicaView = z
  .object({
    site: z.string(),
    versionAt: Instant.nullable().meta({ description: 'The instant the newest complete, verified copy is current to; null before the first copy' }),
    verifiedAt: Instant.nullable().meta({ description: 'When that copy was last verified (rclone check)' }),
    ageHours: z.number().nullable().meta({ description: 'Age of the newest verified copy now, hours; null before the first' }),
    rpoHours: z.number(),
    withinRpo: z.boolean().meta({ description: 'ageHours ≤ rpoHours (false before the first copy)' }),
    bytes: z.number().int().meta({ description: 'Bytes of the copy' }),
    files: z.number().int(),
    storedBytes: z.number().int().meta({ description: 'Bytes kept at the site: the copy and the older versions retained' }),
    bytesMoved: z.number().int().meta({ description: 'Bytes copies to this replica moved over links (every hop counted)' }),
  })
  .meta({ id: 'BackupReplica' });

const Hop = z.string();
export const LoopView = z
  .object({
    plannedAt: Instant.meta({ description: 'The backup cycle this comes from' }),
    storedAt: Instant.meta({ description: "When the leader's backup loop stored this view (at each cycle, when a copy starts or ends, and every few seconds while one moves)" }),
    targets: z.array(z.string()).meta({ description: 'The replica sites the plan keeps' }),
    nextCopies: z.array(z.object({ target: z.string(), route: z.array(Hop), start: Instant, gb: z.number() })).meta({ description: 'Copies the plan starts next, per target: when, over which route, GB planned' }),
    copying: z.array(z.object({ target: z.string(), route: z.array(Hop), started: Instant, bytes: z.number().int(), totalBytes: z.number().int(), kind: z.enum(['copy', 'repair']) })).meta({ description: "Copies running now, with rclone's own count of bytes" }),
    problems: z.array(z.string()).meta({ description: 'Why the dataset cannot be planned, or what of it cannot meet its RPO; empty when none' }),
  })
  .meta({ id: 'BackupLoopState' });

export const DatasetView = DatasetSummary.extend({
  replicas: z.array(ReplicaView),
  bytesMoved: z.number().int().meta({ description: 'Bytes moved over links for this dataset, every hop and copy counted' }),
  loop: LoopView.nullable().meta({ description: "The backup loop's view of the dataset, as the leader's loop (kumul serve --backup-endpoints) stored it: the same on every instance; null before a loop planned it" }),
}).meta({ id: 'BackupDataset' });

/**
 * The backup input files (docs/backup.md, "Files"): datasets, policies and storage endpoints, as zod
 * schemas. The loaders (load.ts) validate with them; the JSON Schemas docs/backup-*.schema.json are
 * generated from them (scripts/write-schemas.ts).
 */
import { z } from 'zod';
import { TIME_ZONE_PATTERN } from '../scenario/time.ts';
import { doc, idSchema, isoInstant, nonNegativeInt, nonNegativeNumber, positiveInt, said, text } from '../scenario/schema-parts.ts';

const localTime = () =>
  z.string({ error: said('must be a string') }).regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, { error: "must be a local time HH:MM from 00:00 to 24:00, e.g. '01:30'" });
const utcOffset = () => z.string({ error: said('must be a string') }).regex(TIME_ZONE_PATTERN, { error: "must be 'UTC' or a fixed offset such as '+08:00'" });

export const ChangeSeriesSchema = doc(
  z.strictObject({
    start: doc(isoInstant(), 'Start of the first step.'),
    stepMinutes: doc(positiveInt(), 'Length of each step, minutes.'),
    gb: doc(z.array(nonNegativeNumber(), { error: said('must be a list of numbers ≥ 0') }).min(1, { error: 'must not be empty' }), 'GB changed in each step.'),
  }),
  'Data changed per step; it must cover the plan period.',
  'ChangeSeries',
);

/** A dataset's fields but its tenant (which a datasets file names and the service takes from the API key). */
const datasetFields = {
  id: idSchema(),
  origin: doc(idSchema(), 'Site holding the live data.'),
  sizeGB: doc(nonNegativeNumber(), 'Size of the dataset, GB (what a seed copy moves).'),
  dailyChangeGB: doc(nonNegativeNumber().optional(), 'Data changed per day, GB, spread evenly over time (or give changeSeries).'),
  changeSeries: ChangeSeriesSchema.optional(),
  policy: doc(idSchema(), 'Id of the backup policy in the policies file.'),
  prefix: doc(text(), "Where the dataset's objects are under the origin's storage endpoint (a path)."),
  seeded: doc(z.array(idSchema()).optional(), 'Sites already holding a copy current at the start of the plan (default none: a seed copy is planned).'),
};

const { id: _id, ...withoutId } = datasetFields;

function checkChange(d: { dailyChangeGB?: number; changeSeries?: unknown }, ctx: z.RefinementCtx): void {
  if ((d.dailyChangeGB === undefined) === (d.changeSeries === undefined)) ctx.addIssue({ code: 'custom', path: ['dailyChangeGB'], message: 'give exactly one of dailyChangeGB and changeSeries' });
}

export const DatasetSchema = doc(
  z.strictObject({ id: datasetFields.id, tenant: doc(text(), 'Tenant owning the dataset.'), ...withoutId }).superRefine(checkChange),
  'A dataset to back up.',
  'Dataset',
);

/** A dataset as `POST /v1/backup/datasets` takes it: a datasets file's entry without `tenant` (the API key's). */
export const DatasetInputSchema = doc(z.strictObject(datasetFields).superRefine(checkChange), "A dataset to back up (its tenant is the API key's).", 'BackupDatasetInput');

export const DatasetsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: 'must be 1' }),
  datasets: z.array(DatasetSchema, { error: said('must be a list of datasets') }),
});

export const PolicySchema = doc(
  z
    .strictObject({
      id: idSchema(),
      targets: doc(z.array(idSchema()).min(1, { error: 'must not be empty' }).optional(), "Sites replicas may be kept at; absent: any site outside the origin's region."),
      replicas: doc(positiveInt(), 'Replicas to keep, each at a different site.'),
      rpoHours: doc(z.number({ error: said('must be a positive number') }).positive({ error: 'must be a positive number' }), 'Recovery-point objective: largest allowed age of the newest complete copy, hours.'),
      retainVersions: doc(nonNegativeInt(), 'Older versions kept at each replica.'),
      window: doc(
        z.strictObject({ from: localTime(), to: localTime(), timeZone: utcOffset() }).optional(),
        'Local times between which copies may run (from inclusive, to exclusive; may cross midnight); absent: any time.',
      ),
    })
    .superRefine((p, ctx) => {
      if (p.targets && p.replicas > p.targets.length) ctx.addIssue({ code: 'custom', path: ['replicas'], message: `${p.replicas} replicas need at least as many targets; ${p.targets.length} given` });
      if (p.targets && new Set(p.targets).size !== p.targets.length) ctx.addIssue({ code: 'custom', path: ['targets'], message: 'lists a site twice' });
      if (p.window && p.window.from === p.window.to) ctx.addIssue({ code: 'custom', path: ['window', 'to'], message: 'the window is empty (from equals to)' });
    }),
  'A backup policy.',
  'BackupPolicy',
);

export const PoliciesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: 'must be 1' }),
  policies: z.array(PolicySchema, { error: said('must be a list of policies') }),
});

export const EndpointSchema = doc(
  z.strictObject({
    remote: doc(
      z.string({ error: said('must be a string') }).regex(/^[\w.][\w. -]*$/, { error: 'must be an rclone remote name: letters, digits, _ . - and spaces' }),
      'Name of the rclone remote (a section of the rclone config file).',
    ),
    path: doc(z.string({ error: said('must be a string') }), 'Path under the remote where this site keeps backups (replicas, versions, relay copies); datasets are read from <path>/<prefix> at their origin.'),
  }),
  "A site's storage endpoint.",
  'StorageEndpoint',
);

export const EndpointsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: 'must be 1' }),
  rcloneConfig: doc(text(), 'rclone config file defining the remotes, relative to this file.'),
  sites: z.record(idSchema(), EndpointSchema, { error: said('must be an object of site id → endpoint') }),
});

export type DatasetsFile = z.infer<typeof DatasetsFileSchema>;
export type PoliciesFile = z.infer<typeof PoliciesFileSchema>;
export type EndpointsFile = z.infer<typeof EndpointsFileSchema>;
export type DatasetInput = z.infer<typeof DatasetInputSchema>;
export type PolicyInput = z.infer<typeof PolicySchema>;

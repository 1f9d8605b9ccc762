/**
 * The tables as Kysely sees them (internal to src/store: the port never exposes them).
 * Instants are bigint epoch milliseconds, booleans 0/1 integers, JSON documents text, on both databases.
 */
export interface TenantsTable {
  id: string;
  name: string;
  role: string;
  /** JSON: Record<PoolClass, number | null>. */
  quotas: string;
  created_ms: number;
  updated_ms: number;
}

export interface ApiKeysTable {
  /** The key's visible prefix. */
  id: string;
  tenant_id: string;
  /** SHA-256 of the whole plaintext key, hex. */
  hash: string;
  label: string;
  created_ms: number;
  revoked_ms: number | null;
}

export interface JobsTable {
  tenant_id: string;
  job_id: string;
  class: string;
  pool_class: string;
  units: number;
  duration_s: number;
  release_ms: number;
  deadline_ms: number;
  origin: string;
  input_gb: number;
  interruptible: number;
  /** JSON string[] or null. */
  allowed_sites: string | null;
  status: string;
  version: number;
  /** JSON PlannedJob or null. */
  plan: string | null;
  executor_ref: string | null;
  /** The job's command (shell script body), or null. */
  command: string | null;
  /** JSON Unplaced (why the dispatch loop found no place for it) or null (migration 0006). */
  unplaced: string | null;
  submitted_ms: number;
  updated_ms: number;
}

export interface JobEventsTable {
  tenant_id: string;
  job_id: string;
  version: number;
  at_ms: number;
  name: string;
  from_status: string | null;
  to_status: string;
  /** JSON object. */
  detail: string;
}

export interface MeteringTable {
  tenant_id: string;
  job_id: string;
  key: string;
  site: string;
  pool: string;
  start_ms: number;
  end_ms: number;
  units: number;
  energy_kwh: number;
  green_kwh: number;
  cost_yuan: number;
  carbon_kg: number;
  pflop_h_fp64: number;
  pflop_h_fp32: number;
  pflop_h_bf16: number;
  recorded_ms: number;
  /** The run under asap-origin (migration 0002); null when none was recorded. */
  baseline_energy_kwh: number | null;
  baseline_green_kwh: number | null;
  baseline_cost_yuan: number | null;
  baseline_carbon_kg: number | null;
}

export interface ScenariosTable {
  version: number;
  document: string;
  created_ms: number;
}

/** Computing-power probes (migration 0003); per-node figures GFLOP/s, advertised TFLOPS; null where not measured. */
export interface ProbesTable {
  id: string;
  site: string;
  pool: string;
  measured_ms: number;
  kind: string;
  node: string | null;
  cores: number | null;
  fp64_gflops_per_core: number | null;
  fp32_gflops_per_core: number | null;
  fp64_gflops_per_node: number | null;
  fp32_gflops_per_node: number | null;
  bf16_gflops_per_node: number | null;
  advertised_fp64_tflops_per_node: number;
  advertised_fp32_tflops_per_node: number;
  advertised_bf16_tflops_per_node: number;
  ratio_fp64: number | null;
  ratio_fp32: number | null;
  ratio_bf16: number | null;
  threshold: number;
  flagged: number;
  note: string | null;
  /** JSON object. */
  inventory: string;
  error: string | null;
  recorded_ms: number;
}

/** Pushed energy signal points (migration 0006); `issued_ms` is 0 for actuals, the issue instant for forecasts. */
export interface SignalPointsTable {
  site: string;
  signal: string;
  series: string;
  time_ms: number;
  issued_ms: number;
  /** In the signal's own unit: yuan/kWh, gCO2/kWh or kW. */
  value: number;
  recorded_ms: number;
}

/** Leases (migration 0009): one holder at a time, with a fencing token that grows at every change of holder. */
export interface LeasesTable {
  name: string;
  holder: string;
  token: number;
  acquired_ms: number;
  expires_ms: number;
}

/** The simulated executor's runs (migration 0010): `request` is the run request as JSON. */
export interface SimulatedRunsTable {
  ref: string;
  request: string;
  started_ms: number | null;
  cancelled_ms: number | null;
}

/** Instants the instances share (migration 0010): `instant`, the service's simulated now, saved by the leader. */
export interface ServiceStateTable {
  name: string;
  value_ms: number;
}

/** The deployment's ids (migration 0008): `current` is 1 for the id in force, null for those it replaced. */
export interface DeploymentsTable {
  id: string;
  created_ms: number;
  replaced_ms: number | null;
  current: number | null;
}

/** Inference services of tenants (migration 0012): `spec` is the normalized ServiceSpec as JSON; status `active` or `deleted`. */
export interface ServicesTable {
  tenant_id: string;
  service_id: string;
  spec: string;
  status: string;
  created_ms: number;
  updated_ms: number;
  deleted_ms: number | null;
}

/** A service's demand from one user region in one slot (migration 0012), requests/s; `slot_ms` is the slot's start. */
export interface ServiceDemandTable {
  tenant_id: string;
  service_id: string;
  region: string;
  slot_ms: number;
  requests_per_s: number;
  recorded_ms: number;
}

/** A service's placement in one slot (migration 0012): JSON ServicePlacementSlot without its slot; `planned_ms` the cycle's instant. */
export interface ServicePlacementsTable {
  tenant_id: string;
  service_id: string;
  slot_ms: number;
  placement: string;
  planned_ms: number;
}

/** The load last reported for a service from one user region (migration 0013), requests/s. */
export interface ServiceLoadTable {
  tenant_id: string;
  service_id: string;
  region: string;
  requests_per_s: number;
  reported_ms: number;
}

/** The dispatch loop's burst state of a service (migration 0013): JSON ServiceBurst. */
export interface ServiceBurstsTable {
  tenant_id: string;
  service_id: string;
  burst: string;
  updated_ms: number;
}

/** Replica runs (migration 0012): requested, started and stopped instants; metered up to `metered_to_ms`. */
export interface ServiceReplicasTable {
  ref: string;
  tenant_id: string;
  service_id: string;
  site: string;
  pool: string;
  units: number;
  requested_ms: number;
  started_ms: number | null;
  stopped_ms: number | null;
  metered_to_ms: number | null;
}

/** What a replica used in one slot (migration 0012): one row per replica run and slot (`key`). */
export interface ServiceMeteringTable {
  tenant_id: string;
  service_id: string;
  key: string;
  replica_ref: string;
  site: string;
  pool: string;
  start_ms: number;
  end_ms: number;
  units: number;
  energy_kwh: number;
  green_kwh: number;
  cost_yuan: number;
  carbon_kg: number;
  recorded_ms: number;
}

/** Backup policies and datasets (migration 0011): `document` is the JSON of the file's shape. */
export interface BackupDocumentsTable {
  tenant_id: string;
  id: string;
  document: string;
  created_ms: number;
}

/** A replica's newest verified copy (migration 0011). */
export interface BackupReplicasTable {
  tenant_id: string;
  dataset_id: string;
  site: string;
  version_ms: number;
  verified_ms: number;
  bytes: number;
  files: number;
  stored_bytes: number;
  updated_ms: number;
}

/** Bytes a backup copy moved over one hop (migration 0011). */
export interface BackupTransfersTable {
  tenant_id: string;
  dataset_id: string;
  key: string;
  from_site: string;
  to_site: string;
  target: string;
  bytes: number;
  start_ms: number;
  end_ms: number;
  recorded_ms: number;
  /** Network energy and carbon of those bytes over the hop (migration 0014; 0 for transfers recorded before). */
  energy_kwh: number;
  carbon_kg: number;
}

/** The backup loop's latest view of a dataset (migration 0014): `document` is the JSON of BackupLoopStateDocument. */
export interface BackupLoopStateTable {
  tenant_id: string;
  dataset_id: string;
  document: string;
  updated_ms: number;
}

/**
 * Gbit/s the backup loop's running copies move over a link direction (migration 0015), as the leader last stored them;
 * the row with empty sites holds when that was (`updated_ms`, −1 before the first time).
 */
export interface BackupLinkLoadsTable {
  from_site: string;
  to_site: string;
  gbps: number;
  updated_ms: number;
}

/** Bytes a replica keeps from `from_ms` until the next row of the same replica (migration 0011). */
export interface BackupStorageTable {
  tenant_id: string;
  dataset_id: string;
  site: string;
  from_ms: number;
  stored_bytes: number;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  metering: MeteringTable;
  scenarios: ScenariosTable;
  probes: ProbesTable;
  signal_points: SignalPointsTable;
  leases: LeasesTable;
  simulated_runs: SimulatedRunsTable;
  service_state: ServiceStateTable;
  deployments: DeploymentsTable;
  services: ServicesTable;
  service_demand: ServiceDemandTable;
  service_placements: ServicePlacementsTable;
  service_replicas: ServiceReplicasTable;
  service_metering: ServiceMeteringTable;
  service_load: ServiceLoadTable;
  service_bursts: ServiceBurstsTable;
  backup_policies: BackupDocumentsTable;
  backup_datasets: BackupDocumentsTable;
  backup_replicas: BackupReplicasTable;
  backup_transfers: BackupTransfersTable;
  backup_storage: BackupStorageTable;
  backup_loop_state: BackupLoopStateTable;
  backup_link_loads: BackupLinkLoadsTable;
}

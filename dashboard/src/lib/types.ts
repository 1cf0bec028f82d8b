// The JSON the storeplane API speaks (crates/api/src/dto.rs).

export type StoreStatus = "pending" | "provisioning" | "ready" | "failed" | "deleting" | "deleted";
export type Engine = "woocommerce" | "medusa";
export type Plan = "small" | "medium" | "large";
export type EventKind =
  | "created"
  | "status_changed"
  | "step"
  | "object_applied"
  | "drift_restored"
  | "retry"
  | "failed"
  | "credentials_revealed"
  | "teardown";

export interface Store {
  id: string;
  name: string;
  engine: Engine;
  plan: Plan;
  status: StoreStatus;
  status_reason: string | null;
  owner_id: string;
  namespace: string;
  url: string;
  admin_url: string;
  created_at: string;
  updated_at: string;
  /** The release the store runs (its deployed revision's); null before its first revision. */
  release: string | null;
  /** The shop title (the store's name unless one was set). */
  title: string;
  /** The deployed revision's number. */
  revision: number | null;
  /** The newest revision's number: above `revision` while a change is in flight or failed. */
  latest_revision: number | null;
  /** What is in progress, if anything. */
  operation: Operation | null;
  /** False when the store's release is no longer its engine's default. */
  release_is_default: boolean;
  /** When the last drift check found the store as it should be (or put it back). */
  last_checked_at?: string | null;
  /** Public values the store's setup published (Medusa's `publishable_key`); `{}` for
   * engines that publish nothing, and until the setup has. */
  outputs: Record<string, string>;
  /** Where the store's backups stand. */
  backup: BackupSummary;
}

export interface Operation {
  kind: "change" | "rollback" | "password_reset" | "backup" | "restore";
  revision: number | null;
  /** "updating to revision 4", "rolling back to revision 2 (as revision 5)", "taking a
   * manual backup", "restoring backup 0193… (as revision 5)", … */
  description: string;
}

export interface BackupSummary {
  /** How often the store is backed up by schedule ("24 h", "30 min"); null when scheduled
   * backups are off. */
  schedule: string | null;
  last_succeeded_at: string | null;
  next_scheduled_at: string | null;
  /** Set when backups fell behind: "no successful backup for 2 days, more than twice the
   * schedule (every 24 h)". */
  warning: string | null;
  /** Days the store's backups are kept once it is deleted (restorable as a new store). */
  keep_after_delete_days: number;
}

export interface StoreEvent {
  seq: number;
  store_id: string;
  at: string;
  kind: EventKind;
  message: string;
  detail: unknown;
  actor: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Credentials {
  username: string;
  password: string;
  admin_url: string;
}

export interface Session {
  user: { id: string; name: string; role: "admin" | "member" };
  auth: "token" | "session" | "proxy" | "none";
  csrf_token: string | null;
}

export interface Cluster {
  name: string;
  simulated: boolean;
}

export interface PlanSize {
  /** The engine whose stores the plan sizes: each engine has its own table. */
  engine: Engine;
  plan: Plan;
  cpu: string;
  memory: string;
  storage: string;
}

export interface CreateStoreRequest {
  name: string;
  engine: Engine;
  plan: Plan;
}

export interface EngineAvailability {
  engine: Engine;
  available: boolean;
}

export interface Release {
  engine: Engine;
  name: string;
  /** The release new stores get. */
  default: boolean;
  /** What it pins, by component: `{"wordpress": "wordpress:6.8…", "woocommerce": "9.8.5"}`. */
  components: Record<string, string>;
}

export type RevisionStatus = "pending" | "applying" | "deployed" | "failed" | "superseded" | "rolled_back";

export interface Revision {
  number: number;
  status: RevisionStatus;
  release: string;
  plan: Plan;
  title: string;
  /** What differs from the revision before it ("plan small -> medium"); "" for the first. */
  changes: string;
  actor: string;
  reason: string | null;
  failure: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  manifest_digest: string;
  platform_digest: string;
  /** False once its manifest was pruned (it can no longer be diffed). */
  manifest_kept: boolean;
  checkpoint: { taken_at: string; path: string } | null;
  /** The revision this one rolls back to. */
  rollback_of: number | null;
  /** The revision whose checkpoint this one restores (orders written since are lost). */
  restores: number | null;
  migrates_data: boolean;
  /** The backup this one restores first, for a restore in place (absent otherwise). */
  restores_backup?: string | null;
}

export interface RevisionDetail extends Revision {
  /** The rendered manifest (Secrets as placeholders); null once pruned. */
  manifest: string | null;
}

export interface ChangeRequest {
  release?: string;
  plan?: Plan;
  title?: string;
  reason?: string;
}

export interface RollbackRequest {
  revision?: number;
  restore_checkpoint?: boolean;
  reason?: string;
}

export interface ChangeResponse {
  store: Store;
  revision: Revision;
  /** False for a no-op: the store already runs what was asked for. */
  changed: boolean;
  /** Says why nothing changed, on a no-op. */
  message?: string;
  /** True when a rollback restores a checkpoint. */
  data_loss?: boolean;
}

export interface RevisionDiff {
  from: number;
  to: number;
  identical: boolean;
  /** A unified diff of the two manifests. */
  diff: string;
}

export type BackupKind = "scheduled" | "manual" | "checkpoint";
export type BackupStatus = "pending" | "running" | "succeeded" | "failed";

export interface Backup {
  id: string;
  store_id: string;
  kind: BackupKind;
  status: BackupStatus;
  /** "user:alice", "system:scheduler". */
  actor: string;
  reason: string | null;
  /** The store's revision when it was taken. */
  revision: number | null;
  /** restic's snapshot id (all 64 hex digits), once taken. */
  snapshot: string | null;
  size_bytes: number | null;
  /** What it added to the store's repository after deduplication. */
  added_bytes: number | null;
  duration_ms: number | null;
  failure: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Set once the store is deleted: the backup is purged then. */
  expires_at: string | null;
}

export interface BackupRequest {
  reason?: string;
}

export interface RestoreRequest {
  /** The id of the backup to put back; it must have succeeded. */
  backup: string;
  reason?: string;
}

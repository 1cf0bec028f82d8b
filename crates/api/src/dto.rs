//! The JSON the API speaks: what it returns and accepts, shared with the CLI client so the
//! two can never disagree on a field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use storeplane_domain::{
    Backup, BackupId, BackupKind, BackupSchedule, BackupStatus, Engine, EventKind, Plan,
    ReleaseName, Revision, RevisionNumber, Role, Store, StoreEvent, StoreId, StoreStatus, UserId,
};
use utoipa::ToSchema;

/// A store, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreView {
    pub id: StoreId,
    #[schema(example = "acme")]
    pub name: String,
    pub engine: Engine,
    pub plan: Plan,
    pub status: StoreStatus,
    /// Why the store is in its status (set when it failed).
    pub status_reason: Option<String>,
    pub owner_id: UserId,
    /// The store's Kubernetes namespace.
    pub namespace: String,
    /// The store's public face: the storefront (WooCommerce), or the Store API a
    /// storefront is built on (Medusa: `/store`, called with `publishable_key`).
    pub url: String,
    /// The shop's admin pages (WooCommerce `/wp-admin/`, Medusa `/app`).
    pub admin_url: String,
    /// Public values the store's setup published, by key: Medusa's `publishable_key`,
    /// which every Store API request carries. Empty until published, and for WooCommerce.
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a drift check last found the store as its deployed revision says (or put it
    /// back); `null` before the first check. A check that finds nothing changed writes no
    /// event, only this time.
    pub last_checked_at: Option<DateTime<Utc>>,
    /// The release the store runs (its deployed revision's); `null` before its first
    /// revision is deployed.
    #[schema(value_type = Option<String>, example = "wp6.8-wc9.8")]
    pub release: Option<ReleaseName>,
    /// The shop's title (the store's name unless one was set).
    pub title: String,
    /// The revision the store runs; `null` before its first is deployed.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub revision: Option<RevisionNumber>,
    /// The store's newest revision: the same as `revision` unless a change is in flight
    /// or one failed since. `GET /api/v1/stores/{id}` sends it as the `ETag`, for
    /// `If-Match` on a change.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub latest_revision: Option<RevisionNumber>,
    /// What is under way besides running the deployed revision (`null`: nothing).
    pub operation: Option<OperationView>,
    /// False when the store's release is no longer its engine's default in the catalog.
    pub release_is_default: bool,
    /// Where the store stands with its backups.
    #[serde(default)]
    pub backup: BackupSummaryView,
}

/// A store's backups at a glance: the schedule, the last success, and a warning when
/// they fell behind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BackupSummaryView {
    /// How often the store is backed up by schedule (`24 h`); `null` when off.
    #[schema(example = "24 h")]
    pub schedule: Option<String>,
    pub last_succeeded_at: Option<DateTime<Utc>>,
    /// When the next scheduled backup is due (it is taken at the first moment after,
    /// once the store has nothing else in progress).
    pub next_scheduled_at: Option<DateTime<Utc>>,
    /// Set when the last successful backup is older than twice the schedule.
    pub warning: Option<String>,
    /// Days the store's backups are kept once it is deleted (restorable as a new store
    /// until then).
    #[serde(default)]
    pub keep_after_delete_days: u32,
}

impl BackupSummaryView {
    /// `store`'s summary under `schedule` at `now`. Only a store that runs has a schedule
    /// to keep: a deleted one, or one not yet provisioned, shows none.
    pub fn of(
        store: &Store,
        schedule: BackupSchedule,
        keep_after_delete_days: u32,
        now: DateTime<Utc>,
    ) -> Self {
        let runs = !matches!(
            store.status,
            StoreStatus::Pending | StoreStatus::Deleting | StoreStatus::Deleted
        );
        let schedule = if runs { schedule } else { BackupSchedule::OFF };
        let health = schedule.health(
            store.backups.last_scheduled_at,
            store.backups.last_succeeded_at,
            store.created_at,
            now,
        );
        Self {
            schedule: schedule.describe(),
            last_succeeded_at: store.backups.last_succeeded_at,
            next_scheduled_at: health.next_scheduled_at,
            warning: health.warning,
            keep_after_delete_days,
        }
    }
}

/// One backup of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BackupView {
    pub id: BackupId,
    pub store_id: StoreId,
    pub kind: BackupKind,
    pub status: BackupStatus,
    /// `user:<name>`, or `system:scheduler` for a scheduled backup.
    pub actor: String,
    pub reason: String,
    /// The revision the store ran when the backup was requested.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub revision: Option<RevisionNumber>,
    /// The snapshot's id in the store's repository, once it succeeded.
    pub snapshot: Option<String>,
    /// The data backed up: the database dump and the files.
    pub size_bytes: Option<u64>,
    /// What the backup added to the repository, after deduplication and compression.
    pub added_bytes: Option<u64>,
    pub duration_ms: Option<u64>,
    /// Why it failed.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When it is purged: set once its store is deleted.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&Backup> for BackupView {
    fn from(backup: &Backup) -> Self {
        let figures = backup.figures.as_ref();
        Self {
            id: backup.id,
            store_id: backup.store_id,
            kind: backup.kind,
            status: backup.status,
            actor: backup.actor.to_string(),
            reason: backup.reason.clone(),
            revision: backup.revision,
            snapshot: figures.map(|f| f.snapshot.clone()),
            size_bytes: figures.map(|f| f.size_bytes),
            added_bytes: figures.map(|f| f.added_bytes),
            duration_ms: figures.map(|f| f.duration_ms),
            failure: backup.failure.clone(),
            created_at: backup.created_at,
            started_at: backup.started_at,
            finished_at: backup.finished_at,
            expires_at: backup.expires_at,
        }
    }
}

/// `POST /api/v1/stores/{id}/backups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBackupRequest {
    /// Why, for the timeline (`before the plugin update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/stores/{id}/restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The backup to restore: one of the store's own that succeeded.
    pub backup: BackupId,
    /// Why, for the store's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A store's backups, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BackupList {
    pub items: Vec<BackupView>,
}

/// What a store is doing besides running its deployed revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    pub kind: OperationKind,
    /// The revision being applied (`null` for an operation that records none).
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub revision: Option<RevisionNumber>,
    /// In words: `updating to revision 4`, `rolling back to revision 2 (as revision 5)`.
    pub description: String,
}

/// The kinds of [`OperationView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Change,
    Rollback,
    PasswordReset,
    Backup,
    Restore,
}

impl OperationView {
    /// What `store`'s revision in flight is doing. A store's first provisioning is no
    /// operation: its status (`pending`, `provisioning`) already says it.
    pub fn of(store: &Store) -> Option<Self> {
        let Some(in_flight) = store.in_flight else {
            // A backup alone (a checkpoint backup is part of its revision's operation).
            if let Some(active) = store.backups.active {
                return Some(Self {
                    kind: OperationKind::Backup,
                    revision: None,
                    description: format!("taking a {} backup", active.kind),
                });
            }
            return store.password_reset_pending.then(|| Self {
                kind: OperationKind::PasswordReset,
                revision: None,
                description: "resetting the admin password".to_owned(),
            });
        };
        let number = in_flight.number;
        if let Some(backup) = in_flight.restores_backup {
            return Some(Self {
                kind: OperationKind::Restore,
                revision: Some(number),
                description: format!("restoring backup {} (as revision {number})", backup.short()),
            });
        }
        match in_flight.rollback_of {
            Some(target) => Some(Self {
                kind: OperationKind::Rollback,
                revision: Some(number),
                description: format!("rolling back to revision {target} (as revision {number})"),
            }),
            None if number == RevisionNumber::FIRST => None,
            None => Some(Self {
                kind: OperationKind::Change,
                revision: Some(number),
                description: format!("updating to revision {number}"),
            }),
        }
    }
}

/// Where stores are reached: `<name>.<base domain>`, and each engine's pages below that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrls {
    pub scheme: &'static str,
    pub base_domain: String,
    /// Per engine, the paths of the public face and the admin (see [`EnginePaths`]).
    pub paths: Vec<(Engine, EnginePaths)>,
}

/// Where an engine's pages are below a store's base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnginePaths {
    pub storefront: &'static str,
    pub admin: &'static str,
}

impl EnginePaths {
    /// WooCommerce's and Medusa's, as their blueprints say; `serve` passes the
    /// blueprints' own, this is for tests of the API alone.
    pub fn builtin() -> Vec<(Engine, EnginePaths)> {
        vec![
            (
                Engine::WooCommerce,
                EnginePaths {
                    storefront: "/",
                    admin: "/wp-admin/",
                },
            ),
            (
                Engine::Medusa,
                EnginePaths {
                    storefront: "/store",
                    admin: "/app",
                },
            ),
        ]
    }
}

impl StoreUrls {
    /// The view of `store`; `default_release` is its engine's default in the catalog.
    pub fn view(
        &self,
        store: &Store,
        default_release: Option<&ReleaseName>,
        backups: (BackupSchedule, u32),
    ) -> StoreView {
        let base = format!("{}://{}.{}", self.scheme, store.spec.name, self.base_domain);
        let paths = self
            .paths
            .iter()
            .find(|(engine, _)| *engine == store.spec.engine)
            .map_or(
                EnginePaths {
                    storefront: "/",
                    admin: "/",
                },
                |(_, paths)| *paths,
            );
        StoreView {
            id: store.id,
            name: store.spec.name.to_string(),
            engine: store.spec.engine,
            plan: store.spec.plan,
            status: store.status,
            status_reason: store.status_reason.clone(),
            owner_id: store.owner,
            namespace: store.namespace(),
            // The site's root is the bare origin, as it always was for WooCommerce.
            url: format!("{base}{}", paths.storefront.trim_end_matches('/')),
            admin_url: format!("{base}{}", paths.admin),
            outputs: store.outputs.clone(),
            created_at: store.created_at,
            updated_at: store.updated_at,
            last_checked_at: store.last_checked_at,
            release: store.spec.release.clone(),
            title: store
                .spec
                .title
                .as_ref()
                .map_or_else(|| store.spec.name.to_string(), ToString::to_string),
            revision: store.deployed_revision,
            latest_revision: store.latest_revision,
            operation: OperationView::of(store),
            release_is_default: match (&store.spec.release, default_release) {
                (Some(release), Some(default)) => release == default,
                _ => true,
            },
            backup: BackupSummaryView::of(store, backups.0, backups.1, Utc::now()),
        }
    }
}

/// The body of `POST /api/v1/stores`.
// Parsed loosely (plain strings) so that each bad field gets its own error code and
// message rather than a generic parse failure; the document still states exactly what is
// accepted: `openapi::document` adds the name's rules and the engines this server
// provisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreRequest {
    /// 3 to 40 lowercase letters, digits and '-', starting and ending with a letter or
    /// digit, not reserved; becomes `<name>.<base domain>`.
    #[schema(example = "acme")]
    pub name: String,
    /// One of the engines `GET /api/v1/engines` lists as available.
    #[schema(example = "woocommerce")]
    pub engine: String,
    #[schema(value_type = Plan, example = "small")]
    pub plan: String,
    /// Make the store a copy of this backup (of one of your stores, deleted or not, of the
    /// same engine): its first provisioning restores the backup's database and files, with
    /// new credentials and its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_backup: Option<BackupId>,
}

/// A timeline event, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Grows with every event written; resume live updates after it.
    pub seq: i64,
    pub store_id: StoreId,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
    /// What the event is about, by kind; `null` when there is nothing more to say.
    #[schema(value_type = Option<Object>)]
    pub detail: serde_json::Value,
    /// `user:<name>` or `system:<component>`.
    pub actor: String,
}

impl From<StoreEvent> for EventView {
    fn from(event: StoreEvent) -> Self {
        Self {
            seq: event.seq,
            store_id: event.store_id,
            at: event.at,
            kind: event.kind,
            message: event.message,
            detail: event.detail,
            actor: event.actor.to_string(),
        }
    }
}

/// One page of a list, with the cursor of the next page (`null` on the last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A store's initial admin credentials, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialsView {
    pub username: String,
    pub password: String,
    pub admin_url: String,
}

impl std::fmt::Debug for CredentialsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsView")
            .field("username", &self.username)
            .field("password", &"***")
            .field("admin_url", &self.admin_url)
            .finish()
    }
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    /// How the caller authenticated: `token`, `session`, `proxy` or `none`.
    pub auth: String,
    /// For cookie sessions: send it back as `X-CSRF-Token` on state-changing requests.
    pub csrf_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// The error shape every failure takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `invalid_name`.
    pub code: String,
    /// What happened, in words a person can act on.
    pub message: String,
    /// The request field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The Kubernetes cluster storeplane manages, as people are shown it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// The kubeconfig context, `in-cluster`, or `kube-sim (simulated)`.
    pub name: String,
    /// True for kube-sim, the built-in simulated cluster (a test double).
    pub simulated: bool,
}

/// An engine and whether stores can be created with it today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EngineView {
    pub engine: Engine,
    pub available: bool,
}

/// A plan and the share of the cluster it gives a store (its namespace's quota), as
/// Kubernetes quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    /// The engine whose stores the plan sizes: each engine has its own table.
    pub engine: Engine,
    pub plan: Plan,
    /// CPU limit of the whole store, e.g. `2` (cores) or `500m`.
    #[schema(example = "2")]
    pub cpu: String,
    /// Memory limit of the whole store, e.g. `2Gi`.
    #[schema(example = "2Gi")]
    pub memory: String,
    /// Storage all its volumes may claim, e.g. `4Gi`.
    #[schema(example = "4Gi")]
    pub storage: String,
}

/// A release of the platform's catalog: what a store on it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseView {
    pub engine: Engine,
    #[schema(value_type = String, example = "wp6.8-wc9.8")]
    pub name: ReleaseName,
    /// New stores of the engine get this release.
    pub default: bool,
    /// What the release pins, by component (engine-specific), e.g. `wordpress`,
    /// `woocommerce`, `wp_cli`, `mariadb`.
    pub components: std::collections::BTreeMap<String, String>,
}

/// The body of `PATCH /api/v1/stores/{id}`: at least one of `release`, `plan` and
/// `title`; what is left out stays as the deployed revision has it.
// Parsed loosely, like a create, so that each bad field gets its own code; `null` is not
// accepted for a field (leave it out instead). `openapi::document` adds the releases of
// the catalog and the title's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStoreRequest {
    /// A release of `GET /api/v1/releases` for the store's engine.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = String, nullable = false, example = "wp6.8-wc9.8")]
    pub release: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Plan, nullable = false, example = "medium")]
    pub plan: Option<String>,
    /// The shop's title: 1 to 100 characters, no control characters, no white space at
    /// either end.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = String, nullable = false, example = "Acme Outfitters")]
    pub title: Option<String>,
    /// Why, for the history (up to 500 characters).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = String, nullable = false, max_length = 500, example = "more traffic")]
    pub reason: Option<String>,
}

/// The body of `POST /api/v1/stores/{id}/rollback`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The revision to go back to (default: the newest one before the deployed revision
    /// that was deployed, i.e. superseded).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number"
    )]
    #[schema(value_type = u32, nullable = false, minimum = 1, maximum = 4294967295_u64)]
    pub revision: Option<u64>,
    /// Restore the checkpoint taken before the data migration the rollback crosses (every
    /// order written since is lost); without it such a rollback is refused.
    #[serde(default, deserialize_with = "present_bool")]
    #[schema(nullable = false)]
    pub restore_checkpoint: bool,
    /// Why, for the history (up to 500 characters).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = String, nullable = false, max_length = 500)]
    pub reason: Option<String>,
}

/// A field that may be left out but, when sent, is not `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A whole number, as JSON may spell it: `3` or `3.0` (JSON Schema's `integer` is any
/// number without a fractional part).
fn whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_u64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f))
                // In range and whole, so the conversion is exact.
                .map(|f| f as u64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{number} is not a whole number from 0")))
}

fn present_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    bool::deserialize(deserializer)
}

/// What a change or a rollback did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeResponse {
    pub store: StoreView,
    /// The revision recorded (queued), or for a change that changes nothing the deployed
    /// one.
    pub revision: RevisionView,
    /// False when nothing was recorded because the store already runs the result.
    pub changed: bool,
    /// What happened, in words.
    pub message: String,
    /// True when the rollback restores a checkpoint first: every order written since it
    /// was taken is lost.
    pub data_loss: bool,
}

/// A checkpoint of a store's database, taken before a revision that migrates data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    pub taken_at: DateTime<Utc>,
    /// The dump's file on the store's `checkpoints` volume.
    pub path: String,
}

/// One revision of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    #[schema(value_type = u32, minimum = 1)]
    pub number: RevisionNumber,
    pub status: storeplane_domain::RevisionStatus,
    #[schema(value_type = Option<String>, example = "wp6.8-wc9.8")]
    pub release: Option<ReleaseName>,
    pub plan: Plan,
    pub title: String,
    /// What differs from the revision before it (`plan small -> medium`); empty for
    /// revision 1, the store's first provisioning.
    pub changes: String,
    /// `user:<name>` or `system:<component>`.
    pub actor: String,
    pub reason: String,
    /// Why it failed, as read from the cluster.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Hex SHA-256 of its manifest.
    pub manifest_digest: String,
    /// Hex SHA-256 of the platform settings it was rendered with.
    pub platform_digest: String,
    /// Whether its manifest is still kept (only the newest ones are).
    pub manifest_kept: bool,
    pub checkpoint: Option<CheckpointView>,
    /// The revision it rolls back to.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub rollback_of: Option<RevisionNumber>,
    /// The revision whose checkpoint it restores first.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub restores: Option<RevisionNumber>,
    /// Whether it runs the engine's upgrade step on the store's data.
    pub migrates_data: bool,
    /// The backup it restores first, for a restore in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores_backup: Option<BackupId>,
}

impl RevisionView {
    /// The view of `revision`; `previous` is the revision numbered one less, if any.
    pub fn of(revision: &Revision, previous: Option<&Revision>) -> Self {
        let described = previous
            .map(|previous| storeplane_domain::describe_spec_change(&previous.spec, &revision.spec))
            .unwrap_or_default();
        let changes = if let Some(target) = revision.rollback_of {
            // What going back changes, beside the revision before it: `rollback to
            // revision 1: plan medium -> small`.
            match described.as_str() {
                "" => format!("rollback to revision {target}"),
                described => format!("rollback to revision {target}: {described}"),
            }
        } else if revision.actor == storeplane_domain::Actor::System("platform".to_owned()) {
            "platform settings".to_owned()
        } else if previous.is_none() {
            String::new()
        } else if described.is_empty() {
            "no change to the spec".to_owned()
        } else {
            described
        };
        let spec = &revision.spec;
        Self {
            number: revision.number,
            status: revision.status,
            release: spec.release.clone(),
            plan: spec.plan,
            title: spec
                .title
                .as_ref()
                .map_or_else(|| spec.name.to_string(), ToString::to_string),
            changes,
            actor: revision.actor.to_string(),
            reason: revision.reason.clone(),
            failure: revision.failure.clone(),
            created_at: revision.created_at,
            started_at: revision.started_at,
            finished_at: revision.finished_at,
            manifest_digest: revision.manifest_digest.clone(),
            platform_digest: revision.platform_digest.clone(),
            manifest_kept: revision.manifest_kept,
            checkpoint: revision.checkpoint.as_ref().map(|c| CheckpointView {
                taken_at: c.taken_at,
                path: c.path.clone(),
            }),
            rollback_of: revision.rollback_of,
            restores: revision.restores,
            migrates_data: revision.migrates_data,
            restores_backup: revision.restores_backup,
        }
    }
}

/// One revision with its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionDetail {
    #[serde(flatten)]
    pub revision: RevisionView,
    /// The rendered objects as YAML (Secrets as placeholders); `null` once pruned.
    pub manifest: Option<String>,
}

/// The difference between two revisions' manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionDiff {
    #[schema(value_type = u32, minimum = 1)]
    pub from: RevisionNumber,
    #[schema(value_type = u32, minimum = 1)]
    pub to: RevisionNumber,
    /// True when the two manifests are the same text (`diff` is then empty).
    pub identical: bool,
    /// A unified diff, headed `--- revision <from>` and `+++ revision <to>`.
    pub diff: String,
}

/// What `POST /stores/{id}/credentials/reset` answers: the store, whose timeline says when
/// the new credentials can be revealed (a `step` event with `detail.step ==
/// "password_reset"` and `detail.status == "done"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResetResponse {
    pub store: StoreView,
}

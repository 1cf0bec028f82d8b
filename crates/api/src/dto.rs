//! The JSON the API speaks: what it returns and accepts, shared with the CLI client so the
//! two can never disagree on a field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use storeplane_domain::{
    Engine, EventKind, Plan, Role, Store, StoreEvent, StoreId, StoreStatus, UserId,
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
    /// The storefront.
    pub url: String,
    /// The shop's admin pages.
    pub admin_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a drift check last found the store as its deployed revision says (or put it
    /// back); `null` before the first check. A check that finds nothing changed writes no
    /// event, only this time.
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// Where stores are reached: `<name>.<base domain>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrls {
    pub scheme: &'static str,
    pub base_domain: String,
}

impl StoreUrls {
    pub fn view(&self, store: &Store) -> StoreView {
        let url = format!("{}://{}.{}", self.scheme, store.spec.name, self.base_domain);
        StoreView {
            id: store.id,
            name: store.spec.name.to_string(),
            engine: store.spec.engine,
            plan: store.spec.plan,
            status: store.status,
            status_reason: store.status_reason.clone(),
            owner_id: store.owner,
            namespace: store.namespace(),
            admin_url: format!("{url}/wp-admin/"),
            url,
            created_at: store.created_at,
            updated_at: store.updated_at,
            last_checked_at: store.last_checked_at,
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

/// What `POST /stores/{id}/credentials/reset` answers: the store, whose timeline says when
/// the new credentials can be revealed (a `step` event with `detail.step ==
/// "password_reset"` and `detail.status == "done"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResetResponse {
    pub store: StoreView,
}

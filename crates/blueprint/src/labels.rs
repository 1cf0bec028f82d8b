//! The labels every storeplane object carries: who manages it, which store it belongs to,
//! and which part of the store it is. The apply engine prunes by the first two, so they
//! must be on every object.

use std::collections::BTreeMap;

use storeplane_domain::StoreId;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const COMPONENT: &str = "app.kubernetes.io/component";
pub const NAME: &str = "app.kubernetes.io/name";
pub const STORE_ID: &str = "storeplane.io/store-id";
/// On the objects of an engine step (a checkpoint, an upgrade, a restore, a password
/// reset): which step, or `shared` for what several steps use. Such objects outlive the
/// pass that applies a store, so the store's prune selector leaves them alone.
pub const STEP: &str = "storeplane.io/step";
/// The value of [`MANAGED_BY`] and [`PART_OF`].
pub const STOREPLANE: &str = "storeplane";

/// The labels that identify `store`'s objects.
pub fn store_labels(store: StoreId) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), STOREPLANE.to_owned()),
        (PART_OF.to_owned(), STOREPLANE.to_owned()),
        (STORE_ID.to_owned(), store.to_string()),
    ])
}

/// The label selector (in `kubectl -l` form) that finds every object of `store`'s
/// desired set, for pruning objects that are no longer desired. Engine steps' objects
/// (labelled [`STEP`]: checkpoints, their claim) are not part of it, so applying a store
/// never prunes a checkpoint.
pub fn store_selector(store: StoreId) -> String {
    format!("{MANAGED_BY}={STOREPLANE},{STORE_ID}={store},!{STEP}")
}

/// What part of a store an object is; the value of [`COMPONENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The namespace and what fences it: quota, limit range, network policies.
    Isolation,
    /// Generated passwords and keys.
    Credentials,
    Database,
    /// A cache or queue beside the database (Medusa's Redis).
    Cache,
    Web,
    /// A background worker beside the web pods (Medusa's).
    Worker,
    Setup,
    /// The pods of engine steps (checkpoint, upgrade, restore, password reset).
    Maintenance,
    /// The front door: the store's HTTPRoute or Ingress.
    Ingress,
}

impl Component {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Isolation => "isolation",
            Self::Credentials => "credentials",
            Self::Database => "database",
            Self::Cache => "cache",
            Self::Web => "web",
            Self::Worker => "worker",
            Self::Setup => "setup",
            Self::Maintenance => "maintenance",
            Self::Ingress => "ingress",
        }
    }
}

/// Selects the pods of one component inside a store's namespace. Kept to one label
/// because a workload's selector is immutable once created.
pub fn component_selector(component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([(COMPONENT.to_owned(), component.as_str().to_owned())])
}

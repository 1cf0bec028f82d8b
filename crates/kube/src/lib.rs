//! storeplane's Kubernetes layer: the apply, wait and teardown steps of the provisioning
//! pipeline, plus reading a store's initial admin credentials.
//!
//! Everything goes through one [`Applier`], which holds a `kube::Client` and writes with
//! one field manager, `storeplane`.
//!
//! # Design
//!
//! - **Ordered server-side apply.** [`Applier::apply`] writes a blueprint's objects in the
//!   order given, with `force` so storeplane always wins conflicts on fields it owns;
//!   Secrets are created only when absent and never overwritten. Each object's
//!   [`Outcome`] (created, configured, unchanged) comes from the apply response alone:
//!   one request per object.
//! - **Jobs are re-created, not patched, when their pod template changes.** The API
//!   server keeps a Job's template immutable; the applier deletes the Job, watches until
//!   it is gone and applies it again ([`Outcome::Recreated`]). Any other kind's changed
//!   immutable field fails the apply naming the field.
//! - **Prune by label.** [`Applier::prune`] lists the store-labelled objects of every kind
//!   a blueprint can produce (one list per kind) and deletes those not applied in the
//!   pass, like Stackable's `ClusterResources`. It is optional, so a cheap reconcile can
//!   skip it.
//! - **Readiness by watch.** [`Applier::wait_ready`] watches each workload until it is
//!   ready (one watch request each), and on failure or timeout reads *why* from the
//!   cluster (a container's waiting reason, a Job's failed condition). Applying a store
//!   and waiting for it costs one request per object plus one per workload.
//! - **Teardown never hangs silently.** [`Applier::delete_namespace`] watches the
//!   namespace until it is gone and, at the timeout, names the finalizers that hold it.
//! - **Dry runs validate without touching.** [`Applier::dry_run`] sends a revision's
//!   objects with `dryRun=All`, so the API server validates and admits them and stores
//!   nothing; it bypasses the applier's memory.
//! - **A reset password is written once per generation.** [`Applier::set_secret_value`]
//!   writes a Secret's key with the generation annotation in one patch, and not again for
//!   the same generation.
//! - **Errors say what to do next.** Every error names the object and says whether it is
//!   transient (`is_transient()`: retry later) or permanent.

mod apply;
mod credentials;
mod dry_run;
mod kinds;
mod memory;
mod outcome;
mod outputs;
mod prune;
mod rate_limit;
mod readiness;
mod recreate;
mod remove;
mod secret_value;
mod teardown;
mod transient;
mod watch;

pub use apply::{Applier, ApplyError, FIELD_MANAGER};
pub use credentials::CredentialsError;
pub use kinds::ObjectRef;
pub use memory::DEFAULT_REMEMBERED_OBJECTS;
pub use outcome::{Applied, Outcome};
pub use outputs::OutputsError;
pub use prune::Pruned;
pub use rate_limit::{ClientRateLimit, RateLimitLayer, RateLimited};
pub use readiness::{NotReady, NotReadyCause};
pub use secret_value::ADMIN_PASSWORD_GENERATION;
pub use teardown::{TeardownError, TeardownOutcome};

/// A Kubernetes client for `config` whose requests keep to `limit`.
pub fn client(config: kube::Config, limit: ClientRateLimit) -> Result<kube::Client, kube::Error> {
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&RateLimitLayer::new(limit))
        .build())
}

//! The upgrade backfill: at start, `serve` and `worker` record revision 1 for every ready
//! store made before revisions existed, from its current spec (its release resolved to the
//! catalog's default) and the platform settings in force. Nothing in the cluster changes:
//! the store already runs what is rendered.
//!
//! Safe on any number of replicas at once: `record_initial_revision` records nothing for
//! a store that already has a revision, inside its transaction, so of two replicas
//! backfilling the same store one records it and the other skips it. Only *ready* stores
//! are backfilled: a pending, provisioning or failed store gets revision 1 from its next
//! provisioning (recorded `applying` by the worker that leases its job), so the backfill
//! never claims a store is deployed with something the cluster does not run yet.

use chrono::Utc;
use storeplane_blueprint::Blueprint;
use storeplane_db::{InitialRevision, Repository};
use storeplane_domain::{Actor, RevisionContent, Store, StoreStatus};

/// Stores read per round.
const PAGE: u32 = 500;

/// What the backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfilled {
    /// Stores that got revision 1.
    pub recorded: u64,
    /// Ready stores that could not be rendered (logged one by one; retried at next start,
    /// and by the worker at the store's next drift pass).
    pub failed: u64,
}

/// Records revision 1 `deployed` (actor `system:upgrade`) for every ready store without a
/// revision, and logs how many it recorded.
pub async fn backfill_revisions(
    repo: &dyn Repository,
    blueprint: &Blueprint,
) -> anyhow::Result<Backfilled> {
    let mut done = Backfilled::default();
    loop {
        let stores = repo.stores_without_revisions(PAGE).await?;
        let mut progressed = false;
        for store in stores.iter().filter(|s| s.status == StoreStatus::Ready) {
            match record(repo, blueprint, store).await {
                Ok(true) => {
                    done.recorded += 1;
                    progressed = true;
                }
                // Another replica recorded it first.
                Ok(false) => progressed = true,
                Err(error) => {
                    done.failed += 1;
                    tracing::warn!(store.id = %store.id, store.name = %store.spec.name, error = %format!("{error:#}"), "could not record revision 1 of the store");
                }
            }
        }
        // A page of stores none of which can be backfilled (not ready, or failing to
        // render) would come back the same: stop there.
        if stores.len() < PAGE as usize || !progressed {
            break;
        }
    }
    tracing::info!(
        stores = done.recorded,
        failed = done.failed,
        "backfilled revision 1 of {} stores made before revisions",
        done.recorded
    );
    Ok(done)
}

async fn record(
    repo: &dyn Repository,
    blueprint: &Blueprint,
    store: &Store,
) -> anyhow::Result<bool> {
    let mut spec = store.spec.clone();
    spec.release = Some(blueprint.release(&spec)?);
    let rendered = blueprint.render(store.id, &spec)?;
    let recorded = repo
        .record_initial_revision(InitialRevision {
            store: store.id,
            content: RevisionContent {
                spec,
                platform_digest: rendered.platform_digest,
                manifest: rendered.manifest.text,
                manifest_digest: rendered.manifest.digest,
            },
            actor: Actor::System("upgrade".to_owned()),
            reason: "recorded from the store as it runs, on upgrade".to_owned(),
            deployed: true,
            now: Utc::now(),
        })
        .await?;
    Ok(recorded.is_some())
}

//! Drift checks: ready stores are reconciled again now and then, so an object changed or
//! deleted behind storeplane's back (a NetworkPolicy removed by hand, say) is put back and
//! the store's timeline says so.
//!
//! Every replica may run this: a reconcile job for a store that already has one coalesces
//! into it, so the store is checked once whichever replica asked.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use storeplane_db::{Repository, StoreQuery};
use storeplane_domain::{JobKind, StoreStatus};
use tokio::sync::watch;

/// Stores read per page while queueing checks.
const PAGE: u32 = 200;

/// Queues a reconcile job for every ready store, every `interval` give or take half of it
/// (jittered so that replicas, and stores created together, spread out). Returns when
/// `stop` turns true.
pub async fn schedule_drift_checks(
    repo: Arc<dyn Repository>,
    interval: Duration,
    max_attempts: u32,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let jitter: f64 = rand::random();
        let wait = interval.mul_f64(0.5 + jitter);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if let Err(error) = queue_checks(repo.as_ref(), max_attempts).await {
            tracing::warn!(%error, "could not queue drift checks; trying again next round");
        }
    }
}

async fn queue_checks(
    repo: &dyn Repository,
    max_attempts: u32,
) -> Result<(), storeplane_db::DbError> {
    let mut query = StoreQuery {
        status: Some(StoreStatus::Ready),
        limit: PAGE,
        ..StoreQuery::default()
    };
    loop {
        let stores = repo.list_stores(&query).await?;
        for store in &stores {
            repo.enqueue(store.id, JobKind::Reconcile, max_attempts, Utc::now())
                .await?;
        }
        match stores.last() {
            Some(last) if stores.len() == PAGE as usize => query.before = Some(last.id),
            _ => return Ok(()),
        }
    }
}

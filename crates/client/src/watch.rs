//! Watching one store on the live update stream: print its timeline as it happens until
//! it reaches the status a command waits for, or fails.

use std::io::Write;

use futures::StreamExt;
use storeplane_api::dto::StoreView;
use storeplane_domain::StoreStatus;

use crate::command_error::CommandError;
use crate::live::{LiveUpdate, LiveUpdates};
use crate::output::Printer;

/// The status a command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Provisioned and verified (`create --wait`).
    Ready,
    /// Torn down (`delete --wait`).
    Deleted,
}

impl Goal {
    fn status(self) -> StoreStatus {
        match self {
            Self::Ready => StoreStatus::Ready,
            Self::Deleted => StoreStatus::Deleted,
        }
    }
}

/// Prints the store's timeline events from `updates` until the store reaches `goal`
/// (returns its final state) or fails (returns [`CommandError::StoreFailed`]).
///
/// `latest` is the store as last known; `updates` must have been subscribed before that
/// state was read, so that no change after it is missed. Updates about other stores are
/// skipped. Cancel-safe: dropping the future (on a timeout) loses nothing but the wait.
pub(crate) async fn watch_store<W: Write>(
    updates: &mut LiveUpdates,
    latest: &mut StoreView,
    goal: Goal,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    loop {
        match settled(latest, goal) {
            Some(Ok(())) => return Ok(()),
            Some(Err(err)) => return Err(err),
            None => {}
        }
        match updates.next().await {
            Some(Ok(LiveUpdate::Timeline(event))) if event.store_id == latest.id => {
                printer.event(&event)?;
            }
            Some(Ok(LiveUpdate::Store(store))) if store.id == latest.id => {
                *latest = store;
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(CommandError::StreamEnded),
        }
    }
}

/// Whether the wait is over: reached, failed, or not yet (`None`).
fn settled(store: &StoreView, goal: Goal) -> Option<Result<(), CommandError>> {
    if store.status == goal.status() {
        return Some(Ok(()));
    }
    match store.status {
        StoreStatus::Failed => Some(Err(CommandError::StoreFailed {
            name: store.name.clone(),
            reason: store
                .status_reason
                .clone()
                .unwrap_or_else(|| "no reason given".to_owned()),
        })),
        // A store deleted while we wait for it to be ready will never be ready.
        StoreStatus::Deleting | StoreStatus::Deleted if goal == Goal::Ready => {
            Some(Err(CommandError::Deleted {
                name: store.name.clone(),
            }))
        }
        _ => None,
    }
}

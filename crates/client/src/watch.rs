//! Watching one store on the live update stream: print its timeline as it happens until
//! it reaches the status a command waits for, or fails.

use std::io::Write;

use futures::StreamExt;
use storeplane_api::dto::{EventView, StoreView};
use storeplane_domain::{EventKind, RevisionNumber, RevisionStatus, StoreStatus};

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

/// Prints the store's timeline events from `updates` until its revision `revision` is
/// deployed (returns), or fails or is rolled back ([`CommandError::RevisionFailed`], with
/// the reason the timeline gives).
///
/// `updates` must have been subscribed before the revision was recorded, so that none of
/// its steps is missed. Cancel-safe, like [`watch_store`].
pub(crate) async fn watch_revision<W: Write>(
    updates: &mut LiveUpdates,
    latest: &mut StoreView,
    revision: RevisionNumber,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    loop {
        if matches!(latest.status, StoreStatus::Deleting | StoreStatus::Deleted) {
            return Err(CommandError::Deleted {
                name: latest.name.clone(),
            });
        }
        match updates.next().await {
            Some(Ok(LiveUpdate::Timeline(event))) if event.store_id == latest.id => {
                printer.event(&event)?;
                match revision_outcome(&event, revision) {
                    Some(RevisionStatus::Deployed) => return Ok(()),
                    Some(_) => {
                        return Err(CommandError::RevisionFailed {
                            name: latest.name.clone(),
                            revision: revision.get(),
                            reason: event
                                .detail
                                .get("failure")
                                .and_then(|f| f.as_str())
                                .map_or_else(|| event.message.clone(), str::to_owned),
                        });
                    }
                    None => {}
                }
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

/// The status `event` says revision `revision` settled in: deployed, failed or rolled
/// back (`None` for any other event, or a step on the way).
fn revision_outcome(event: &EventView, revision: RevisionNumber) -> Option<RevisionStatus> {
    if event.kind != EventKind::Step
        || event.detail.get("step").and_then(|s| s.as_str()) != Some("revision")
        || event.detail.get("revision").and_then(|r| r.as_u64()) != Some(u64::from(revision.get()))
    {
        return None;
    }
    let status: RevisionStatus = event.detail.get("status")?.as_str()?.parse().ok()?;
    matches!(
        status,
        RevisionStatus::Deployed | RevisionStatus::Failed | RevisionStatus::RolledBack
    )
    .then_some(status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn step(detail: serde_json::Value) -> EventView {
        serde_json::from_value(serde_json::json!({
            "seq": 1, "store_id": "01936f3e-8b7a-7c2d-9e4f-0123456789ab",
            "at": "2026-11-22T10:00:00Z", "kind": "step", "message": "m",
            "detail": detail, "actor": "system:worker",
        }))
        .unwrap()
    }

    #[test]
    fn only_the_awaited_revision_settling_ends_the_wait() {
        let four = RevisionNumber::new(4).unwrap();
        let of = |revision: u32, status: &str| {
            revision_outcome(
                &step(
                    serde_json::json!({"step": "revision", "revision": revision, "status": status}),
                ),
                four,
            )
        };
        assert_eq!(of(4, "deployed"), Some(RevisionStatus::Deployed));
        assert_eq!(of(4, "failed"), Some(RevisionStatus::Failed));
        assert_eq!(of(4, "rolled_back"), Some(RevisionStatus::RolledBack));
        assert_eq!(of(4, "applying"), None);
        assert_eq!(of(3, "deployed"), None, "another revision");
        let other_step =
            step(serde_json::json!({"step": "checkpoint", "revision": 4, "status": "deployed"}));
        assert_eq!(revision_outcome(&other_step, four), None);
    }
}

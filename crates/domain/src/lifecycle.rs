//! The store lifecycle: which status may follow which.
//!
//! ```text
//! pending ──► provisioning ──► ready
//!    │             │             │
//!    └──────┬──────┴─────────────┤        (any active status ──► failed)
//!           ▼                    ▼
//!        deleting ◄────────── failed ──► pending (retry)
//!           │
//!           ▼
//!        deleted   (the row stays, for history)
//! ```

use crate::store::text_enum;

text_enum! {
    /// Where a store stands in its lifecycle.
    StoreStatus, "status" {
        /// Accepted; a provisioning job is queued.
        Pending = "pending",
        /// A worker is applying the store's objects and waiting for them.
        Provisioning = "provisioning",
        /// Everything is up and verified.
        Ready = "ready",
        /// Something broke; `status_reason` says what.
        Failed = "failed",
        /// Teardown is under way.
        Deleting = "deleting",
        /// Gone from the cluster; the row and its events remain as history.
        Deleted = "deleted",
    }
}

impl StoreStatus {
    /// Whether a store may move from `self` to `next`. Staying in the same status is always
    /// allowed (a reconcile that changes nothing, a repeated delete); `deleted` is final.
    pub fn can_become(self, next: Self) -> bool {
        use StoreStatus::*;
        if self == next {
            return true;
        }
        matches!(
            (self, next),
            (Pending, Provisioning | Failed | Deleting)
                | (Provisioning, Ready | Failed | Deleting)
                | (Ready, Provisioning | Failed | Deleting)
                | (Failed, Pending | Provisioning | Deleting)
                | (Deleting, Deleted | Failed)
        )
    }

    /// Moves to `next`, or says why the lifecycle forbids it.
    pub fn transition(self, next: Self) -> Result<Self, IllegalTransition> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }

    /// The statuses a store may move to `self` from (for compare-and-set updates).
    pub fn predecessors(self) -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|from| from.can_become(self))
            .collect()
    }

    /// Whether the store still exists or is still being set up or torn down: live stores
    /// count against quotas and hold their name.
    pub fn is_live(self) -> bool {
        self != Self::Deleted
    }
}

/// A status change the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} store cannot become {to}")]
pub struct IllegalTransition {
    pub from: StoreStatus,
    pub to: StoreStatus,
}

#[cfg(test)]
mod tests {
    use super::StoreStatus::{self, *};

    #[test]
    fn the_happy_path_is_allowed() {
        let mut status = Pending;
        for next in [Provisioning, Ready, Deleting, Deleted] {
            status = status.transition(next).unwrap();
        }
        assert_eq!(status, Deleted);
    }

    #[test]
    fn every_active_status_may_fail() {
        for from in [Pending, Provisioning, Ready, Deleting] {
            assert!(from.can_become(Failed), "{from} -> failed");
        }
    }

    #[test]
    fn a_failed_store_may_be_retried_or_deleted() {
        assert!(Failed.can_become(Pending));
        assert!(Failed.can_become(Deleting));
    }

    #[test]
    fn deleted_is_final() {
        for next in StoreStatus::ALL.iter().copied().filter(|s| *s != Deleted) {
            let err = Deleted.transition(next).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("a deleted store cannot become {next}")
            );
        }
    }

    #[test]
    fn illegal_transitions_are_errors() {
        assert!(Pending.transition(Ready).is_err());
        assert!(Pending.transition(Deleted).is_err());
        assert!(Ready.transition(Pending).is_err());
        assert!(Deleting.transition(Ready).is_err());
        assert!(Deleting.transition(Provisioning).is_err());
    }

    #[test]
    fn a_store_can_be_deleted_only_through_deleting() {
        assert_eq!(Deleted.predecessors(), vec![Deleting, Deleted]);
    }
}

//! Where a revision stands, and which status may follow which.
//!
//! ```text
//! pending ──► applying ──► deployed ──► superseded   (a later one was deployed)
//!    │           │  │
//!    │           │  └────► failed ──► rolled_back    (the store went back)
//!    └───────────┴───────────────────► rolled_back   (abandoned: the store went back)
//! ```

use crate::store::text_enum;

text_enum! {
    /// Where a revision stands.
    RevisionStatus, "revision status" {
        /// Recorded; its job is queued.
        Pending = "pending",
        /// A worker is applying it and waiting for the store to be ready with it.
        Applying = "applying",
        /// The store runs it; exactly one revision of a store is deployed at a time.
        Deployed = "deployed",
        /// It did not become ready (`failure` says why); the store is left as it is, or is
        /// on its way back.
        Failed = "failed",
        /// A later revision was deployed.
        Superseded = "superseded",
        /// It failed or was abandoned, and the store went back to the deployed revision.
        RolledBack = "rolled_back",
    }
}

impl RevisionStatus {
    /// Whether a revision may move from `self` to `next`. Staying in the same status is
    /// allowed (a repeated mark by a worker that retries); `superseded` and `rolled_back`
    /// are final. A failed revision is never applied again: retrying it is a new revision.
    pub fn can_become(self, next: Self) -> bool {
        use RevisionStatus::*;
        self == next
            || matches!(
                (self, next),
                (Pending, Applying | Failed | RolledBack)
                    | (Applying, Deployed | Failed | RolledBack)
                    | (Deployed, Superseded)
                    | (Failed, RolledBack)
            )
    }

    /// Moves to `next`, or says why a revision cannot.
    pub fn transition(self, next: Self) -> Result<Self, IllegalRevisionTransition> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalRevisionTransition {
                from: self,
                to: next,
            })
        }
    }

    /// Waiting for or under way at a worker.
    pub fn is_in_flight(self) -> bool {
        matches!(self, Self::Pending | Self::Applying)
    }

    /// No status can follow it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Superseded | Self::RolledBack)
    }
}

/// A revision status change the rules above do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} revision cannot become {to}")]
pub struct IllegalRevisionTransition {
    pub from: RevisionStatus,
    pub to: RevisionStatus,
}

#[cfg(test)]
mod tests {
    use super::RevisionStatus::{self, *};

    #[test]
    fn a_change_goes_from_pending_through_applying_to_deployed_and_later_superseded() {
        let mut status = Pending;
        for next in [Applying, Deployed, Superseded] {
            status = status.transition(next).unwrap();
        }
        assert_eq!(status, Superseded);
    }

    #[test]
    fn a_failed_revision_is_rolled_back_and_never_applied_again() {
        assert_eq!(Applying.transition(Failed), Ok(Failed));
        assert_eq!(Failed.transition(RolledBack), Ok(RolledBack));
        for next in [Pending, Applying, Deployed] {
            assert!(Failed.transition(next).is_err(), "failed -> {next}");
        }
    }

    #[test]
    fn an_abandoned_revision_may_be_rolled_back_before_or_while_it_is_applied() {
        assert!(Pending.can_become(RolledBack));
        assert!(Applying.can_become(RolledBack));
    }

    #[test]
    fn a_revision_is_deployed_only_after_it_was_applied() {
        let err = Pending.transition(Deployed).unwrap_err();
        assert_eq!(err.to_string(), "a pending revision cannot become deployed");
    }

    #[test]
    fn superseded_and_rolled_back_are_final() {
        for from in [Superseded, RolledBack] {
            assert!(from.is_final());
            for next in RevisionStatus::ALL.iter().copied().filter(|s| *s != from) {
                assert!(from.transition(next).is_err(), "{from} -> {next}");
            }
        }
    }

    #[test]
    fn only_pending_and_applying_revisions_are_in_flight() {
        let in_flight: Vec<_> = RevisionStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_in_flight())
            .collect();
        assert_eq!(in_flight, [Pending, Applying]);
    }

    #[test]
    fn statuses_round_trip_through_their_text_form() {
        for status in RevisionStatus::ALL {
            assert_eq!(status.as_str().parse::<RevisionStatus>().unwrap(), *status);
        }
        assert_eq!(RolledBack.as_str(), "rolled_back");
    }
}

//! Store revisions: the numbered, immutable records of what a store should be.
//!
//! A store always runs exactly one *deployed* revision. Every change, rollback and
//! platform-settings change that alters what a store renders is a new revision, carried
//! out by a worker (`pending -> applying -> deployed`) and, when it fails, undone by
//! going back to the deployed one. What a request does to a store's revisions is decided
//! here, by pure functions of the revisions and the request ([`decide_change`],
//! [`decide_rollback`], [`decide_remediation`]); the metadata store and the worker carry
//! the decisions out.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Actor, BackupId, StoreId, StoreSpec};

mod change;
#[cfg(test)]
mod fixtures;
mod remediation;
mod rollback;
mod status;

pub use self::status::{IllegalRevisionTransition, RevisionStatus};
pub use change::{
    ChangeDecision, ChangeRefused, ChangeRequest, decide_change, decide_rerender,
    describe_spec_change,
};
pub use remediation::{Remediation, decide_remediation};
pub use rollback::{
    CheckpointRestore, Replay, RollbackDecision, RollbackRefused, decide_rollback, replaced_data,
};

/// A revision's number within its store: 1 for the first, then 2, 3, ... with no gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = u32, minimum = 1, example = 3))]
#[serde(transparent)]
pub struct RevisionNumber(NonZeroU32);

impl RevisionNumber {
    /// A store's first revision.
    pub const FIRST: Self = Self(NonZeroU32::MIN);

    /// The revision with this number; `None` for 0, which no revision has.
    pub const fn new(number: u32) -> Option<Self> {
        match NonZeroU32::new(number) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The number the store's next revision gets (saturating: 4 billion changes to one
    /// store are not a case to handle).
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for RevisionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Text that is not a revision number (a positive whole number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid revision number {0:?}: expected a whole number from 1")]
pub struct InvalidRevisionNumber(pub String);

impl FromStr for RevisionNumber {
    type Err = InvalidRevisionNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<NonZeroU32>()
            .map(Self)
            .map_err(|_| InvalidRevisionNumber(s.to_owned()))
    }
}

/// A consistent dump of a store's database, taken by the engine before a revision that
/// can migrate data is applied, so that going back can restore it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The Job that took it.
    pub job: String,
    /// The PersistentVolumeClaim (in the store's namespace) that holds the dump.
    pub claim: String,
    /// The dump's file on that volume.
    pub path: String,
    pub taken_at: DateTime<Utc>,
}

/// What a revision holds besides its bookkeeping: the spec and what was rendered from it.
/// The caller renders (the metadata store never does); the manifest is stored compressed
/// and dropped once it is older than the store's last N revisions, the digests are kept
/// for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionContent {
    /// The full spec (name and engine never change between a store's revisions).
    pub spec: StoreSpec,
    /// Hex SHA-256 of the platform settings that affect rendering.
    pub platform_digest: String,
    /// The rendered objects as YAML, Secrets as placeholders.
    pub manifest: String,
    /// Hex SHA-256 of `manifest`.
    pub manifest_digest: String,
}

/// One revision of a store, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub store_id: StoreId,
    pub number: RevisionNumber,
    pub spec: StoreSpec,
    /// Hex SHA-256 of the platform settings it was rendered with.
    pub platform_digest: String,
    /// Hex SHA-256 of its rendered manifest (kept when the manifest itself is dropped).
    pub manifest_digest: String,
    /// Whether the manifest is still stored (false once it was pruned).
    pub manifest_kept: bool,
    /// Who asked for it: `user:alice`, `system:platform`, `system:upgrade`, ...
    pub actor: Actor,
    /// Why, in the caller's or the system's words.
    pub reason: String,
    pub status: RevisionStatus,
    /// Why it failed, as read from the cluster (set for `failed`, kept for `rolled_back`).
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a worker began applying it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it was deployed, failed or rolled back.
    pub finished_at: Option<DateTime<Utc>>,
    /// The checkpoint taken before it was applied.
    pub checkpoint: Option<Checkpoint>,
    /// The revision whose spec (and manifest) it replays, for a rollback.
    pub rollback_of: Option<RevisionNumber>,
    /// The revision whose checkpoint is restored before this one is applied (a rollback
    /// across a data migration that asked for it): orders written since are lost.
    pub restores: Option<RevisionNumber>,
    /// The backup it restores before it is applied (a restore in place): the store's
    /// database and files become the backup's, and what was written since is lost, though
    /// the checkpoint taken first brings it back on a rollback.
    pub restores_backup: Option<BackupId>,
    /// Its release differs from the deployed revision's when it was recorded, so the
    /// engine's upgrade step runs (and a checkpoint is taken first).
    pub migrates_data: bool,
}

impl Revision {
    /// Whether it is waiting for or under way at a worker: a store has at most one such
    /// revision, and it is always the store's newest.
    pub fn is_in_flight(&self) -> bool {
        self.status.is_in_flight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_numbers_start_at_one_and_count_up() {
        assert_eq!(RevisionNumber::FIRST.get(), 1);
        assert_eq!(RevisionNumber::FIRST.next().get(), 2);
        assert_eq!(RevisionNumber::new(0), None);
        assert_eq!("7".parse::<RevisionNumber>().unwrap().get(), 7);
    }

    #[test]
    fn a_revision_number_of_zero_or_text_is_refused_with_the_rule() {
        for bad in ["0", "-1", "three", ""] {
            let err = bad.parse::<RevisionNumber>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid revision number {bad:?}: expected a whole number from 1")
            );
        }
        assert!(serde_json::from_str::<RevisionNumber>("0").is_err());
    }

    #[test]
    fn a_checkpoint_round_trips_through_its_json_form() {
        let json = r#"{"job":"checkpoint-4","claim":"checkpoints","path":"/checkpoints/4.sql","taken_at":"2025-06-01T12:00:00Z"}"#;
        let checkpoint: Checkpoint = serde_json::from_str(json).unwrap();
        assert_eq!(checkpoint.claim, "checkpoints");
        assert_eq!(
            serde_json::to_value(&checkpoint).unwrap(),
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }
}

//! How the workers carry out store revisions: how long a revision may take, whether a
//! failed one rolls back by itself, and how many manifests each store keeps. None of it
//! changes what a store renders, so it is left out of the platform digest.

use serde::{Deserialize, Serialize};

use crate::BuildError;

/// The shortest deadline a revision may be given: a store's workloads need a few seconds
/// to roll even on the simulated cluster.
pub const MIN_DEADLINE_SECONDS: u64 = 10;

/// The `revisions:` block of the platform settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevisionSettings {
    /// A revision that is not deployed by its deadline (or fails for good) takes the store
    /// back to the revision it ran; off, the store is left on the failed revision, marked
    /// failed, for a person to change or roll back.
    pub auto_rollback: bool,
    /// Seconds from when a worker starts a revision until it must be deployed: its
    /// checkpoint, the apply, readiness and the upgrade step together.
    pub deadline_seconds: u64,
    /// Manifests kept per store (the newest ones, and always the deployed one's); older
    /// revisions keep their spec and digests.
    pub keep_manifests: u32,
}

impl Default for RevisionSettings {
    fn default() -> Self {
        Self {
            auto_rollback: true,
            deadline_seconds: 600,
            keep_manifests: 10,
        }
    }
}

impl RevisionSettings {
    /// Checks the block, naming the field that is wrong.
    pub fn check(&self) -> Result<(), BuildError> {
        if self.keep_manifests < 1 {
            return Err(BuildError::InvalidSetting {
                field: "revisions.keep_manifests".to_owned(),
                reason: "must keep at least 1 manifest (the deployed revision's)".to_owned(),
            });
        }
        if self.deadline_seconds < MIN_DEADLINE_SECONDS {
            return Err(BuildError::InvalidSetting {
                field: "revisions.deadline_seconds".to_owned(),
                reason: format!("must be at least {MIN_DEADLINE_SECONDS} seconds"),
            });
        }
        Ok(())
    }
}

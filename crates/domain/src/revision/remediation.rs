//! What happens to a store whose new revision did not become ready by its deadline.

use super::{CheckpointRestore, Revision, RevisionNumber};

/// What to do about a failed revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remediation {
    /// Go back to the deployed revision: re-apply it (after restoring `restore`, when the
    /// failed revision may have migrated the data), then mark the failed revision
    /// `rolled_back`. The failed revision is never retried automatically.
    RollBack {
        to: RevisionNumber,
        restore: Option<CheckpointRestore>,
    },
    /// Leave the store on the failed revision for a person to change or roll back.
    LeaveFailed,
}

/// Decides what to do when `failed` (marked `failed`, with its reason) did not become
/// ready on a store whose deployed revision is `deployed`, with automatic rollback on or
/// off (`auto_rollback`, a platform setting).
///
/// A failed revision that migrates data had its checkpoint taken before it was applied
/// (or it failed before anything was applied, and has none): going back restores it,
/// since the upgrade step may have run. A failure of the deployed revision itself (a
/// re-apply) has nothing to go back to, and is left failed.
pub fn decide_remediation(
    failed: &Revision,
    deployed: &Revision,
    auto_rollback: bool,
) -> Remediation {
    if !auto_rollback || failed.number <= deployed.number {
        return Remediation::LeaveFailed;
    }
    let restore = failed
        .checkpoint
        .as_ref()
        .filter(|_| failed.migrates_data)
        .map(|checkpoint| CheckpointRestore {
            revision: failed.number,
            checkpoint: checkpoint.clone(),
        });
    Remediation::RollBack {
        to: deployed.number,
        restore,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{checkpoint, n, rev};
    use super::*;
    use crate::{Plan, RevisionStatus::Failed};

    #[test]
    fn a_failed_plan_change_rolls_back_to_the_deployed_revision_without_a_restore() {
        let failed = rev(4).plan(Plan::Large).status(Failed);
        assert_eq!(
            decide_remediation(&failed, &rev(3).deployed(), true),
            Remediation::RollBack {
                to: n(3),
                restore: None
            }
        );
    }

    #[test]
    fn a_failed_upgrade_rolls_back_restoring_the_checkpoint_taken_before_it() {
        let failed = rev(4)
            .release("b")
            .migrating()
            .with_checkpoint()
            .status(Failed);
        assert_eq!(
            decide_remediation(&failed, &rev(3).deployed(), true),
            Remediation::RollBack {
                to: n(3),
                restore: Some(CheckpointRestore {
                    revision: n(4),
                    checkpoint: checkpoint(4)
                })
            }
        );
    }

    #[test]
    fn an_upgrade_that_failed_before_its_checkpoint_rolls_back_without_a_restore() {
        let failed = rev(4).release("b").migrating().status(Failed);
        assert_eq!(
            decide_remediation(&failed, &rev(3).deployed(), true),
            Remediation::RollBack {
                to: n(3),
                restore: None
            }
        );
    }

    #[test]
    fn with_automatic_rollback_off_the_store_is_left_failed() {
        let failed = rev(4).status(Failed);
        assert_eq!(
            decide_remediation(&failed, &rev(3).deployed(), false),
            Remediation::LeaveFailed
        );
    }

    #[test]
    fn a_failed_re_apply_of_the_deployed_revision_has_nothing_to_go_back_to() {
        let deployed = rev(3).deployed();
        assert_eq!(
            decide_remediation(&deployed, &deployed, true),
            Remediation::LeaveFailed
        );
    }
}

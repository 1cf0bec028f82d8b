//! Rolling a store back: a new revision that replays an earlier one's spec (and manifest),
//! refused when it would put old code on data a later release already migrated, unless
//! the checkpoint taken before that migration is restored first.
//!
//! When data was migrated since the target is decided from the history alone:
//!
//! - Going back to the release the store's data has now (the deployed revision's, unless
//!   the store was left on a failed revision that may have migrated it) downgrades
//!   nothing.
//! - Otherwise, any revision after the target that ran its upgrade step on the data
//!   (deployed, superseded, or failed after its checkpoint was taken and left failed)
//!   is a migration the target's code may not read. A revision that was rolled back
//!   restored its checkpoint, and a rollback revision only ever returns the data to its
//!   target's era, so neither counts.

use super::{Checkpoint, Revision, RevisionNumber, RevisionStatus};
use crate::StoreSpec;

/// Restore this checkpoint (taken before `revision` was applied) before applying: every
/// order and change the store's database received since it was taken is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRestore {
    pub revision: RevisionNumber,
    pub checkpoint: Checkpoint,
}

/// Where a rollback's manifest comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The target's stored manifest, exactly.
    Manifest,
    /// The target's manifest was pruned (it is older than the store's last N): its spec is
    /// rendered again with today's platform settings, so the result may differ from the
    /// target where those settings changed.
    Spec,
}

/// A rollback the store may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackDecision {
    pub target: RevisionNumber,
    /// The target's spec, which the new revision records.
    pub spec: StoreSpec,
    pub replay: Replay,
    /// Its release differs from the deployed one (the upgrade step runs; when going back
    /// to an older release that is only possible after `restore`, and finds nothing to do).
    pub migrates_data: bool,
    /// A checkpoint to restore first, when the rollback crosses a data migration and the
    /// caller asked for it.
    pub restore: Option<CheckpointRestore>,
}

/// Why a rollback cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackRefused {
    #[error("the store has no revision {revision}")]
    UnknownRevision { revision: RevisionNumber },
    #[error("revision {revision} is already deployed")]
    AlreadyDeployed { revision: RevisionNumber },
    #[error("revision {revision} is still being applied; wait for it to finish")]
    InProgress { revision: RevisionNumber },
    /// Revision `since` migrated the store's data for a later release than the target's.
    #[error("{}", would_downgrade_message(*since, checkpoint.as_ref(), *restored_backup))]
    WouldDowngradeData {
        since: RevisionNumber,
        /// The checkpoint taken before `since`, if there is one to restore.
        checkpoint: Option<Checkpoint>,
        /// `since` restored a backup (rather than migrating the data for a release).
        restored_backup: bool,
    },
    /// The target's manifest was pruned and the caller supplied no rendering of its spec
    /// (returned by the metadata store, which cannot render).
    #[error(
        "the manifest of revision {revision} is no longer kept; its spec must be rendered again"
    )]
    NoManifest { revision: RevisionNumber },
}

/// What replaced the store's data at revision `since`, for the refusal.
pub fn replaced_data(since: RevisionNumber, restored_backup: bool) -> String {
    if restored_backup {
        format!(
            "revision {since} restored a backup, replacing the store's data, which going back alone would not undo"
        )
    } else {
        format!(
            "revision {since} migrated the store's data for a newer release, which the older release cannot read"
        )
    }
}

fn would_downgrade_message(
    since: RevisionNumber,
    checkpoint: Option<&Checkpoint>,
    restored_backup: bool,
) -> String {
    let head = replaced_data(since, restored_backup);
    match checkpoint {
        Some(_) => format!(
            "{head}; ask to restore the checkpoint taken before revision {since} (orders written since are lost)"
        ),
        None => format!("{head}, and no checkpoint was taken before it"),
    }
}

/// Whether `revision` ran its upgrade step on the store's data and is still in effect.
fn migrated_data(revision: &Revision) -> bool {
    use RevisionStatus::*;
    revision.migrates_data
        && revision.rollback_of.is_none()
        && match revision.status {
            Deployed | Superseded | Applying => true,
            // Its checkpoint precedes applying: without one nothing was applied.
            Failed => revision.checkpoint.is_some(),
            Pending | RolledBack => false,
        }
}

/// Decides a rollback of the store with `history` (its revisions, newest first) to
/// revision `target`, restoring the checkpoint before a data migration only if
/// `restore_checkpoint`.
///
/// Refused `InProgress` while the newest revision is pending or applying, `UnknownRevision`
/// for a number the store does not have, `AlreadyDeployed` when the store runs the target
/// (a store left on a failed revision does not, so rolling back to its deployed revision
/// takes it back), and `WouldDowngradeData` as the module header says.
pub fn decide_rollback(
    history: &[Revision],
    target: RevisionNumber,
    restore_checkpoint: bool,
) -> Result<RollbackDecision, RollbackRefused> {
    let unknown = RollbackRefused::UnknownRevision { revision: target };
    let latest = history.first().ok_or(unknown.clone())?;
    if latest.is_in_flight() {
        return Err(RollbackRefused::InProgress {
            revision: latest.number,
        });
    }
    let wanted = history.iter().find(|r| r.number == target).ok_or(unknown)?;
    let left_failed = latest.status == RevisionStatus::Failed;
    if wanted.status == RevisionStatus::Deployed && !left_failed {
        return Err(RollbackRefused::AlreadyDeployed { revision: target });
    }
    let deployed = history
        .iter()
        .find(|r| r.status == RevisionStatus::Deployed);
    let deployed_release = deployed.map(|d| &d.spec.release);
    let left_migrated = left_failed && migrated_data(latest);
    // A backup restored after the target replaced its data, whatever the releases.
    let restored_since = history
        .iter()
        .any(|r| r.number > target && r.restores_backup.is_some() && migrated_data(r));
    let same_data =
        !left_migrated && !restored_since && deployed_release == Some(&wanted.spec.release);

    let mut restore = None;
    if !same_data
        && let Some(earliest) = history
            .iter()
            .filter(|r| r.number > target && migrated_data(r))
            .min_by_key(|r| r.number)
    {
        match (&earliest.checkpoint, restore_checkpoint) {
            (Some(checkpoint), true) => {
                restore = Some(CheckpointRestore {
                    revision: earliest.number,
                    checkpoint: checkpoint.clone(),
                });
            }
            (checkpoint, _) => {
                return Err(RollbackRefused::WouldDowngradeData {
                    since: earliest.number,
                    checkpoint: checkpoint.clone(),
                    restored_backup: earliest.restores_backup.is_some(),
                });
            }
        }
    }
    Ok(RollbackDecision {
        target,
        spec: wanted.spec.clone(),
        replay: if wanted.manifest_kept {
            Replay::Manifest
        } else {
            Replay::Spec
        },
        migrates_data: deployed_release != Some(&wanted.spec.release),
        restore,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{checkpoint, n, rev};
    use super::*;
    use crate::Plan;
    use crate::RevisionStatus::*;

    /// Newest first, as the metadata store lists them.
    fn history(mut oldest_first: Vec<Revision>) -> Vec<Revision> {
        oldest_first.reverse();
        oldest_first
    }

    #[test]
    fn a_rollback_replays_the_target_spec_and_its_stored_manifest() {
        let h = history(vec![rev(1), rev(2).plan(Plan::Medium).deployed()]);
        let decision = decide_rollback(&h, n(1), false).unwrap();
        assert_eq!(decision.spec, rev(1).spec);
        assert_eq!(decision.replay, Replay::Manifest);
        assert!(!decision.migrates_data);
        assert_eq!(decision.restore, None);
    }

    #[test]
    fn a_pruned_target_replays_its_spec_rendered_again() {
        let h = history(vec![rev(1).pruned(), rev(2).plan(Plan::Medium).deployed()]);
        assert_eq!(
            decide_rollback(&h, n(1), false).unwrap().replay,
            Replay::Spec
        );
    }

    #[test]
    fn rolling_back_to_the_deployed_revision_is_refused_as_a_no_op() {
        let h = history(vec![rev(1), rev(2).deployed(), rev(3).status(RolledBack)]);
        assert_eq!(
            decide_rollback(&h, n(2), false),
            Err(RollbackRefused::AlreadyDeployed { revision: n(2) })
        );
    }

    #[test]
    fn rolling_back_to_the_deployed_revision_takes_a_store_left_failed_back() {
        let h = history(vec![
            rev(1).deployed(),
            rev(2).plan(Plan::Large).status(Failed),
        ]);
        let decision = decide_rollback(&h, n(1), false).unwrap();
        assert_eq!(decision.spec.plan, Plan::Small);
    }

    #[test]
    fn a_restore_of_a_backup_is_rolled_back_only_by_restoring_the_checkpoint_before_it() {
        // Same release before and after: only the restore replaced the data.
        let h = history(vec![rev(1), rev(2).restoring_backup().deployed()]);
        let refused = decide_rollback(&h, n(1), false).unwrap_err();
        assert_eq!(
            refused,
            RollbackRefused::WouldDowngradeData {
                since: n(2),
                checkpoint: Some(checkpoint(2)),
                restored_backup: true,
            }
        );
        assert!(
            refused
                .to_string()
                .starts_with("revision 2 restored a backup"),
            "{refused}"
        );
        let decision = decide_rollback(&h, n(1), true).unwrap();
        assert_eq!(
            decision.restore.map(|r| r.revision),
            Some(n(2)),
            "the data from before the restore comes back"
        );
        assert!(!decision.migrates_data, "the release is the same");
    }

    #[test]
    fn an_unknown_revision_is_refused() {
        let h = history(vec![rev(1).deployed()]);
        assert_eq!(
            decide_rollback(&h, n(9), false),
            Err(RollbackRefused::UnknownRevision { revision: n(9) })
        );
        assert!(decide_rollback(&[], n(1), false).is_err());
    }

    #[test]
    fn a_rollback_while_a_revision_is_in_flight_is_refused() {
        let h = history(vec![rev(1), rev(2).deployed(), rev(3).status(Applying)]);
        assert_eq!(
            decide_rollback(&h, n(1), false),
            Err(RollbackRefused::InProgress { revision: n(3) })
        );
    }

    #[test]
    fn rolling_back_across_a_data_migration_is_refused_and_names_the_checkpoint() {
        let h = history(vec![
            rev(1),
            rev(2).release("b").migrating().with_checkpoint().deployed(),
        ]);
        let refused = decide_rollback(&h, n(1), false).unwrap_err();
        assert_eq!(
            refused,
            RollbackRefused::WouldDowngradeData {
                since: n(2),
                checkpoint: Some(checkpoint(2)),
                restored_backup: false,
            }
        );
        assert!(
            refused
                .to_string()
                .contains("orders written since are lost"),
            "{refused}"
        );
    }

    #[test]
    fn rolling_back_across_a_migration_restores_the_checkpoint_before_the_earliest_one() {
        let h = history(vec![
            rev(1),
            rev(2).release("b").migrating().with_checkpoint(),
            rev(3).release("c").migrating().with_checkpoint().deployed(),
        ]);
        let decision = decide_rollback(&h, n(1), true).unwrap();
        assert_eq!(
            decision.restore,
            Some(CheckpointRestore {
                revision: n(2),
                checkpoint: checkpoint(2)
            })
        );
        assert!(decision.migrates_data, "release c -> a");
    }

    #[test]
    fn a_migration_without_a_checkpoint_cannot_be_undone_even_when_asked() {
        let h = history(vec![rev(1), rev(2).release("b").migrating().deployed()]);
        assert_eq!(
            decide_rollback(&h, n(1), true),
            Err(RollbackRefused::WouldDowngradeData {
                since: n(2),
                checkpoint: None,
                restored_backup: false,
            })
        );
    }

    #[test]
    fn going_back_to_the_release_the_data_has_now_needs_no_restore() {
        // 2 upgraded to b; 3 went back to 1 restoring 2's checkpoint: the data is a's again.
        let h = history(vec![
            rev(1),
            rev(2).release("b").migrating().with_checkpoint(),
            rev(3).rollback_of(1).migrating().deployed(),
        ]);
        let to_1 = decide_rollback(&h, n(1), false).unwrap();
        assert_eq!(to_1.restore, None);
        assert!(!to_1.migrates_data);
        // And moving forward to b again is an upgrade, not a downgrade.
        let to_2 = decide_rollback(&h, n(2), false).unwrap();
        assert_eq!(to_2.restore, None);
        assert!(to_2.migrates_data);
    }

    #[test]
    fn a_failed_upgrade_that_was_rolled_back_migrated_nothing_that_stays() {
        let h = history(vec![
            rev(1),
            rev(2).plan(Plan::Medium).deployed(),
            rev(3)
                .release("b")
                .migrating()
                .with_checkpoint()
                .status(RolledBack),
        ]);
        assert!(decide_rollback(&h, n(1), false).is_ok());
    }

    #[test]
    fn a_store_left_on_a_failed_upgrade_needs_its_checkpoint_to_go_back() {
        let h = history(vec![
            rev(1).deployed(),
            rev(2)
                .release("b")
                .migrating()
                .with_checkpoint()
                .status(Failed),
        ]);
        assert!(matches!(
            decide_rollback(&h, n(1), false),
            Err(RollbackRefused::WouldDowngradeData { since, .. }) if since == n(2)
        ));
        let decision = decide_rollback(&h, n(1), true).unwrap();
        assert_eq!(decision.restore.map(|r| r.revision), Some(n(2)));
    }

    #[test]
    fn a_failed_upgrade_whose_checkpoint_was_never_taken_migrated_nothing() {
        let h = history(vec![
            rev(1).deployed(),
            rev(2).release("b").migrating().status(Failed),
        ]);
        assert_eq!(decide_rollback(&h, n(1), false).unwrap().restore, None);
    }

    #[test]
    fn a_rolled_back_or_failed_revision_can_be_retried_explicitly() {
        let h = history(vec![
            rev(1).deployed(),
            rev(2).plan(Plan::Large).status(RolledBack),
        ]);
        assert_eq!(
            decide_rollback(&h, n(2), false).unwrap().spec.plan,
            Plan::Large
        );
    }
}

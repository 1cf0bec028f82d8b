//! Changing a store: what a request to change its release, plan or title does to its
//! revisions, and what a platform-settings change that alters its rendering does.

use serde::{Deserialize, Serialize};

use super::{Revision, RevisionNumber, RevisionStatus};
use crate::{Plan, ReleaseName, StoreSpec, StoreStatus, StoreTitle};

/// A request to change a store. A field left `None` keeps the deployed revision's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<StoreTitle>,
    /// The latest revision number the caller saw (`If-Match`): the change is refused as
    /// stale when the store has moved on since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_match: Option<RevisionNumber>,
}

impl ChangeRequest {
    /// The spec that results from applying the request to `spec`.
    pub fn apply_to(&self, spec: &StoreSpec) -> StoreSpec {
        StoreSpec {
            name: spec.name.clone(),
            engine: spec.engine,
            plan: self.plan.unwrap_or(spec.plan),
            release: self.release.clone().or_else(|| spec.release.clone()),
            title: self.title.clone().or_else(|| spec.title.clone()),
        }
    }
}

/// What differs between two specs, in words: `plan small -> medium, release a -> b`
/// (empty when nothing does). A title that is `None` reads as the store's name.
pub fn describe_spec_change(from: &StoreSpec, to: &StoreSpec) -> String {
    let show = |release: &Option<ReleaseName>| {
        release
            .as_ref()
            .map_or_else(|| "(default)".to_owned(), ToString::to_string)
    };
    let title = |spec: &StoreSpec| {
        spec.title
            .as_ref()
            .map_or_else(|| spec.name.to_string(), ToString::to_string)
    };
    let mut changes = Vec::new();
    if from.plan != to.plan {
        changes.push(format!("plan {} -> {}", from.plan, to.plan));
    }
    if from.release != to.release {
        changes.push(format!(
            "release {} -> {}",
            show(&from.release),
            show(&to.release)
        ));
    }
    if title(from) != title(to) {
        changes.push(format!("title {:?} -> {:?}", title(from), title(to)));
    }
    changes.join(", ")
}

/// What a change does to the store's revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeDecision {
    /// The result equals what the store runs: nothing to record.
    NoOp,
    /// Record a new revision with this spec (the caller renders it).
    NewRevision {
        spec: StoreSpec,
        /// Its release differs from the deployed one: checkpoint, then the upgrade step.
        migrates_data: bool,
    },
}

/// Why a change cannot be recorded now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    /// Another revision is pending or applying (`None`: the store's first provisioning
    /// has not finished, so there is nothing deployed to change yet).
    #[error("{}", match revision {
        Some(n) => format!("revision {n} is still being applied; wait for it to finish"),
        None => "the store is still being provisioned; wait for it to be ready".to_owned(),
    })]
    InProgress { revision: Option<RevisionNumber> },
    /// The caller's `If-Match` (or what it rendered from) is not the latest revision.
    #[error("the store has changed since revision {current} was read; read it again")]
    Stale { current: RevisionNumber },
    /// The store is being deleted or is deleted.
    #[error("a {status} store cannot be changed")]
    NotChangeable { status: StoreStatus },
    /// The latest revision failed and the store was left on it (automatic rollback is
    /// off): a platform change waits until a person changes or rolls back the store.
    #[error(
        "revision {revision} failed and the store was left on it; change or roll back the store first"
    )]
    LeftFailed { revision: RevisionNumber },
}

/// Whether the store is left on `latest`, a failed revision it did not go back from.
fn left_failed(latest: &Revision) -> bool {
    latest.status == RevisionStatus::Failed
}

fn check_not_in_flight(latest: &Revision) -> Result<(), ChangeRefused> {
    if latest.is_in_flight() {
        return Err(ChangeRefused::InProgress {
            revision: Some(latest.number),
        });
    }
    Ok(())
}

/// Decides what `request` does to a store whose deployed revision is `deployed` and whose
/// newest revision is `latest` (the same revision when nothing happened since).
///
/// - Refused `InProgress` when `latest` is pending or applying (a store has at most one
///   revision in flight, and it is always the newest), whatever the `If-Match` says.
/// - Refused `Stale` when `if_match` is given and is not `latest`'s number.
/// - `NoOp` when the resulting spec equals the deployed one and the store runs it; a
///   store left on a failed revision does not run it, so the same request records a
///   revision that takes it back.
/// - Otherwise a new revision, which migrates data when its release differs from the
///   deployed one.
pub fn decide_change(
    deployed: &Revision,
    latest: &Revision,
    request: &ChangeRequest,
) -> Result<ChangeDecision, ChangeRefused> {
    check_not_in_flight(latest)?;
    if let Some(seen) = request.if_match
        && seen != latest.number
    {
        return Err(ChangeRefused::Stale {
            current: latest.number,
        });
    }
    let spec = request.apply_to(&deployed.spec);
    if spec == deployed.spec && !left_failed(latest) {
        return Ok(ChangeDecision::NoOp);
    }
    let migrates_data = spec.release != deployed.spec.release;
    Ok(ChangeDecision::NewRevision {
        spec,
        migrates_data,
    })
}

/// Decides whether a store whose deployed revision is `deployed` needs a new revision
/// because the platform settings changed what it renders: `manifest_digest` is its
/// deployed spec rendered with today's settings. A new revision keeps the spec (and so
/// never migrates data); `NoOp` when the rendering is unchanged.
pub fn decide_rerender(
    deployed: &Revision,
    latest: &Revision,
    manifest_digest: &str,
) -> Result<ChangeDecision, ChangeRefused> {
    check_not_in_flight(latest)?;
    if left_failed(latest) {
        return Err(ChangeRefused::LeftFailed {
            revision: latest.number,
        });
    }
    if manifest_digest == deployed.manifest_digest {
        return Ok(ChangeDecision::NoOp);
    }
    Ok(ChangeDecision::NewRevision {
        spec: deployed.spec.clone(),
        migrates_data: false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{n, release, rev, title};
    use super::*;
    use crate::RevisionStatus::*;

    fn plan(plan: Plan) -> ChangeRequest {
        ChangeRequest {
            plan: Some(plan),
            ..ChangeRequest::default()
        }
    }

    #[test]
    fn a_plan_change_records_a_revision_that_keeps_the_release_and_migrates_nothing() {
        let deployed = rev(3).deployed();
        let decision = decide_change(&deployed, &deployed, &plan(Plan::Medium)).unwrap();
        let ChangeDecision::NewRevision {
            spec,
            migrates_data,
        } = decision
        else {
            panic!("a new revision: {decision:?}");
        };
        assert_eq!(spec.plan, Plan::Medium);
        assert_eq!(spec.release, deployed.spec.release);
        assert_eq!(spec.name, deployed.spec.name);
        assert!(!migrates_data);
    }

    #[test]
    fn a_release_change_migrates_data() {
        let deployed = rev(3).deployed();
        let request = ChangeRequest {
            release: Some(release("b")),
            ..ChangeRequest::default()
        };
        let decision = decide_change(&deployed, &deployed, &request).unwrap();
        assert!(matches!(
            decision,
            ChangeDecision::NewRevision { migrates_data: true, ref spec } if spec.release == Some(release("b"))
        ));
    }

    #[test]
    fn a_request_that_changes_nothing_is_a_no_op() {
        let deployed = rev(3).deployed();
        let same = ChangeRequest {
            plan: Some(Plan::Small),
            release: Some(release("a")),
            ..ChangeRequest::default()
        };
        assert_eq!(
            decide_change(&deployed, &deployed, &same),
            Ok(ChangeDecision::NoOp)
        );
        assert_eq!(
            decide_change(&deployed, &deployed, &ChangeRequest::default()),
            Ok(ChangeDecision::NoOp)
        );
    }

    #[test]
    fn a_no_op_after_a_rolled_back_revision_is_still_a_no_op() {
        let (deployed, latest) = (rev(3).deployed(), rev(4).status(RolledBack));
        assert_eq!(
            decide_change(&deployed, &latest, &ChangeRequest::default()),
            Ok(ChangeDecision::NoOp)
        );
    }

    #[test]
    fn the_deployed_spec_requested_on_a_store_left_failed_takes_it_back() {
        let (deployed, latest) = (rev(3).deployed(), rev(4).status(Failed));
        let decision = decide_change(&deployed, &latest, &ChangeRequest::default()).unwrap();
        assert_eq!(
            decision,
            ChangeDecision::NewRevision {
                spec: deployed.spec.clone(),
                migrates_data: false
            }
        );
    }

    #[test]
    fn a_change_while_another_is_pending_or_applying_is_refused_as_in_progress() {
        let deployed = rev(3).deployed();
        for status in [Pending, Applying] {
            let latest = rev(4).status(status);
            let stale_too = ChangeRequest {
                if_match: Some(n(3)),
                ..plan(Plan::Large)
            };
            assert_eq!(
                decide_change(&deployed, &latest, &stale_too),
                Err(ChangeRefused::InProgress {
                    revision: Some(n(4))
                })
            );
        }
    }

    #[test]
    fn a_stale_if_match_is_refused_with_the_current_revision() {
        let (deployed, latest) = (rev(3).deployed(), rev(4).status(RolledBack));
        let request = ChangeRequest {
            if_match: Some(n(3)),
            ..plan(Plan::Large)
        };
        let refused = decide_change(&deployed, &latest, &request).unwrap_err();
        assert_eq!(refused, ChangeRefused::Stale { current: n(4) });
        assert_eq!(
            refused.to_string(),
            "the store has changed since revision 4 was read; read it again"
        );
    }

    #[test]
    fn a_current_if_match_is_accepted() {
        let deployed = rev(3).deployed();
        let request = ChangeRequest {
            if_match: Some(n(3)),
            title: Some(title("Acme")),
            ..ChangeRequest::default()
        };
        assert!(matches!(
            decide_change(&deployed, &deployed, &request),
            Ok(ChangeDecision::NewRevision { spec, .. }) if spec.title == Some(title("Acme"))
        ));
    }

    #[test]
    fn a_platform_change_that_renders_the_same_manifest_records_nothing() {
        let deployed = rev(3).deployed();
        let same = deployed.manifest_digest.clone();
        assert_eq!(
            decide_rerender(&deployed, &deployed, &same),
            Ok(ChangeDecision::NoOp)
        );
    }

    #[test]
    fn a_platform_change_that_renders_differently_records_a_revision_of_the_same_spec() {
        let deployed = rev(3).deployed();
        assert_eq!(
            decide_rerender(&deployed, &deployed, "changed"),
            Ok(ChangeDecision::NewRevision {
                spec: deployed.spec.clone(),
                migrates_data: false
            })
        );
    }

    #[test]
    fn a_platform_change_waits_for_a_revision_in_flight_or_left_failed() {
        let deployed = rev(3).deployed();
        assert!(matches!(
            decide_rerender(&deployed, &rev(4).status(Applying), "changed"),
            Err(ChangeRefused::InProgress { .. })
        ));
        assert_eq!(
            decide_rerender(&deployed, &rev(4).status(Failed), "changed"),
            Err(ChangeRefused::LeftFailed { revision: n(4) })
        );
    }

    #[test]
    fn a_spec_change_is_described_field_by_field() {
        let from = rev(1).spec;
        let to = ChangeRequest {
            plan: Some(Plan::Medium),
            release: Some(release("b")),
            title: Some(title("Acme")),
            if_match: None,
        }
        .apply_to(&from);
        assert_eq!(
            describe_spec_change(&from, &to),
            r#"plan small -> medium, release a -> b, title "shop" -> "Acme""#
        );
        assert_eq!(describe_spec_change(&from, &from), "");
    }

    #[test]
    fn a_change_request_rejects_fields_it_does_not_know() {
        let err = serde_json::from_str::<ChangeRequest>(r#"{"plan":"large","engine":"medusa"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `engine`"), "{err}");
    }
}

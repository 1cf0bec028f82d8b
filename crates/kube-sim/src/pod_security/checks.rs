//! The check registry: which checks apply at which level and version, and in which order
//! their violations are reported.
//!
//! As upstream's registry: the baseline checks sorted by ID, then (for `restricted`) the
//! restricted checks sorted by ID. A restricted check may override baseline checks it
//! supersedes (`capabilities_restricted` replaces `capabilities_baseline`, ...), at the
//! versions where it applies; the overridden check is then not run at `restricted`.

mod baseline;
mod restricted;

use super::level::{Level, LevelVersion};
use super::pod::Pod;

/// What one failed check says: upstream's `ForbiddenReason` and `ForbiddenDetail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Short reason, e.g. `allowPrivilegeEscalation != false`.
    pub reason: String,
    /// Which containers or fields, and what to set instead.
    pub detail: String,
}

impl Finding {
    pub(super) fn new(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// One revision of a check: it applies from policy version `1.<since>`.
pub type CheckFn = fn(&Pod<'_>) -> Option<Finding>;

/// A check and its revisions.
#[derive(Debug)]
pub struct Check {
    /// Upstream's check ID.
    pub id: &'static str,
    /// `(first minor version, revision)`, oldest first.
    pub versions: &'static [(u32, CheckFn)],
    /// Baseline checks this one replaces at `restricted`.
    pub overrides: &'static [&'static str],
}

impl Check {
    /// The revision in force at policy version `1.<minor>`, if the check exists then.
    fn at(&self, minor: u32) -> Option<CheckFn> {
        self.versions
            .iter()
            .rev()
            .find(|(since, _)| *since <= minor)
            .map(|(_, f)| *f)
    }
}

/// Baseline checks, sorted by ID.
pub static BASELINE: &[Check] = baseline::CHECKS;
/// Restricted checks, sorted by ID.
pub static RESTRICTED: &[Check] = restricted::CHECKS;

/// Every violated check, in upstream's order, with its ID.
pub fn run(policy: LevelVersion, pod: &Pod<'_>) -> Vec<(&'static str, Finding)> {
    let minor = policy.version.effective_minor();
    let restricted: Vec<(&Check, CheckFn)> = match policy.level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => Vec::new(),
        Level::Restricted => RESTRICTED
            .iter()
            .filter_map(|c| c.at(minor).map(|f| (c, f)))
            .collect(),
    };
    let overridden = |id: &str| restricted.iter().any(|(c, _)| c.overrides.contains(&id));
    BASELINE
        .iter()
        .filter(|c| !overridden(c.id))
        .filter_map(|c| c.at(minor).map(|f| (c, f)))
        .chain(restricted.iter().copied())
        .filter_map(|(c, f)| f(pod).map(|finding| (c.id, finding)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_registered_in_id_order_with_ascending_versions() {
        for list in [BASELINE, RESTRICTED] {
            let ids: Vec<&str> = list.iter().map(|c| c.id).collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_eq!(
                ids, sorted,
                "checks must be listed in upstream's (byte) order"
            );
            assert!(
                list.iter()
                    .all(|c| c.versions.is_sorted_by_key(|(v, _)| *v))
            );
        }
    }

    #[test]
    fn overrides_name_baseline_checks() {
        for check in RESTRICTED {
            for id in check.overrides {
                assert!(BASELINE.iter().any(|b| b.id == *id), "{id}");
            }
        }
    }
}

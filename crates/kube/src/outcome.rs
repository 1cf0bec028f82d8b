//! What applying an object did: [`Outcome`], decided from the apply response alone.
//!
//! A server-side apply answers with the object as stored, and an apply that changes
//! nothing leaves `metadata.resourceVersion` untouched. So:
//!
//! - when the applier has seen the object before (an earlier pass in this process), it
//!   compares with what it remembers: another `uid` means the object was re-created (it
//!   had gone missing); the same `resourceVersion` means unchanged. A new
//!   `resourceVersion` alone proves nothing, because controllers write status between
//!   passes, so the object counts as configured only when storeplane's own
//!   `managedFields` entry changed (a field it owns was restored or changed value) or
//!   the object it sent differs from the one it sent last time;
//! - when it has not (the first pass after a start), the response's timestamps decide:
//!   created at or after the request was sent means created; storeplane's
//!   `managedFields` entry stamped at or after it means configured (the server stamps it
//!   only when the applied fields or their values change); otherwise unchanged.
//!   Kubernetes timestamps have one-second resolution and come from the API server's
//!   clock, so this fallback can misreport an object written within the same second, or
//!   under clock skew. It only ever labels events; it never changes what is applied.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};

use crate::apply::FIELD_MANAGER;

/// What applying one object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The object did not exist and was created.
    Created,
    /// The object existed and the apply changed it.
    Configured,
    /// The object already matched (or, for a create-if-absent Secret, already existed).
    Unchanged,
    /// The object could not be changed in place (a Job whose pod template changed: the
    /// API server keeps it immutable), so it was deleted and created again.
    Recreated,
}

impl Outcome {
    /// The word the timeline uses: `created`, `configured`, `unchanged`, `recreated`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
            Self::Recreated => "recreated",
        }
    }
}

/// One object applied in a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub kind: &'static str,
    /// `namespace/name` for namespaced objects, the name otherwise.
    pub name: String,
    pub outcome: Outcome,
}

/// What the applier remembers of an object between passes: digests, which is all
/// telling "the same" from "changed" needs, in a fixed 32 bytes whatever the object's
/// size (storeplane's `managedFields` entry alone lists every field it applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Observed {
    uid: u64,
    resource_version: u64,
    /// storeplane's `managedFields` entry as the server last returned it.
    entry: Option<u64>,
    /// A digest of the object storeplane sent.
    sent: u64,
}

impl Observed {
    pub fn of(meta: &ObjectMeta, sent: u64) -> Option<Self> {
        Some(Self {
            uid: digest(meta.uid.as_deref()?),
            resource_version: digest(meta.resource_version.as_deref()?),
            entry: own_entry(meta).map(digest_entry),
            sent,
        })
    }
}

/// `DefaultHasher` is only stable within one process, which is all the memory it feeds.
fn digest(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn digest_entry(entry: &ManagedFieldsEntry) -> u64 {
    let ManagedFieldsEntry {
        api_version,
        fields_type,
        fields_v1,
        manager,
        operation,
        subresource,
        time,
    } = entry;
    // `fieldsV1` is a JSON value; its text is a faithful (and hashable) form of it.
    let fields = fields_v1.as_ref().map(|fields| fields.0.to_string());
    digest((
        api_version,
        fields_type,
        fields,
        manager,
        operation,
        subresource,
        time.as_ref().map(|t| t.0.as_second()),
    ))
}

fn own_entry(meta: &ObjectMeta) -> Option<&ManagedFieldsEntry> {
    meta.managed_fields
        .iter()
        .flatten()
        .find(|entry| entry.manager.as_deref() == Some(FIELD_MANAGER))
}

/// Seconds since the Unix epoch, the resolution of Kubernetes timestamps.
pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The outcome of an apply of an object with digest `sent`, answered with `response`,
/// sent at `sent_at` (Unix seconds), given what was known of the object before (see the
/// module docs).
pub(crate) fn decide(
    known: Option<&Observed>,
    response: &ObjectMeta,
    sent: u64,
    sent_at: i64,
) -> Outcome {
    if let Some(known) = known {
        if response.uid.as_deref().map(digest) != Some(known.uid) {
            return Outcome::Created;
        }
        if response.resource_version.as_deref().map(digest) == Some(known.resource_version) {
            return Outcome::Unchanged;
        }
        return if known.sent != sent || known.entry != own_entry(response).map(digest_entry) {
            Outcome::Configured
        } else {
            Outcome::Unchanged
        };
    }
    let at_or_after = |time: Option<i64>| time.is_some_and(|t| t >= sent_at);
    if at_or_after(
        response
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_second()),
    ) {
        return Outcome::Created;
    }
    let applied_at = own_entry(response).and_then(|entry| entry.time.as_ref());
    if at_or_after(applied_at.map(|t| t.0.as_second())) {
        Outcome::Configured
    } else {
        Outcome::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    use super::*;

    const SENT: u64 = 42;

    fn meta(uid: &str, version: &str, created: i64, applied: i64) -> ObjectMeta {
        let time = |s| Time(Timestamp::from_second(s).unwrap_or_default());
        ObjectMeta {
            uid: Some(uid.to_owned()),
            resource_version: Some(version.to_owned()),
            creation_timestamp: Some(time(created)),
            managed_fields: Some(vec![ManagedFieldsEntry {
                manager: Some(FIELD_MANAGER.to_owned()),
                time: Some(time(applied)),
                ..ManagedFieldsEntry::default()
            }]),
            ..ObjectMeta::default()
        }
    }

    /// What the applier would remember after an apply answered at `applied`.
    fn known(uid: &str, version: &str, applied: i64) -> Observed {
        Observed::of(&meta(uid, version, 100, applied), SENT).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn a_known_object_with_the_same_version_is_unchanged() {
        let known = known("u1", "7", 100);
        let response = meta("u1", "7", 100, 100);
        assert_eq!(
            decide(Some(&known), &response, SENT, 500),
            Outcome::Unchanged
        );
    }

    #[test]
    fn a_status_write_by_a_controller_is_not_a_change() {
        let known = known("u1", "7", 100);
        let response = meta("u1", "9", 100, 100);
        assert_eq!(
            decide(Some(&known), &response, SENT, 500),
            Outcome::Unchanged
        );
    }

    #[test]
    fn a_known_object_whose_applied_fields_changed_is_configured() {
        let known = known("u1", "7", 100);
        let restamped = meta("u1", "9", 100, 500);
        assert_eq!(
            decide(Some(&known), &restamped, SENT, 500),
            Outcome::Configured
        );
        let same_entry = meta("u1", "9", 100, 100);
        assert_eq!(
            decide(Some(&known), &same_entry, SENT + 1, 500),
            Outcome::Configured
        );
    }

    #[test]
    fn a_known_object_with_a_new_uid_was_recreated() {
        let known = known("u1", "7", 100);
        let response = meta("u2", "9", 500, 500);
        assert_eq!(decide(Some(&known), &response, SENT, 500), Outcome::Created);
    }

    #[test]
    fn an_unknown_object_is_judged_by_its_timestamps() {
        let decide = |created, applied| decide(None, &meta("u", "1", created, applied), SENT, 500);
        assert_eq!(decide(500, 500), Outcome::Created);
        assert_eq!(decide(100, 500), Outcome::Configured);
        assert_eq!(decide(100, 200), Outcome::Unchanged);
    }
}

//! The store's Namespace, labelled for Pod Security Admission.
//!
//! Enforce, warn and audit `restricted`: every pod of every engine runs as non-root with
//! no capability (the invariant tests check each against the level's rules), and a store
//! is an untrusted tenant, so the namespace refuses any pod that does not.
//! The version is pinned so a cluster upgrade does not change what is admitted:
//! <https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces>.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::engine::StoreContext;
use crate::labels::Component;

pub fn namespace(store: &StoreContext<'_>) -> Namespace {
    let mut labels = store.labels(Component::Isolation);
    let version = &store.settings.pod_security_version;
    for (mode, level) in [
        ("enforce", "restricted"),
        ("warn", "restricted"),
        ("audit", "restricted"),
    ] {
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            level.to_owned(),
        );
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            version.clone(),
        );
    }
    Namespace {
        metadata: ObjectMeta {
            name: Some(store.namespace()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

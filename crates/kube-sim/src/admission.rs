//! Pod Security admission, as the API server's built-in `PodSecurity` plugin runs it.
//!
//! - Enforce: a Pod created (or updated in a way upstream re-checks: a changed image,
//!   container count or seccomp annotation) in a namespace whose
//!   `pod-security.kubernetes.io/enforce` level it violates is refused with `403
//!   Forbidden`. The check sits in the store's commit path, so the simulated controllers'
//!   pods meet it exactly as a real controller's do.
//! - Namespaces: invalid `pod-security.kubernetes.io/*` label values are refused with
//!   `422 Invalid` on create, and on update when they change.
//! - Warn: a client that writes a Pod or a workload with a pod template violating the
//!   namespace's `warn` level gets a `Warning` header, as from a real server.
//! - Audit labels are parsed (and validated) but nothing is audited: kube-sim keeps no
//!   audit log. Exemptions (users, namespaces, runtime classes) are not configurable.

use axum::http::HeaderValue;
use axum::http::header::WARNING;
use axum::response::Response;
use serde_json::Value;

use crate::error::{ApiError, Cause, Subject};
use crate::kinds::{self, KindId};
use crate::pod_security::{self, Level, Policy};
use crate::store::{Store, name_of, namespace_of};

/// Refuses a write that Pod Security admission refuses. `old` is the live object for an
/// update, `namespace` the Namespace object a namespaced write lands in.
pub fn check_write(
    kind: KindId,
    new: &Value,
    old: Option<&Value>,
    namespace: Option<&Value>,
) -> Result<(), ApiError> {
    match kinds::get(kind).kind {
        "Namespace" => check_namespace_labels(new, old),
        "Pod" => {
            if old.is_some_and(|old| !significant_pod_update(new, old)) {
                return Ok(());
            }
            let (policy, _) = Policy::from_labels(namespace.and_then(labels));
            if policy.enforce.level == Level::Privileged {
                return Ok(());
            }
            let violations = pod_security::evaluate_object(policy.enforce, new).unwrap_or_default();
            if violations.is_empty() {
                return Ok(());
            }
            let name = name_of(new);
            Err(ApiError::Forbidden {
                message: format!(
                    "pods \"{name}\" is forbidden: violates PodSecurity \"{}\": {violations}",
                    policy.enforce
                ),
                subject: Subject {
                    group: String::new(),
                    kind: "pods".into(),
                    name: name.to_string(),
                },
            })
        }
        _ => Ok(()),
    }
}

/// The `Warning` texts for a client's successful write of `object` (`created`: it was a
/// create). Upstream also warns on pod updates it re-checks; kube-sim warns on pod
/// creates and on every write of a workload.
pub fn warnings(store: &Store, kind: KindId, object: &Value, created: bool) -> Vec<String> {
    let k = kinds::get(kind);
    if !k.namespaced || (k.kind == "Pod" && !created) {
        return Vec::new();
    }
    let Some((metadata, spec)) = pod_security::pod_template_of(object) else {
        return Vec::new();
    };
    let Ok(namespace) = store.get(kinds::namespace(), None, namespace_of(object)) else {
        return Vec::new();
    };
    let (policy, _) = Policy::from_labels(labels(&namespace));
    if policy.warn.level == Level::Privileged {
        return Vec::new();
    }
    let violations = pod_security::evaluate(policy.warn, metadata, spec);
    if violations.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "would violate PodSecurity \"{}\": {violations}",
        policy.warn
    )]
}

/// Adds `Warning: 299 - "<text>"` headers, quoted as the API server quotes them.
pub fn add_warning_headers(response: &mut Response, warnings: &[String]) {
    for text in warnings {
        let mut header = String::from("299 - \"");
        for c in text.chars() {
            if c == '"' || c == '\\' {
                header.push('\\');
            }
            // Header values cannot carry control characters; the real server drops them.
            if !c.is_control() {
                header.push(c);
            }
        }
        header.push('"');
        if let Ok(value) = HeaderValue::from_bytes(header.as_bytes()) {
            response.headers_mut().append(WARNING, value);
        }
    }
}

fn labels(object: &Value) -> Option<&serde_json::Map<String, Value>> {
    object.pointer("/metadata/labels")?.as_object()
}

fn check_namespace_labels(new: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let (_, errors) = Policy::from_labels(labels(new));
    if errors.is_empty() {
        return Ok(());
    }
    if let Some(old) = old {
        let (_, old_errors) = Policy::from_labels(labels(old));
        if old_errors == errors {
            return Ok(());
        }
    }
    let causes = errors
        .iter()
        .map(|e| {
            Cause::new(
                "FieldValueInvalid",
                format!("Invalid value: {:?}: {}", e.value, e.error),
                format!("metadata.labels[{}]", e.label),
            )
        })
        .collect();
    Err(ApiError::invalid("", "Namespace", name_of(new), causes))
}

/// Upstream re-evaluates a pod update only when something it checks can change on a
/// live pod: container images, the number of containers, seccomp annotations.
fn significant_pod_update(new: &Value, old: &Value) -> bool {
    let seccomp = |pod: &Value, key: &str| {
        pod.pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .cloned()
    };
    if seccomp(new, "seccomp.security.alpha.kubernetes.io/pod")
        != seccomp(old, "seccomp.security.alpha.kubernetes.io/pod")
    {
        return true;
    }
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        let list = |pod: &Value| {
            pod.pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (new_list, old_list) = (list(new), list(old));
        if new_list.len() != old_list.len() {
            return true;
        }
        for (n, o) in new_list.iter().zip(&old_list) {
            let key = format!(
                "container.seccomp.security.alpha.kubernetes.io/{}",
                n.get("name").and_then(Value::as_str).unwrap_or_default()
            );
            if n.get("image") != o.get("image") || seccomp(new, &key) != seccomp(old, &key) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod_kind() -> KindId {
        kinds::by_path("", "v1", "pods").expect("pods are served")
    }

    fn pod(image: &str, privileged: bool) -> Value {
        json!({"kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [
            {"name": "c", "image": image, "securityContext": {"privileged": privileged}}]}})
    }

    fn namespace(labels: Value) -> Value {
        json!({"kind": "Namespace", "metadata": {"name": "shop", "labels": labels}})
    }

    #[test]
    fn a_privileged_pod_in_a_baseline_namespace_is_forbidden_with_upstreams_message() {
        let ns = namespace(json!({"pod-security.kubernetes.io/enforce": "baseline"}));
        let error =
            check_write(pod_kind(), &pod("nginx", true), None, Some(&ns)).expect_err("refused");
        assert_eq!(error.code(), 403);
        assert_eq!(
            error.to_string(),
            "pods \"web\" is forbidden: violates PodSecurity \"baseline:latest\": privileged \
             (container \"c\" must not set securityContext.privileged=true)"
        );
    }

    #[test]
    fn an_unlabelled_namespace_admits_anything() {
        let ns = namespace(json!({}));
        assert!(check_write(pod_kind(), &pod("nginx", true), None, Some(&ns)).is_ok());
    }

    #[test]
    fn only_image_changes_make_a_pod_update_rechecked() {
        let ns = namespace(json!({"pod-security.kubernetes.io/enforce": "baseline"}));
        let old = pod("nginx:1", true);
        let mut relabelled = old.clone();
        relabelled["metadata"]["labels"] = json!({"a": "b"});
        let pod_kind = pod_kind();
        assert!(check_write(pod_kind, &relabelled, Some(&old), Some(&ns)).is_ok());
        assert!(check_write(pod_kind, &pod("nginx:2", true), Some(&old), Some(&ns)).is_err());
    }

    #[test]
    fn invalid_namespace_labels_are_invalid_naming_the_label() {
        let ns = namespace(json!({"pod-security.kubernetes.io/enforce-version": "1.33"}));
        let error = check_write(kinds::namespace(), &ns, None, None).expect_err("refused");
        assert_eq!(error.code(), 422);
        assert_eq!(
            error.to_string(),
            "Namespace \"shop\" is invalid: \
             metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \
             \"1.33\": must be \"latest\" or \"v1.x\""
        );
        // Unchanged invalid labels do not block other updates.
        assert!(check_write(kinds::namespace(), &ns, Some(&ns), None).is_ok());
    }

    #[test]
    fn warning_headers_are_quoted_as_the_api_server_quotes_them() {
        let mut response = Response::new(axum::body::Body::empty());
        add_warning_headers(&mut response, &["would violate \"x\"".to_string()]);
        assert_eq!(
            response.headers()[WARNING],
            "299 - \"would violate \\\"x\\\"\""
        );
    }
}

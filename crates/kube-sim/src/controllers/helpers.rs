//! Small pieces the controllers share: owner references, conditions, pod readiness.

use serde_json::{Value, json};

use crate::kinds::ResourceKind;
use crate::store::{name_of, uid_of};

/// The `(kind, name)` of the object's controller owner reference.
pub fn controller_of(object: &Value) -> Option<(&str, &str)> {
    object
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller") == Some(&json!(true)))
        .and_then(|r| Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?)))
}

/// Whether `object` is controlled by the object with `uid`.
pub fn controlled_by(object: &Value, uid: &str) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("uid").and_then(Value::as_str) == Some(uid)
                    && r.get("controller") == Some(&json!(true))
            })
        })
}

/// A controller owner reference to `owner`.
pub fn owner_reference(kind: &ResourceKind, owner: &Value) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether a pod reports Ready.
pub fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// `spec.replicas`, defaulting to 1.
pub fn replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// A condition; `lastTransitionTime` (and `lastUpdateTime` when present) are kept from
/// `previous` if the status did not change, as real controllers do.
pub fn condition(
    previous: Option<&Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    with_update_time: bool,
) -> Value {
    let now = crate::store::now();
    let before = previous
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == kind));
    let unchanged = before.is_some_and(|b| b["status"] == status);
    let same = before.is_some_and(|b| unchanged && b["reason"] == reason);
    let transition = match before {
        Some(b) if unchanged => b["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let mut out = json!({
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    });
    if with_update_time {
        out["lastUpdateTime"] = match before {
            Some(b) if same => b["lastUpdateTime"].clone(),
            _ => json!(now),
        };
    }
    out
}

/// Pod labels from a template plus extra ones.
pub fn template_labels(template: &Value, extra: &[(&str, String)]) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    labels
}

/// Copies the template's annotations onto a pod the controller builds from it, as the
/// real controllers do (Pod Security reads some of them, e.g. AppArmor's).
pub fn copy_template_annotations(template: &Value, pod: &mut Value) {
    if let Some(annotations) = template
        .pointer("/metadata/annotations")
        .filter(|a| a.is_object())
    {
        pod["metadata"]["annotations"] = annotations.clone();
    }
}

//! Immutable fields, refused on update, patch and apply (never on create) with `422
//! Invalid` naming the field, as the real API server's validation refuses them:
//!
//! - Job: `spec.selector` and `spec.template` (`ValidateImmutableField`: "field is
//!   immutable"). The labels the server generates into a Job's selector and template
//!   (`controller-uid`, `job-name` and their `batch.kubernetes.io/` forms) are left out
//!   of the comparison, and an update that omits a generated selector keeps it, so
//!   re-applying the same manifest is never refused.
//! - Deployment: `spec.selector`.
//! - StatefulSet: `spec.selector`, `spec.serviceName` and `spec.volumeClaimTemplates`
//!   (upstream forbids every spec change outside a short list, with one `spec` cause).
//! - PersistentVolumeClaim: `spec.resources.requests.storage` may grow but not shrink;
//!   `spec.storageClassName` may not change.
//!
//! Upstream prints an invalid value with Go's `%#v`; kube-sim prints it as compact JSON.

use serde_json::{Value, json};

use crate::error::{ApiError, Cause};
use crate::kinds::{self, KindId};
use crate::store::name_of;

/// Labels the Job strategy adds to a Job's generated selector and pod template.
const GENERATED_JOB_LABELS: [&str; 4] = [
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
];

const STATEFULSET_SPEC_FORBIDDEN: &str = "Forbidden: updates to statefulset spec for fields \
     other than 'replicas', 'ordinals', 'template', 'updateStrategy', \
     'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

const PVC_SPEC_FORBIDDEN: &str = "Forbidden: spec is immutable after creation except \
     resources.requests and volumeAttributesClassName for bound claims";

/// Refuses an update of `old` to `new` that changes a field the kind keeps immutable.
pub fn check_update(kind: KindId, new: &Value, old: &Value) -> Result<(), ApiError> {
    let k = kinds::get(kind);
    let causes = match (k.group, k.kind) {
        ("batch", "Job") => job(new, old),
        ("apps", "Deployment") => immutable(new, old, &["selector"]),
        ("apps", "StatefulSet") => statefulset(new, old),
        ("", "PersistentVolumeClaim") => claim(new, old),
        _ => Vec::new(),
    };
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(k.group, k.kind, name_of(new), causes))
}

fn spec_field<'a>(object: &'a Value, field: &str) -> Option<&'a Value> {
    object.get("spec").and_then(|spec| spec.get(field))
}

fn invalid_immutable(field: &str, value: Option<&Value>) -> Cause {
    let shown = value.map_or_else(|| "null".to_string(), Value::to_string);
    Cause::new(
        "FieldValueInvalid",
        format!("Invalid value: {shown}: field is immutable"),
        format!("spec.{field}"),
    )
}

fn immutable(new: &Value, old: &Value, fields: &[&str]) -> Vec<Cause> {
    fields
        .iter()
        .filter(|field| spec_field(new, field) != spec_field(old, field))
        .map(|field| invalid_immutable(field, spec_field(new, field)))
        .collect()
}

fn job(new: &Value, old: &Value) -> Vec<Cause> {
    let manual = spec_field(new, "manualSelector") == Some(&json!(true));
    let mut causes = Vec::new();
    let (new_selector, old_selector) = (spec_field(new, "selector"), spec_field(old, "selector"));
    // A generated selector is the server's: an update that leaves it out keeps it.
    let selector_kept = !manual && new_selector.is_none();
    if !selector_kept
        && without_generated(new_selector, "matchLabels")
            != without_generated(old_selector, "matchLabels")
    {
        causes.push(invalid_immutable("selector", new_selector));
    }
    let template = |object| {
        let mut template = spec_field(object, "template").cloned()?;
        if let Some(metadata) = template.get_mut("metadata") {
            let stripped = without_generated(Some(metadata), "labels");
            *metadata = stripped.unwrap_or_default();
            if metadata.get("labels").is_some_and(is_empty) {
                metadata.as_object_mut().map(|m| m.remove("labels"));
            }
        }
        if template.get("metadata").is_some_and(is_empty) {
            template.as_object_mut().map(|t| t.remove("metadata"));
        }
        Some(template)
    };
    if template(new) != template(old) {
        causes.push(invalid_immutable("template", spec_field(new, "template")));
    }
    causes
}

fn is_empty(value: &Value) -> bool {
    value.as_object().is_some_and(serde_json::Map::is_empty)
}

/// `value[labels_field]` without the generated Job labels.
fn without_generated(value: Option<&Value>, labels_field: &str) -> Option<Value> {
    let mut value = value.cloned()?;
    if let Some(labels) = value.get_mut(labels_field).and_then(Value::as_object_mut) {
        for label in GENERATED_JOB_LABELS {
            labels.remove(label);
        }
    }
    Some(value)
}

fn statefulset(new: &Value, old: &Value) -> Vec<Cause> {
    let changed = ["selector", "serviceName", "volumeClaimTemplates"]
        .iter()
        .any(|field| spec_field(new, field) != spec_field(old, field));
    if !changed {
        return Vec::new();
    }
    vec![Cause::new(
        "FieldValueForbidden",
        STATEFULSET_SPEC_FORBIDDEN,
        "spec",
    )]
}

fn claim(new: &Value, old: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    if spec_field(new, "storageClassName") != spec_field(old, "storageClassName") {
        causes.push(Cause::new(
            "FieldValueForbidden",
            PVC_SPEC_FORBIDDEN,
            "spec",
        ));
    }
    let storage = |object: &Value| {
        object
            .pointer("/spec/resources/requests/storage")
            .and_then(Value::as_str)
            .and_then(quantity_bytes)
    };
    if let (Some(requested), Some(previous)) = (storage(new), storage(old))
        && requested < previous
    {
        causes.push(Cause::new(
            "FieldValueForbidden",
            "Forbidden: field can not be less than previous value",
            "spec.resources.requests.storage",
        ));
    }
    causes
}

/// A storage quantity (`10Gi`, `500M`, `1e3`, `1.5Ti`) in bytes; `None` when it does not
/// parse (the claim's create already passed, so a comparison is simply skipped).
fn quantity_bytes(quantity: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let quantity = quantity.trim();
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    quantity.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(group: &str, version: &str, plural: &str) -> KindId {
        kinds::by_path(group, version, plural).expect("served")
    }

    fn job_with(script: &str) -> Value {
        json!({"kind": "Job", "metadata": {"name": "setup"}, "spec": {"template": {
            "spec": {"containers": [{"name": "c", "image": "wp", "args": [script]}]}}}})
    }

    #[test]
    fn a_changed_job_template_is_invalid_naming_the_field() {
        let jobs = kind("batch", "v1", "jobs");
        let error = check_update(jobs, &job_with("new"), &job_with("old")).expect_err("refused");
        assert_eq!(error.code(), 422);
        let message = error.to_string();
        assert!(
            message.starts_with("Job.batch \"setup\" is invalid: spec.template: Invalid value: "),
            "{message}"
        );
        assert!(message.ends_with(": field is immutable"), "{message}");
        assert_eq!(
            error.to_status()["details"]["causes"][0],
            json!({"reason": "FieldValueInvalid", "field": "spec.template",
                   "message": message.split_once("spec.template: ").map(|(_, m)| m).unwrap_or_default()})
        );
    }

    #[test]
    fn the_same_job_with_server_generated_labels_is_accepted() {
        let jobs = kind("batch", "v1", "jobs");
        let mut live = job_with("same");
        live["spec"]["selector"] =
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}});
        live["spec"]["template"]["metadata"] =
            json!({"labels": {"controller-uid": "u", "job-name": "setup"}});
        assert!(check_update(jobs, &job_with("same"), &live).is_ok());
        assert!(check_update(jobs, &live, &live).is_ok());
    }

    #[test]
    fn a_statefulset_service_name_change_is_forbidden_with_upstreams_message() {
        let sets = kind("apps", "v1", "statefulsets");
        let set = |service: &str| {
            json!({"kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"serviceName": service, "replicas": 1}})
        };
        let error = check_update(sets, &set("b"), &set("a")).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!("StatefulSet.apps \"db\" is invalid: spec: {STATEFULSET_SPEC_FORBIDDEN}")
        );
        let mut scaled = set("a");
        scaled["spec"]["replicas"] = json!(3);
        assert!(check_update(sets, &scaled, &set("a")).is_ok());
    }

    #[test]
    fn a_claim_may_grow_but_not_shrink() {
        let claims = kind("", "v1", "persistentvolumeclaims");
        let claim = |size: &str| {
            json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                   "spec": {"resources": {"requests": {"storage": size}}}})
        };
        assert!(check_update(claims, &claim("2Gi"), &claim("1Gi")).is_ok());
        let error = check_update(claims, &claim("512Mi"), &claim("1Gi")).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "PersistentVolumeClaim \"data\" is invalid: spec.resources.requests.storage: \
             Forbidden: field can not be less than previous value"
        );
    }

    #[test]
    fn a_deployment_selector_change_is_invalid() {
        let deployments = kind("apps", "v1", "deployments");
        let deployment = |app: &str| {
            json!({"kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"selector": {"matchLabels": {"app": app}}}})
        };
        let error =
            check_update(deployments, &deployment("b"), &deployment("a")).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: \
             {\"matchLabels\":{\"app\":\"b\"}}: field is immutable"
        );
    }
}

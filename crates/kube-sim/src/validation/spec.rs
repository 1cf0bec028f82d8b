//! Required fields and their basic shape, per kind, as upstream's `ValidatePod`,
//! `ValidateDeployment`, `ValidateStatefulSet`, `ValidateJob` and `ValidateService` check
//! them (the checks a manifest written by hand or by a template most often trips on;
//! upstream checks far more). Defaults are filled before this runs, as upstream fills them
//! on decoding: a Job template without `restartPolicy` is refused for the `Always` it
//! defaulted to, exactly as a real server refuses it.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::metadata;
use crate::error::Cause;
use crate::kinds::ResourceKind;

/// The causes `object`'s spec gives.
pub fn causes(kind: &ResourceKind, object: &Value) -> Vec<Cause> {
    let spec = object.get("spec").unwrap_or(&Value::Null);
    match (kind.group, kind.kind) {
        ("", "Pod") => pod_spec(spec, "spec", true),
        ("", "Service") => service(spec),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet") => workload(spec, false),
        ("batch", "Job") => workload(spec, true),
        _ => Vec::new(),
    }
}

fn required(field: impl Into<String>) -> Cause {
    Cause::new("FieldValueRequired", "Required value", field)
}

fn is_unset(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    }
}

fn port_causes(value: Option<&Value>, field: String) -> Option<Cause> {
    let number = value?.as_i64()?;
    (!(1..=65535).contains(&number)).then(|| {
        Cause::new(
            "FieldValueInvalid",
            format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
            field,
        )
    })
}

/// A pod spec at `path`. `image_required`: Pods need an image; templates may leave it
/// to whatever fills it in later, as upstream allows.
fn pod_spec(spec: &Value, path: &str, image_required: bool) -> Vec<Cause> {
    let mut causes = Vec::new();
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(Vec::is_empty) {
        causes.push(required(format!("{path}.containers")));
    }
    let mut names = BTreeSet::new();
    for field in ["initContainers", "containers"] {
        let list = spec.get(field).and_then(Value::as_array);
        for (i, container) in list.into_iter().flatten().enumerate() {
            let at = format!("{path}.{field}[{i}]");
            match container.get("name").and_then(Value::as_str) {
                None | Some("") => causes.push(required(format!("{at}.name"))),
                Some(name) => {
                    if !metadata::is_dns1123_label(name) {
                        causes.push(metadata::invalid_label(&format!("{at}.name"), name));
                    } else if !names.insert(name.to_string()) {
                        causes.push(Cause::new(
                            "FieldValueDuplicate",
                            format!("Duplicate value: {name:?}"),
                            format!("{at}.name"),
                        ));
                    }
                }
            }
            if image_required && is_unset(container.get("image")) {
                causes.push(required(format!("{at}.image")));
            }
            let ports = container.get("ports").and_then(Value::as_array);
            for (j, port) in ports.into_iter().flatten().enumerate() {
                let field = format!("{at}.ports[{j}].containerPort");
                match port.get("containerPort") {
                    None | Some(Value::Null) => causes.push(required(field)),
                    value => causes.extend(port_causes(value, field)),
                }
            }
        }
    }
    causes
}

/// Deployments, StatefulSets, ReplicaSets and Jobs: a selector that selects the pod
/// template's labels, and a valid template.
fn workload(spec: &Value, job: bool) -> Vec<Cause> {
    let mut causes = Vec::new();
    let template = spec.get("template").unwrap_or(&Value::Null);
    causes.extend(metadata::template_labels(
        template,
        "spec.template.metadata.labels",
    ));
    // A Job's selector is generated unless `manualSelector` says otherwise.
    let selector = spec.get("selector");
    if !job && is_unset(selector) {
        causes.push(required("spec.selector"));
    }
    if let Some(selector) = selector
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
    {
        let labels = template
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if !selects(selector, &labels) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!(
                    "Invalid value: {}: `selector` does not match template `labels`",
                    Value::Object(labels)
                ),
                "spec.template.metadata.labels",
            ));
        }
    }
    let pod = template.get("spec").unwrap_or(&Value::Null);
    causes.extend(pod_spec(pod, "spec.template.spec", false));
    if job {
        let policy = pod.get("restartPolicy").and_then(Value::as_str);
        if !matches!(policy, Some("OnFailure" | "Never")) {
            causes.push(Cause::new(
                "FieldValueNotSupported",
                format!(
                    "Unsupported value: {:?}: supported values: \"OnFailure\", \"Never\"",
                    policy.unwrap_or_default()
                ),
                "spec.template.spec.restartPolicy",
            ));
        }
    }
    causes
}

/// Whether a `LabelSelector` selects `labels`.
fn selects(selector: &Map<String, Value>, labels: &Map<String, Value>) -> bool {
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_match = match_labels
        .into_iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    labels_match
        && expressions.into_iter().flatten().all(|expression| {
            let key = expression
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let values: Vec<&Value> = expression
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            let label = labels.get(key);
            match expression.get("operator").and_then(Value::as_str) {
                Some("In") => label.is_some_and(|l| values.contains(&l)),
                Some("NotIn") => label.is_none_or(|l| !values.contains(&l)),
                Some("Exists") => label.is_some(),
                Some("DoesNotExist") => label.is_none(),
                _ => false,
            }
        })
}

fn service(spec: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let external_name = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    let ports = spec.get("ports").and_then(Value::as_array);
    if !external_name && !headless && ports.is_none_or(Vec::is_empty) {
        causes.push(required("spec.ports"));
    }
    let ports = ports.map(Vec::as_slice).unwrap_or_default();
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
        if ports.len() > 1 && name.is_empty() {
            causes.push(required(format!("{at}.name")));
        } else if !name.is_empty() && !names.insert(name) {
            causes.push(Cause::new(
                "FieldValueDuplicate",
                format!("Duplicate value: {name:?}"),
                format!("{at}.name"),
            ));
        }
        causes.extend(port_causes(
            Some(port.get("port").unwrap_or(&Value::from(0))),
            format!("{at}.port"),
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds;

    fn kind(group: &str, plural: &str) -> &'static ResourceKind {
        kinds::get(kinds::by_path(group, "v1", plural).expect("served"))
    }

    fn fields(causes: &[Cause]) -> Vec<&str> {
        causes.iter().map(|c| c.field.as_str()).collect()
    }

    #[test]
    fn a_pod_without_containers_or_images_names_each_field() {
        let pod = json!({"spec": {"containers": [{"name": "web"}]}});
        assert_eq!(
            fields(&causes(kind("", "pods"), &pod)),
            ["spec.containers[0].image"]
        );
        let empty = json!({"spec": {}});
        assert_eq!(
            fields(&causes(kind("", "pods"), &empty)),
            ["spec.containers"]
        );
    }

    #[test]
    fn a_deployment_whose_selector_misses_its_template_is_invalid() {
        let deployment = json!({"spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                         "spec": {"containers": [{"name": "c", "image": "x"}]}}}});
        let found = causes(kind("apps", "deployments"), &deployment);
        assert_eq!(fields(&found), ["spec.template.metadata.labels"]);
        assert_eq!(
            found[0].message,
            "Invalid value: {\"app\":\"db\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn a_job_must_not_restart_always() {
        let job = json!({"spec": {"template": {"spec": {
            "restartPolicy": "Always", "containers": [{"name": "c", "image": "x"}]}}}});
        let found = causes(kind("batch", "jobs"), &job);
        assert_eq!(fields(&found), ["spec.template.spec.restartPolicy"]);
    }

    #[test]
    fn a_service_needs_a_port_unless_headless() {
        assert_eq!(
            fields(&causes(kind("", "services"), &json!({"spec": {}}))),
            ["spec.ports"]
        );
        let headless = json!({"spec": {"clusterIP": "None"}});
        assert!(causes(kind("", "services"), &headless).is_empty());
        let two = json!({"spec": {"ports": [{"port": 80}, {"name": "b", "port": 70000}]}});
        assert_eq!(
            fields(&causes(kind("", "services"), &two)),
            ["spec.ports[0].name", "spec.ports[1].port"]
        );
    }
}

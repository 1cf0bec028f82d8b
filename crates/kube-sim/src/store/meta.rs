//! Object metadata the server owns: identity, versions, timestamps, name validation and
//! the per-kind defaults the real API server fills in on create.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, Cause};
use crate::kinds::ResourceKind;

/// The current time in the RFC 3339 form Kubernetes uses (second precision, `Z`).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `metadata.name`, or "".
pub fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.namespace`, or "".
pub fn namespace_of(object: &Value) -> &str {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.uid`, or "".
pub fn uid_of(object: &Value) -> &str {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `metadata.resourceVersion` as a number (0 when absent).
pub fn resource_version_of(object: &Value) -> u64 {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Whether the object is being deleted.
pub fn is_deleting(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

/// `metadata.finalizers`.
pub fn finalizers_of(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `metadata` map, created if missing.
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(map)) => map,
        // Just made sure it is an object.
        _ => unreachable!("metadata is an object"),
    }
}

/// Sets the field at `path`, turning anything in the way that is not a map into one.
/// Objects arrive from clients, so `spec` may be a string; indexing would panic.
pub fn set(object: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *object = value;
        return;
    };
    let mut node = object;
    for key in parents {
        if !node.is_object() {
            *node = json!({});
        }
        let Value::Object(map) = node else { return };
        node = map.entry(key.to_string()).or_insert_with(|| json!({}));
    }
    if !node.is_object() {
        *node = json!({});
    }
    if let Value::Object(map) = node {
        map.insert(last.to_string(), value);
    }
}

/// Stamps `metadata.resourceVersion`.
pub fn set_resource_version(object: &mut Value, rv: u64) {
    metadata_mut(object).insert("resourceVersion".into(), json!(rv.to_string()));
}

/// Fails unless `object` is a JSON object whose `apiVersion`/`kind`, when given, match.
pub fn check_type(kind: &ResourceKind, object: &Value) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::BadRequest(format!(
            "the body of the request was not a {} object",
            kind.kind
        )));
    }
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    let object_kind = object.get("kind").and_then(Value::as_str);
    if api_version.is_some_and(|v| v != kind.api_version())
        || object_kind.is_some_and(|k| k != kind.kind)
    {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            api_version.unwrap_or_default(),
            kind.api_version()
        )));
    }
    Ok(())
}

/// Validates a name as a DNS-1123 subdomain, which every served kind accepts; RBAC
/// objects take any path segment (`system:discovery`), as upstream's.
pub fn validate_name(kind: &ResourceKind, name: &str) -> Result<(), ApiError> {
    let path_segment = kind.group == "rbac.authorization.k8s.io";
    let cause = if name.is_empty() {
        Some(Cause::new(
            "FieldValueRequired",
            "Required value: name or generateName is required",
            "metadata.name",
        ))
    } else if path_segment {
        [".", ".."]
            .contains(&name)
            .then(|| format!("may not be '{name}'"))
            .or_else(|| {
                ["/", "%"]
                    .into_iter()
                    .find(|c| name.contains(c))
                    .map(|c| format!("may not contain '{c}'"))
            })
            .map(|why| {
                Cause::new(
                    "FieldValueInvalid",
                    format!("Invalid value: \"{name}\": {why}"),
                    "metadata.name",
                )
            })
    } else if name.len() > 253
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Some(Cause::new(
            "FieldValueInvalid",
            format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower \
                 case alphanumeric characters, '-' or '.', and must start and end with an \
                 alphanumeric character"
            ),
            "metadata.name",
        ))
    } else {
        None
    };
    match cause {
        Some(cause) => Err(ApiError::invalid(kind.group, kind.kind, name, vec![cause])),
        None => Ok(()),
    }
}

/// Fills what the real API server sets on create: identity, timestamps, generation,
/// cleared status, and the few per-kind defaults clients read back.
pub fn initialize(kind: &ResourceKind, object: &mut Value, namespace: Option<&str>) {
    object["apiVersion"] = json!(kind.api_version());
    object["kind"] = json!(kind.kind);
    let name = name_of(object).to_string();
    let meta = metadata_mut(object);
    meta.insert("uid".into(), json!(uuid::Uuid::now_v7().to_string()));
    meta.insert("creationTimestamp".into(), json!(now()));
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    meta.remove("selfLink");
    match namespace {
        Some(ns) => {
            meta.insert("namespace".into(), json!(ns));
        }
        None => {
            meta.remove("namespace");
        }
    }
    if kind.has_generation {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if kind.has_status {
        object["status"] = json!({});
    }
    match kind.kind {
        "Namespace" => {
            let labels = metadata_mut(object)
                .entry("labels")
                .or_insert_with(|| json!({}));
            if let Value::Object(labels) = labels {
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
            object["spec"] = json!({"finalizers": ["kubernetes"]});
            object["status"] = json!({"phase": "Active"});
        }
        "Deployment" | "StatefulSet" | "ReplicaSet"
            if object.pointer("/spec/replicas").is_none() && object["spec"].is_object() =>
        {
            object["spec"]["replicas"] = json!(1);
        }
        "Service" => default_service(object),
        "Pod" => object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"}),
        "PersistentVolumeClaim" => object["status"] = json!({"phase": "Pending"}),
        _ => {}
    }
}

fn default_service(object: &mut Value) {
    if !object["spec"].is_object() {
        object["spec"] = json!({});
    }
    let spec = &mut object["spec"];
    if spec.get("type").is_none() {
        spec["type"] = json!("ClusterIP");
    }
    if spec.get("clusterIP").is_none() && spec["type"] != "ExternalName" {
        let n = crate::random::next_u64();
        let ip = format!("10.96.{}.{}", (n >> 8) % 256, n % 254 + 1);
        spec["clusterIP"] = json!(ip);
        spec["clusterIPs"] = json!([ip]);
    }
    object["status"] = json!({"loadBalancer": {}});
}

/// Whether anything outside metadata and status differs: what `generation` tracks.
pub fn spec_changed(a: &Value, b: &Value) -> bool {
    let (Some(left), Some(right)) = (a.as_object(), b.as_object()) else {
        return a != b;
    };
    let keys = |m: &serde_json::Map<String, Value>| {
        m.keys()
            .filter(|k| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
            .count()
    };
    keys(left) != keys(right)
        || left
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
            .any(|(k, v)| right.get(k) != Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds;

    #[test]
    fn uppercase_names_are_invalid_with_a_cause() {
        let kind = kinds::get(kinds::namespace());
        let Err(ApiError::Invalid { causes, .. }) = validate_name(kind, "Store-X") else {
            panic!("expected Invalid");
        };
        assert_eq!(causes[0].reason, "FieldValueInvalid");
        assert!(validate_name(kind, "store-x.example").is_ok());
    }

    #[test]
    fn set_replaces_whatever_is_in_the_way() {
        let mut object = json!({"spec": "nonsense"});
        set(&mut object, &["spec", "finalizers"], json!([]));
        assert_eq!(object, json!({"spec": {"finalizers": []}}));
    }

    #[test]
    fn a_new_namespace_is_active_and_labelled_with_its_name() {
        let kind = kinds::get(kinds::namespace());
        let mut ns = json!({"metadata": {"name": "shop"}});
        initialize(kind, &mut ns, None);
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop"
        );
        assert!(ns["metadata"]["uid"].is_string());
    }
}

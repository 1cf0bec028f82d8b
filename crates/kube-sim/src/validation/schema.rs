//! Unknown fields, as the real server's decoding and field manager find them.
//!
//! - Create and update (POST, PUT) honour `fieldValidation`: `Strict` refuses an unknown
//!   field with `400 BadRequest` (`Deployment in version "v1" cannot be handled as a
//!   Deployment: strict decoding error: unknown field "spec.foo"`), `Warn` (the API's
//!   default; kubectl sends `Strict`) answers with a `Warning: unknown field "spec.foo"`
//!   header, `Ignore` drops it silently. Upstream drops unknown fields from the object it
//!   stores; kube-sim keeps them (they are harmless in JSON).
//! - Server-side apply refuses an unknown field whatever `fieldValidation` says: the field
//!   manager cannot type the applied configuration. Upstream answers that with a `500`
//!   that carries no reason (kubernetes/kubernetes#122480), and so does kube-sim.
//!
//! The schema is k8s-openapi's typed structs: the object is decoded into its type and
//! encoded back, and any field of the input missing from the round trip is unknown. An
//! object that does not decode (a required field missing, a wrong type) is not checked
//! here; validation refuses most of those. Merge, strategic-merge and JSON patches are not
//! checked, and neither are custom resources (Gateway API, ServiceMonitor).

use k8s_openapi::api::{apps, batch, coordination, core, networking, policy, rbac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, Cause};
use crate::fields::list_key;
use crate::kinds::{self, KindId};

/// The `fieldValidation` directive of a create, update or patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown fields are dropped silently.
    Ignore,
    /// Unknown fields are reported in `Warning` headers (the default).
    #[default]
    Warn,
    /// Unknown fields fail the request.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter; `options` names the verb's options kind for the
    /// `422 Invalid` an unknown directive gets (`CreateOptions`, `PatchOptions`, ...).
    pub fn parse(value: Option<&str>, options: &str) -> Result<Self, ApiError> {
        match value {
            None => Ok(Self::default()),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::invalid(
                "meta.k8s.io",
                options,
                "",
                vec![Cause::new(
                    "FieldValueNotSupported",
                    format!(
                        "Unsupported value: {other:?}: supported values: \"\", \"Ignore\", \
                         \"Strict\", \"Warn\""
                    ),
                    "fieldValidation",
                )],
            )),
        }
    }
}

/// Checks a created or replaced object: `Ok` with the warnings to send, or the `400` a
/// `Strict` request gets.
pub fn check_object(
    kind: KindId,
    object: &Value,
    validation: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    if validation == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let unknown: Vec<String> = unknown_fields(kind, object)
        .into_iter()
        .map(|path| format!("unknown field {:?}", dotted(&path)))
        .collect();
    if unknown.is_empty() || validation == FieldValidation::Warn {
        return Ok(unknown);
    }
    let k = kinds::get(kind);
    Err(ApiError::BadRequest(format!(
        "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
        unknown.join(", "),
        kind = k.kind,
        version = k.version,
    )))
}

/// Checks a server-side apply configuration for `namespace`/`name`.
pub fn check_applied(
    kind: KindId,
    namespace: Option<&str>,
    name: &str,
    applied: &Value,
) -> Result<(), ApiError> {
    let Some(first) = unknown_fields(kind, applied).into_iter().next() else {
        return Ok(());
    };
    let k = kinds::get(kind);
    Err(ApiError::Unclassified(format!(
        "failed to create typed patch object ({}/{name}; {}, Kind={}): {}: field not declared \
         in schema",
        namespace.unwrap_or_default(),
        k.api_version(),
        k.kind,
        structured(&first),
    )))
}

/// One step of a path into an object: a field, or a list item (its index and the item).
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Item(usize, Option<(&'static str, Value)>),
}

fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Item(index, _) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The structured-merge-diff form: `.spec.containers[name="web"].foo`.
fn structured(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Item(_, Some((key, value))) => out.push_str(&format!("[{key}={value}]")),
            Step::Item(index, None) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn unknown_fields(kind: KindId, object: &Value) -> Vec<Vec<Step>> {
    let k = kinds::get(kind);
    let known = match (k.group, k.kind) {
        ("", "Namespace") => round_trip::<core::v1::Namespace>(object),
        ("", "Secret") => round_trip::<core::v1::Secret>(object),
        ("", "ConfigMap") => round_trip::<core::v1::ConfigMap>(object),
        ("", "Service") => round_trip::<core::v1::Service>(object),
        ("", "ServiceAccount") => round_trip::<core::v1::ServiceAccount>(object),
        ("", "PersistentVolumeClaim") => round_trip::<core::v1::PersistentVolumeClaim>(object),
        ("", "Pod") => round_trip::<core::v1::Pod>(object),
        ("", "Event") => round_trip::<core::v1::Event>(object),
        ("", "ResourceQuota") => round_trip::<core::v1::ResourceQuota>(object),
        ("", "LimitRange") => round_trip::<core::v1::LimitRange>(object),
        ("apps", "Deployment") => round_trip::<apps::v1::Deployment>(object),
        ("apps", "StatefulSet") => round_trip::<apps::v1::StatefulSet>(object),
        ("apps", "ReplicaSet") => round_trip::<apps::v1::ReplicaSet>(object),
        ("batch", "Job") => round_trip::<batch::v1::Job>(object),
        ("networking.k8s.io", "Ingress") => round_trip::<networking::v1::Ingress>(object),
        ("networking.k8s.io", "NetworkPolicy") => {
            round_trip::<networking::v1::NetworkPolicy>(object)
        }
        ("coordination.k8s.io", "Lease") => round_trip::<coordination::v1::Lease>(object),
        ("rbac.authorization.k8s.io", "Role") => round_trip::<rbac::v1::Role>(object),
        ("rbac.authorization.k8s.io", "RoleBinding") => round_trip::<rbac::v1::RoleBinding>(object),
        ("rbac.authorization.k8s.io", "ClusterRole") => round_trip::<rbac::v1::ClusterRole>(object),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            round_trip::<rbac::v1::ClusterRoleBinding>(object)
        }
        ("policy", "PodDisruptionBudget") => round_trip::<policy::v1::PodDisruptionBudget>(object),
        _ => None,
    };
    let Some(known) = known else {
        return Vec::new();
    };
    let mut found = Vec::new();
    missing(object, &known, &mut Vec::new(), &mut found);
    found
}

fn round_trip<T: DeserializeOwned + Serialize>(object: &Value) -> Option<Value> {
    let typed: T = serde_json::from_value(object.clone()).ok()?;
    serde_json::to_value(typed).ok()
}

/// Collects the paths of `input` that `known` lacks. Nulls and empty maps or lists are
/// never reported: the typed round trip may drop them whether or not they are known.
fn missing(input: &Value, known: &Value, path: &mut Vec<Step>, found: &mut Vec<Vec<Step>>) {
    match (input, known) {
        (Value::Object(input), Value::Object(known)) => {
            for (key, value) in input {
                if is_empty(value) {
                    continue;
                }
                path.push(Step::Field(key.clone()));
                match known.get(key) {
                    Some(inner) => missing(value, inner, path, found),
                    None => found.push(path.clone()),
                }
                path.pop();
            }
        }
        (Value::Array(items), Value::Array(known)) => {
            let key = list_key(items);
            for (index, (item, inner)) in items.iter().zip(known).enumerate() {
                let named = key.and_then(|k| Some((k, item.get(k)?.clone())));
                path.push(Step::Item(index, named));
                missing(item, inner, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployments() -> KindId {
        kinds::by_path("apps", "v1", "deployments").expect("served")
    }

    fn deployment(extra: Value) -> Value {
        let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {}},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "x",
                                           "ports": [{"containerPort": 80}]}]}}}});
        crate::patch::apply_merge(&mut object, &extra);
        object
    }

    #[test]
    fn a_known_object_has_no_unknown_fields() {
        assert!(unknown_fields(deployments(), &deployment(json!({}))).is_empty());
    }

    #[test]
    fn strict_names_every_unknown_field_by_its_dotted_path() {
        let object = deployment(json!({"spec": {"foo": 1, "template": {"spec": {
            "containers": [{"name": "web", "imagePolicy": "x"}]}}}}));
        let error =
            check_object(deployments(), &object, FieldValidation::Strict).expect_err("refused");
        assert_eq!(error.code(), 400);
        assert_eq!(
            error.to_string(),
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding \
             error: unknown field \"spec.foo\", unknown field \
             \"spec.template.spec.containers[0].imagePolicy\""
        );
        let warnings = check_object(deployments(), &object, FieldValidation::Warn).expect("warned");
        assert_eq!(warnings[0], "unknown field \"spec.foo\"");
    }

    #[test]
    fn an_applied_unknown_field_is_named_as_the_field_manager_names_it() {
        let object = deployment(json!({"spec": {"template": {"spec": {
            "containers": [{"name": "web", "imagePolicy": "x"}]}}}}));
        let error =
            check_applied(deployments(), Some("shop"), "web", &object).expect_err("refused");
        assert_eq!(error.code(), 500);
        assert_eq!(
            error.to_string(),
            "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): \
             .spec.template.spec.containers[name=\"web\"].imagePolicy: field not declared in \
             schema"
        );
    }

    #[test]
    fn an_unknown_directive_is_invalid() {
        let error = FieldValidation::parse(Some("Loose"), "CreateOptions").expect_err("unknown");
        assert_eq!(error.code(), 422);
    }
}

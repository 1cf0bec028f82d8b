//! `Table` rendering for `kubectl get` (`Accept: application/json;as=Table;g=meta.k8s.io`).
//!
//! Columns are the ones kubectl users expect for the kinds storeplane looks at most; every
//! other kind gets NAME and AGE. Rows carry the full object so `kubectl get -o wide` and
//! describe-style printers have what they need.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::kinds::{self, KindId};

/// Renders objects as a `meta.k8s.io/v1` Table.
pub fn render(kind: KindId, objects: &[Arc<Value>], list_metadata: Option<Value>) -> Value {
    let k = kinds::get(kind);
    let extra = extra_columns(k.kind);
    let mut columns = vec![column(
        "Name",
        "string",
        "Name must be unique within a namespace.",
    )];
    columns.extend(extra.iter().map(|(name, _)| column(name, "string", "")));
    columns.push(column("Age", "string", "CreationTimestamp is a timestamp."));
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![json!(crate::store::name_of(object))];
            cells.extend(extra.iter().map(|(_, cell)| json!(cell(object))));
            cells.push(json!(age(object)));
            json!({ "cells": cells, "object": &**object })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata.unwrap_or_else(|| json!({})),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn column(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "format": if name == "Name" { "name" } else { "" },
        "description": description,
        "priority": 0,
    })
}

type Cell = fn(&Value) -> String;

fn extra_columns(kind: &str) -> Vec<(&'static str, Cell)> {
    match kind {
        "Namespace" => vec![("Status", |o| text(o, "/status/phase"))],
        "Pod" => vec![
            ("Ready", pod_ready),
            ("Status", pod_status),
            ("Restarts", |_| "0".into()),
        ],
        "Deployment" => vec![
            ("Ready", |o| {
                ratio(o, "/status/readyReplicas", "/spec/replicas")
            }),
            ("Up-to-date", |o| number(o, "/status/updatedReplicas")),
            ("Available", |o| number(o, "/status/availableReplicas")),
        ],
        "StatefulSet" => vec![("Ready", |o| {
            ratio(o, "/status/readyReplicas", "/spec/replicas")
        })],
        "ReplicaSet" => vec![
            ("Desired", |o| number(o, "/spec/replicas")),
            ("Current", |o| number(o, "/status/replicas")),
            ("Ready", |o| number(o, "/status/readyReplicas")),
        ],
        "Job" => vec![
            ("Status", job_status),
            ("Completions", |o| {
                let want = o.pointer("/spec/completions").and_then(Value::as_i64);
                format!("{}/{}", number(o, "/status/succeeded"), want.unwrap_or(1))
            }),
        ],
        "Service" => vec![
            ("Type", |o| text(o, "/spec/type")),
            ("Cluster-IP", |o| text(o, "/spec/clusterIP")),
        ],
        "PersistentVolumeClaim" => vec![("Status", |o| text(o, "/status/phase"))],
        // The printer columns of the Gateway API's CRDs.
        "GatewayClass" => vec![("Controller", |o| text(o, "/spec/controllerName"))],
        "Gateway" => vec![("Class", |o| text(o, "/spec/gatewayClassName"))],
        "HTTPRoute" => vec![("Hostnames", |o| strings(o, "/spec/hostnames"))],
        _ => Vec::new(),
    }
}

fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_string()
}

/// A list of strings as kubectl prints one: `["a","b"]`, or `<none>`.
fn strings(object: &Value, pointer: &str) -> String {
    match object.pointer(pointer).and_then(Value::as_array) {
        Some(items) if !items.is_empty() => Value::Array(items.clone()).to_string(),
        _ => "<none>".to_string(),
    }
}

fn number(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .to_string()
}

fn ratio(object: &Value, have: &str, want: &str) -> String {
    format!("{}/{}", number(object, have), number(object, want))
}

fn pod_ready(object: &Value) -> String {
    let statuses = object
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    let total = object
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses.map_or(0, |s| {
        s.iter().filter(|c| c["ready"] == json!(true)).count()
    });
    format!("{ready}/{total}")
}

fn pod_status(object: &Value) -> String {
    let waiting = object
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .find_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str))
        });
    if crate::store::is_deleting(object) {
        return "Terminating".into();
    }
    waiting
        .map(str::to_string)
        .unwrap_or_else(|| text(object, "/status/phase"))
}

fn job_status(object: &Value) -> String {
    let conditions = object
        .pointer("/status/conditions")
        .and_then(Value::as_array);
    let has = |t: &str| {
        conditions.is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
    };
    if has("Complete") {
        "Complete".into()
    } else if has("Failed") {
        "Failed".into()
    } else {
        "Running".into()
    }
}

fn age(object: &Value) -> String {
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let Some(created) = created else {
        return "<unknown>".into();
    };
    let seconds = (chrono::Utc::now() - created.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_render_with_their_phase() {
        let ns = json!({"metadata": {"name": "shop", "creationTimestamp": "2020-01-01T00:00:00Z"},
                        "status": {"phase": "Active"}});
        let table = render(kinds::namespace(), &[Arc::new(ns)], None);
        assert_eq!(table["rows"][0]["cells"][0], "shop");
        assert_eq!(table["rows"][0]["cells"][1], "Active");
        assert_eq!(table["columnDefinitions"][1]["name"], "Status");
    }
}

//! Discovery: `/version`, `/api`, `/apis` and the per-group-version resource lists.
//!
//! Only the legacy (unaggregated) documents are served, with a plain `application/json`
//! content type: client-go asks for aggregated discovery first and falls back to these
//! when the response is not an `APIGroupDiscoveryList`.

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::kinds::{self, KINDS, ResourceKind};
use crate::route;

/// `/version`.
pub async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "33",
        "gitVersion": concat!("v1.33.0-kube-sim.", env!("CARGO_PKG_VERSION")),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}

/// `/api`.
pub async fn core_versions() -> Json<Value> {
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [],
    }))
}

/// `/api/v1`.
pub async fn core_resources() -> Json<Value> {
    Json(resource_list("", "v1"))
}

fn group_document(group: &str, version: &str) -> Value {
    let gv = json!({ "groupVersion": format!("{group}/{version}"), "version": version });
    json!({
        "name": group,
        "versions": [gv],
        "preferredVersion": gv,
    })
}

/// `/apis`.
pub async fn groups() -> Json<Value> {
    let groups: Vec<Value> = kinds::groups()
        .into_iter()
        .map(|(g, v)| group_document(g, v))
        .collect();
    Json(json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups }))
}

/// `/apis/{group}`.
pub async fn group(Path(group): Path<String>) -> Result<Json<Value>, ApiError> {
    let (g, v) = kinds::groups()
        .into_iter()
        .find(|(g, _)| *g == group)
        .ok_or_else(route::unknown_path)?;
    let mut document = group_document(g, v);
    document["kind"] = json!("APIGroup");
    document["apiVersion"] = json!("v1");
    Ok(Json(document))
}

/// `/apis/{group}/{version}`.
pub async fn group_resources(
    Path((group, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    if !KINDS
        .iter()
        .any(|k| k.group == group && k.version == version)
    {
        return Err(route::unknown_path());
    }
    Ok(Json(resource_list(&group, &version)))
}

fn resource_list(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .flat_map(resource_entries)
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}

fn resource_entries(k: &ResourceKind) -> Vec<Value> {
    let mut main = json!({
        "name": k.plural,
        "singularName": k.singular,
        "namespaced": k.namespaced,
        "kind": k.kind,
        "verbs": kinds::verbs(),
        "storageVersionHash": crate::random::stable_hash(&format!("{}/{}", k.group, k.kind)),
    });
    if !k.short_names.is_empty() {
        main["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        main["categories"] = json!(k.categories);
    }
    let mut entries = vec![main];
    if k.has_status {
        entries.push(json!({
            "name": format!("{}/status", k.plural),
            "singularName": "",
            "namespaced": k.namespaced,
            "kind": k.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_discovery_lists_namespaces_with_their_status_subresource() {
        let list = resource_list("", "v1");
        let names: Vec<&str> = list["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"namespaces"));
        assert!(names.contains(&"namespaces/status"));
        assert!(!names.contains(&"deployments"));
    }

    #[test]
    fn workloads_are_in_the_all_category() {
        let list = resource_list("apps", "v1");
        let deployments = &list["resources"][0];
        assert_eq!(deployments["name"], "deployments");
        assert_eq!(deployments["categories"], json!(["all"]));
    }
}

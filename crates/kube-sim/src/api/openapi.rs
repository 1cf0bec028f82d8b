//! A minimal OpenAPI v3 document set.
//!
//! kubectl's `--validate` (on by default) downloads `/openapi/v3` to learn whether the
//! server validates fields itself: it looks for a PATCH operation tagged with the kind's
//! `x-kubernetes-group-version-kind` that accepts a `fieldValidation` query parameter.
//! Serving exactly that lets `kubectl apply`/`create` run without `--validate=false`; no
//! schemas are included (so `kubectl explain` is not supported).

use axum::Json;
use axum::extract::Path;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::kinds::KINDS;
use crate::route;

const HASH: &str = concat!("kube-sim-", env!("CARGO_PKG_VERSION"));

fn prefixes() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in KINDS {
        let prefix = if k.group.is_empty() {
            format!("api/{}", k.version)
        } else {
            format!("apis/{}/{}", k.group, k.version)
        };
        if !out.contains(&prefix) {
            out.push(prefix);
        }
    }
    out
}

/// `/openapi/v3`: where each group-version's document lives.
pub async fn index() -> Json<Value> {
    let paths: Map<String, Value> = prefixes()
        .into_iter()
        .map(|p| {
            let url = format!("/openapi/v3/{p}?hash={HASH}");
            (p, json!({ "serverRelativeURL": url }))
        })
        .collect();
    Json(json!({ "paths": paths }))
}

/// `/openapi/v3/{*prefix}`: one group-version's document.
pub async fn document(Path(prefix): Path<String>) -> Result<Json<Value>, ApiError> {
    if !prefixes().contains(&prefix) {
        return Err(route::unknown_path());
    }
    let mut paths = Map::new();
    for k in KINDS {
        let kind_prefix = if k.group.is_empty() {
            format!("api/{}", k.version)
        } else {
            format!("apis/{}/{}", k.group, k.version)
        };
        if kind_prefix != prefix {
            continue;
        }
        let path = if k.namespaced {
            format!("/{prefix}/namespaces/{{namespace}}/{}/{{name}}", k.plural)
        } else {
            format!("/{prefix}/{}/{{name}}", k.plural)
        };
        paths.insert(
            path,
            json!({
                "patch": {
                    "operationId": format!("patch{}", k.kind),
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind":
                        { "group": k.group, "version": k.version, "kind": k.kind },
                    "parameters": [
                        { "name": "fieldValidation", "in": "query", "schema": { "type": "string" } },
                        { "name": "fieldManager", "in": "query", "schema": { "type": "string" } },
                        { "name": "force", "in": "query", "schema": { "type": "boolean" } },
                        { "name": "dryRun", "in": "query", "schema": { "type": "string" } },
                    ],
                    "responses": { "200": { "description": "OK" } },
                }
            }),
        );
    }
    Ok(Json(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes (kube-sim)", "version": "v1.33.0" },
        "paths": paths,
        "components": { "schemas": {} },
    })))
}

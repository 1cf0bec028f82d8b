//! The front page, liveness and readiness: `/healthz` says the process serves requests; `/readyz` also
//! checks the metadata store answers, so a load balancer stops sending traffic to a replica
//! that lost its database.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// The front page, until the dashboard is embedded: where to go from here.
pub async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>storeplane</title></head>",
        "<body><h1>storeplane</h1><p>The API is at <a href=\"/api/v1/stores\">/api/v1</a>; ",
        "browse it at <a href=\"/docs/\">/docs</a> (OpenAPI document: <a href=\"/openapi.json\">/openapi.json</a>). ",
        "The <code>storeplane store</code> commands use it from a terminal.</p></body></html>"
    ))
}

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .repo
        .ping()
        .await
        .map_err(|e| ApiError::unavailable("the metadata store", e))?;
    Ok(Json(json!({ "status": "ready", "database": "ok" })))
}

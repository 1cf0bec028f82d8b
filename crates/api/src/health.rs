//! Liveness and readiness: `/healthz` says the process serves requests; `/readyz` also
//! checks the metadata store answers, so a load balancer stops sending traffic to a replica
//! that lost its database.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

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

//! The simulator's own endpoint, `/kube-sim/faults`: read (`GET`), replace (`PUT` or
//! `POST` with a [`Faults`] JSON document) or clear (`DELETE`) the injected faults; and
//! `/kube-sim/stats`, the count of API requests served.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::ApiError;
use crate::faults::Faults;

/// `GET /kube-sim/stats`: API requests received so far (`{"requests": N}`).
pub async fn stats(State(state): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({"requests": state.faults.requests()})).into_response()
}

/// Handles every method on `/kube-sim/faults`.
pub async fn faults(State(state): State<Arc<AppState>>, method: Method, body: Bytes) -> Response {
    match method {
        Method::GET => Json(state.faults.get()).into_response(),
        Method::PUT | Method::POST => match serde_json::from_slice::<Faults>(&body) {
            Ok(faults) => {
                tracing::info!(?faults, "kube-sim faults replaced");
                state.faults.set(faults.clone());
                Json(faults).into_response()
            }
            Err(e) => ApiError::BadRequest(format!("failed to decode faults: {e}")).into_response(),
        },
        Method::DELETE => {
            state.faults.set(Faults::default());
            Json(Faults::default()).into_response()
        }
        _ => ApiError::MethodNotAllowed.into_response(),
    }
}

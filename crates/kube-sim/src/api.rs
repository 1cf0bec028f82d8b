//! The HTTP API: discovery, the resource endpoints and the simulator's admin endpoint.

mod admin;
mod discovery;
mod openapi;
mod protobuf;
pub(crate) mod request;
mod resource;
mod table;
mod watch;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use tokio::sync::watch as signal;

use crate::auth;
use crate::config::SimConfig;
use crate::faults::FaultControl;
use crate::store::Store;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The objects.
    pub store: Arc<Store>,
    /// Runtime fault settings.
    pub faults: FaultControl,
    /// Startup configuration.
    pub config: SimConfig,
    /// Flips to `true` at shutdown so long-running watches end.
    pub stopping: signal::Receiver<bool>,
    /// ServiceAccount tokens issued.
    pub tokens: auth::Tokens,
}

/// The router serving the whole API.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/version", get(discovery::version))
        .route("/api", get(discovery::core_versions))
        .route("/api/v1", get(discovery::core_resources))
        .route("/apis", get(discovery::groups))
        .route("/apis/{group}", get(discovery::group))
        .route("/apis/{group}/{version}", get(discovery::group_resources))
        .route("/openapi/v3", get(openapi::index))
        .route("/openapi/v3/{*prefix}", get(openapi::document))
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/kube-sim/faults", any(admin::faults))
        .route("/kube-sim/stats", get(admin::stats))
        .route(
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            post(auth::request_token),
        )
        .route(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            post(auth::self_subject_access_review),
        )
        .route(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            post(auth::subject_access_review),
        )
        .fallback(resource::dispatch)
        // Every request, whatever its path, is authenticated and authorized first.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .with_state(state)
}

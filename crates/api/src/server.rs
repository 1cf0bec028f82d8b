//! The router and the server loop.

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::settings::MAX_BODY_BYTES;
use crate::{
    AppState, backups, catalog, credentials, dashboard, error, feed, health, metrics, openapi,
    revisions, session, stores,
};

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let document = openapi::document(&state.settings.engines, &state.renderer.releases());
    let api = Router::new()
        .route("/session", get(session::whoami))
        .route("/cluster", get(session::cluster))
        .route("/engines", get(catalog::engines))
        .route("/plans", get(catalog::plans))
        .route("/releases", get(revisions::releases))
        .route("/stores", get(stores::list).post(stores::create))
        .route(
            "/stores/{id}",
            get(stores::get)
                .delete(stores::delete)
                .merge(patch(revisions::change)),
        )
        .route("/stores/{id}/rollback", post(revisions::rollback))
        .route("/stores/{id}/revisions", get(revisions::list))
        .route("/stores/{id}/revisions/{number}", get(revisions::get))
        .route(
            "/stores/{id}/revisions/{from}/diff/{to}",
            get(revisions::diff),
        )
        .route("/stores/{id}/retry", post(stores::retry))
        .route("/stores/{id}/events", get(stores::events))
        .route("/stores/{id}/credentials/reveal", post(credentials::reveal))
        .route("/stores/{id}/credentials/reset", post(credentials::reset))
        .route(
            "/stores/{id}/backups",
            get(backups::list)
                .post(backups::create)
                .delete(backups::purge),
        )
        .route("/stores/{id}/restore", post(backups::restore))
        .route("/events", get(feed::stream));
    let metrics_route = Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state.metrics.clone());
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(dashboard::index))
        .route("/login", get(session::login))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
        .merge(metrics_route)
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", document))
        .fallback(dashboard::fallback)
        .method_not_allowed_fallback(error::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

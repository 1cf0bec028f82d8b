//! The web dashboard at `/`: its embedded files with their content types and cache
//! headers, and its entry page for every client-side route (`/stores/{id}`), so a reload
//! or a shared link lands on the right page. Paths the API owns never fall through to it.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use storeplane_dashboard::Asset;

use crate::error;

/// What the entry page may load: only this origin's scripts, styles and API. Inline
/// styles are allowed for the positioning of dialogs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /`.
pub async fn index(headers: HeaderMap) -> Response {
    entry_page(&headers)
}

/// Everything no route matched: a dashboard file, the entry page for a client-side route,
/// or the API's own 404.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if !(method == Method::GET || method == Method::HEAD) || is_server_path(path) {
        return error::unknown_path().into_response();
    }
    let relative = path.trim_start_matches('/');
    if let Some(asset) = storeplane_dashboard::asset(relative) {
        return file(asset, &headers);
    }
    // A missing file (an old build's script, a typo) is a 404, not the entry page: a
    // browser would otherwise try to run HTML as JavaScript.
    let last = relative.rsplit('/').next().unwrap_or_default();
    if relative.starts_with("assets/") || last.contains('.') {
        return error::unknown_path().into_response();
    }
    entry_page(&headers)
}

/// Paths the server itself answers, under which the dashboard serves nothing.
fn is_server_path(path: &str) -> bool {
    ["/api", "/login", "/docs", "/metrics", "/healthz", "/readyz"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

fn entry_page(headers: &HeaderMap) -> Response {
    match storeplane_dashboard::index() {
        Some(asset) => {
            let mut response = file(asset, headers);
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            response
        }
        None => error::unknown_path().into_response(),
    }
}

fn file(asset: Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", asset.etag);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body.into_owned(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(asset.cache_control),
    );
    response_headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response
}

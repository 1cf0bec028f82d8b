//! Dashboard sign-in: a one-time login link exchanged for an HttpOnly, SameSite=Strict
//! session cookie, and `GET /api/v1/session` to learn who you are (and the CSRF token
//! cookie sessions must echo on changes).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use storeplane_db::{DbError, NewSession};

use crate::auth::SESSION_COOKIE;
use crate::dto::{ClusterView, ErrorBody, SessionView, UserView};
use crate::error::{ApiJson, ApiQuery};
use crate::{ApiError, AppState, Caller, secret};

/// Who the caller is.
#[utoipa::path(
    get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody))
)]
pub async fn whoami(caller: Caller) -> ApiJson<SessionView> {
    ApiJson(SessionView {
        user: UserView {
            id: caller.user.id,
            name: caller.user.name.to_string(),
            role: caller.user.role,
        },
        auth: caller.via.as_str().to_owned(),
        csrf_token: caller.csrf_token,
    })
}

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    token: String,
}

/// Exchanges a one-time login link for a session cookie and goes to the dashboard.
pub async fn login(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LoginParams>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let user = state.repo.consume_login_token(&secret::hash(&params.token), now).await.map_err(|e| match e {
        DbError::NotFound { .. } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "this login link is unknown, expired or already used; restart `storeplane serve` or ask an admin for a new one",
        ),
        other => other.into(),
    })?;
    let session_id = secret::generate("sps_");
    let ttl = state.settings.session_ttl;
    state
        .repo
        .create_session(NewSession {
            token_hash: secret::hash(&session_id),
            user: user.id,
            csrf_token: secret::generate(""),
            expires_at: now + ttl,
            now,
        })
        .await?;
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        ttl.as_secs()
    );
    let mut response = Redirect::to("/").into_response();
    let cookie = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The Kubernetes cluster stores are provisioned in.
#[utoipa::path(
    get, path = "/api/v1/cluster", tag = "session",
    responses((status = 200, body = ClusterView), (status = 401, body = ErrorBody))
)]
pub async fn cluster(State(state): State<AppState>, _caller: Caller) -> ApiJson<ClusterView> {
    ApiJson(state.settings.cluster.clone())
}

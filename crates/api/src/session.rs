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
    token: Option<String>,
}

/// Exchanges a one-time login link for a session cookie and goes to the dashboard. A link
/// that is unknown, expired or used gets a page that says so (a person opened it in a
/// browser), not the API's JSON.
pub async fn login(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LoginParams>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let Some(token) = params.token.filter(|t| !t.is_empty()) else {
        return Ok(login_failed(
            "This sign-in link is incomplete",
            "It has no token. Copy the whole link that <code>storeplane serve</code> printed, or ask an admin for a new one.",
        ));
    };
    let user = match state
        .repo
        .consume_login_token(&secret::hash(&token), now)
        .await
    {
        Ok(user) => user,
        Err(DbError::NotFound { .. }) => {
            return Ok(login_failed(
                "This sign-in link no longer works",
                "Each link works once and only for a limited time; this one is unknown, expired or already used. \
                 Run <code>storeplane token login-link</code> where storeplane runs to print a new one, \
                 or ask an admin for one.",
            ));
        }
        Err(other) => return Err(other.into()),
    };
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

/// A page for a person whose sign-in link failed: what happened and what to do (`401`).
fn login_failed(title: &str, explanation: &str) -> Response {
    let page = LOGIN_FAILED_PAGE
        .replace("{title}", title)
        .replace("{explanation}", explanation);
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// Self-contained (inline styles, no script) so it renders even without the dashboard's
/// files, in the dashboard's colours, light or dark.
const LOGIN_FAILED_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Sign-in link no longer works · storeplane</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  :root { --bg: #faf8f5; --card: #fff; --fg: #2f2a24; --muted: #716a61; --border: #e6e1d9; --accent: #b5793a; }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #1d1a17; --card: #25221e; --fg: #ece8e1; --muted: #aaa299; --border: #3a352f; --accent: #d9a25f; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; padding: 1rem;
         background: var(--bg); color: var(--fg); font: 15px/1.55 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { width: 100%; max-width: 28rem; background: var(--card); border: 1px solid var(--border); border-radius: 0.625rem;
         padding: 1.5rem; box-shadow: 0 1px 2px rgb(0 0 0 / 0.05); }
  .brand { display: flex; align-items: center; gap: 0.5rem; font-weight: 600; margin-bottom: 1.25rem; }
  .brand img { width: 1.5rem; height: 1.5rem; }
  h1 { font-size: 1.125rem; margin: 0 0 0.5rem; }
  p { margin: 0 0 1rem; color: var(--muted); }
  code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--fg); }
  a { color: var(--fg); text-decoration-color: var(--accent); text-underline-offset: 3px; }
  a:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 2px; }
</style>
</head>
<body>
<main>
  <div class="brand"><img src="/favicon.svg" alt="">storeplane</div>
  <h1>{title}</h1>
  <p>{explanation}</p>
  <p><a href="/">Open the dashboard</a> if you are already signed in.</p>
</main>
</body>
</html>
"#;

/// The Kubernetes cluster stores are provisioned in.
#[utoipa::path(
    get, path = "/api/v1/cluster", tag = "session",
    responses((status = 200, body = ClusterView), (status = 401, body = ErrorBody))
)]
pub async fn cluster(State(state): State<AppState>, _caller: Caller) -> ApiJson<ClusterView> {
    ApiJson(state.settings.cluster.clone())
}

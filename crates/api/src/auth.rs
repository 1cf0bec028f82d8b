//! Who is calling: API tokens, dashboard sessions, a trusted proxy's header, or nobody
//! (`--auth none`). Handlers take a [`Caller`] and never look at credentials themselves.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use chrono::Utc;
use storeplane_db::DbError;
use storeplane_domain::{Actor, Role, StoreId, User, UserName};

use crate::settings::AuthMode;
use crate::{ApiError, AppState, secret};

/// The cookie that carries a dashboard session id.
pub const SESSION_COOKIE: &str = "storeplane_session";
/// The header a cookie-authenticated, state-changing request must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    Token,
    Session,
    Proxy,
    None,
}

impl AuthVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Session => "session",
            Self::Proxy => "proxy",
            Self::None => "none",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub via: AuthVia,
    /// The session's CSRF token (cookie sessions only).
    pub csrf_token: Option<String>,
    /// Whom rate limits count against: the user, or under `--auth none` (where everyone
    /// is the same local user) the client's address.
    pub identity: String,
}

impl Caller {
    /// Whether the caller may see and act on `owner`'s stores.
    pub fn may_access(&self, owner: &storeplane_domain::UserId) -> bool {
        self.user.role == Role::Admin || self.user.id == *owner
    }

    pub fn actor(&self) -> Actor {
        Actor::User(self.user.name.to_string())
    }

    /// Loads a store the caller may see; another user's store is "not found", exactly
    /// like a store that does not exist, so ids cannot be probed.
    pub async fn visible_store(
        &self,
        state: &AppState,
        id: StoreId,
    ) -> Result<storeplane_domain::Store, ApiError> {
        let store = state.repo.get_store(id).await?;
        if self.may_access(&store.owner) {
            Ok(store)
        } else {
            Err(ApiError::not_found("store"))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = client_address(parts, &state.settings.trusted_proxies);
        let now = Utc::now();
        let caller = |user: User, via, csrf_token| {
            let identity = match via {
                AuthVia::None => format!(
                    "addr:{}",
                    client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
                ),
                _ => format!("user:{}", user.id),
            };
            Caller {
                user,
                via,
                csrf_token,
                identity,
            }
        };

        if state.settings.auth == AuthMode::None {
            let user = state
                .local_user
                .clone()
                .ok_or_else(|| ApiError::internal("no local user in --auth none"))?;
            return Ok(caller(user, AuthVia::None, None));
        }

        if let Some(token) = bearer_token(&parts.headers)? {
            let user = state
                .repo
                .user_by_token_hash(&secret::hash(token), now)
                .await
                .map_err(unauthenticated)?;
            return Ok(caller(user, AuthVia::Token, None));
        }

        if let AuthMode::Proxy { header, trusted } = &state.settings.auth {
            let peer = peer_address(parts);
            let from_proxy = peer.is_some_and(|ip| trusted.iter().any(|net| net.contains(&ip)));
            // A header from anywhere else is ignored: anyone could have set it.
            if from_proxy && let Some(value) = parts.headers.get(header.as_str()) {
                let name = value
                    .to_str()
                    .ok()
                    .and_then(|v| UserName::parse(v.trim()).ok())
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::UNAUTHORIZED,
                            "unauthenticated",
                            format!("the {header} header does not hold a valid user name"),
                        )
                    })?;
                let user = match state.repo.user_by_name(&name).await {
                    Ok(user) => user,
                    Err(DbError::NotFound { .. }) => {
                        state.repo.ensure_user(&name, Role::Member, now).await?
                    }
                    Err(e) => return Err(e.into()),
                };
                return Ok(caller(user, AuthVia::Proxy, None));
            }
        }

        if let Some(session_id) = cookie(&parts.headers, SESSION_COOKIE) {
            let session = state
                .repo
                .session(&secret::hash(session_id), now)
                .await
                .map_err(unauthenticated)?;
            if !is_safe(&parts.method) {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !secret::constant_time_eq(sent, &session.csrf_token) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf",
                        "cookie-authenticated changes need the X-CSRF-Token header from GET /api/v1/session",
                    ));
                }
            }
            return Ok(caller(
                session.user,
                AuthVia::Session,
                Some(session.csrf_token),
            ));
        }

        Err(ApiError::unauthenticated())
    }
}

fn unauthenticated(err: DbError) -> ApiError {
    match err {
        DbError::NotFound { .. } => ApiError::unauthenticated(),
        other => other.into(),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the Authorization header must be `Bearer <token>`",
        )
    };
    let text = value.to_str().map_err(|_| malformed())?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(malformed()),
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

fn peer_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(parts: &Parts, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = peer_address(parts)?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/");
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let mut parts = request.body(()).unwrap().into_parts().0;
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    fn trusted() -> Vec<ipnet::IpNet> {
        vec!["10.0.0.0/8".parse().unwrap()]
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let direct = parts("192.0.2.7:4000", Some("198.51.100.1"));
        assert_eq!(
            client_address(&direct, &trusted()),
            Some("192.0.2.7".parse().unwrap()),
            "a forged header is ignored"
        );
        let proxied = parts("10.0.0.5:4000", Some("198.51.100.1, 10.0.0.9"));
        assert_eq!(
            client_address(&proxied, &trusted()),
            Some("198.51.100.1".parse().unwrap()),
            "the nearest untrusted hop"
        );
        let bare = parts("10.0.0.5:4000", None);
        assert_eq!(
            client_address(&bare, &trusted()),
            Some("10.0.0.5".parse().unwrap())
        );
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; storeplane_session=sps_abc; x=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("sps_abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}

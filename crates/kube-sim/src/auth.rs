//! Authentication and authorization, as a real API server does them in front of every
//! handler: who is calling (a ServiceAccount's bearer token, or kube-sim's admin), then
//! whether RBAC lets them do what the request asks.
//!
//! A request without an `Authorization` header is kube-sim's admin (user
//! `kube-sim:admin`, group `system:masters`), which is unrestricted: that is what the
//! kubeconfig kube-sim writes and [`crate::SimHandle::client`] use, so every client that
//! worked before RBAC existed still does. (A real server would call such a request
//! `system:anonymous`.) A bearer token must be one kube-sim issued through the TokenRequest
//! subresource (`kubectl create token`), for a ServiceAccount that still exists; any other
//! token is `401 Unauthorized`, as upstream.

mod attributes;
mod bootstrap;
mod rbac;
mod review;
mod tokens;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use attributes::Attributes;
pub use bootstrap::bootstrap;
pub use review::{self_subject_access_review, subject_access_review};
pub use tokens::{Tokens, request_token};

use crate::api::AppState;

/// The group whose members every authorizer allows everything, as upstream's.
const MASTERS: &str = "system:masters";

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `system:serviceaccount:NS:NAME`, or `kube-sim:admin`.
    pub name: String,
    /// The ServiceAccount's uid; empty for the admin.
    pub uid: String,
    /// Groups, `system:authenticated` among them.
    pub groups: Vec<String>,
}

impl User {
    /// kube-sim's own admin: what a request without credentials is.
    pub fn admin() -> Self {
        Self {
            name: "kube-sim:admin".into(),
            uid: String::new(),
            groups: vec![MASTERS.into(), "system:authenticated".into()],
        }
    }

    /// The user a ServiceAccount's token authenticates as.
    pub fn service_account(namespace: &str, name: &str, uid: &str) -> Self {
        Self {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            uid: uid.into(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }

    fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }
}

/// Authenticates and authorizes every request before it reaches a handler, and leaves the
/// [`User`] in the request's extensions for handlers that need it (SelfSubjectAccessReview).
pub async fn guard(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match bearer_token(&request) {
        None => User::admin(),
        Some(token) => match state.tokens.authenticate(&state.store, token) {
            Some(user) => user,
            None => return unauthorized(),
        },
    };
    if !user.is_master() {
        let attributes = Attributes::of(request.method(), request.uri());
        if let Err(denied) = authorize(&state, &user, &attributes) {
            return denied.into_response();
        }
        // A server-side apply that creates its object is authorized as a create too:
        // upstream's patch handler runs its create path with create attributes
        // (apiserver/pkg/endpoints/handlers/patch.go, withAuthorization), and refuses with
        // the authorizer's reason, which RBAC leaves empty: `configmaps "x" is forbidden: `.
        if request.method() == Method::PATCH
            && is_apply(&request)
            && let Some(create) =
                attributes.apply_create(|kind, ns, name| state.store.get(kind, ns, name).is_err())
            && !allowed(&state, &user, &create)
        {
            return create.forbidden_without_reason().into_response();
        }
    }
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// Whether RBAC allows `user` the request `attributes` describe; the upstream 403 if not.
pub fn authorize(
    state: &AppState,
    user: &User,
    attributes: &Attributes,
) -> Result<(), crate::error::ApiError> {
    if allowed(state, user, attributes) {
        Ok(())
    } else {
        Err(attributes.forbidden(user))
    }
}

fn allowed(state: &AppState, user: &User, attributes: &Attributes) -> bool {
    user.is_master() || rbac::allows(&state.store, user, attributes)
}

fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    // Any other scheme, or an empty token, is a credential kube-sim does not accept.
    Some(value.strip_prefix("Bearer ").map(str::trim).unwrap_or(""))
}

fn is_apply(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/apply-patch"))
}

/// Upstream's answer to a credential it does not accept.
fn unauthorized() -> Response {
    let status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    });
    (StatusCode::UNAUTHORIZED, axum::Json(status)).into_response()
}

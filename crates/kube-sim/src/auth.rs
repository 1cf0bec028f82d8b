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
//! token is `401 Unauthorized`, as upstream. Any caller allowed the `impersonate` verb
//! (the admin is) may act as another user or ServiceAccount with `Impersonate-User` and
//! `Impersonate-Group` headers: that is how kubectl acts as an account here
//! (`kubectl --as=system:serviceaccount:NS:NAME`), since it sends a token only over TLS.

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
use crate::error::ApiError;

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
    let user = match impersonate(&state, user, &request) {
        Ok(user) => user,
        Err(denied) => return denied.into_response(),
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

/// The user a request acts as: `user`, or the one its `Impersonate-User` header names
/// (`kubectl --as`, with `--as-group` for `Impersonate-Group`), when `user` may impersonate
/// it. As upstream: a ServiceAccount's name (`system:serviceaccount:NS:NAME`) takes the
/// account's groups, any other user only the groups asked for, and both
/// `system:authenticated`; impersonating needs the `impersonate` verb on `users`
/// (`serviceaccounts` in NS for an account, and `groups` for each group).
fn impersonate(state: &AppState, user: User, request: &Request) -> Result<User, ApiError> {
    let headers = request.headers();
    let Some(name) = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(user);
    };
    let groups: Vec<String> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let account = name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'));
    let asked = |resource: &str, namespace: &str, object: &str| Attributes::Resource {
        verb: "impersonate".into(),
        group: String::new(),
        version: "v1".into(),
        resource: resource.into(),
        subresource: String::new(),
        namespace: namespace.into(),
        name: object.into(),
    };
    let mut needed = vec![match account {
        Some((namespace, account)) => asked("serviceaccounts", namespace, account),
        None => asked("users", "", name),
    }];
    needed.extend(groups.iter().map(|group| asked("groups", "", group)));
    for attributes in &needed {
        authorize(state, &user, attributes)?;
    }
    let mut as_user = match account {
        Some((namespace, account)) => User::service_account(namespace, account, ""),
        None => User {
            name: name.to_owned(),
            uid: String::new(),
            groups: Vec::new(),
        },
    };
    for group in groups {
        if !as_user.groups.contains(&group) {
            as_user.groups.push(group);
        }
    }
    if !as_user.groups.iter().any(|g| g == "system:authenticated") {
        as_user.groups.push("system:authenticated".into());
    }
    Ok(as_user)
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

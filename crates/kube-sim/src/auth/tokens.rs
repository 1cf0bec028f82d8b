//! ServiceAccount tokens: issued by the TokenRequest subresource
//! (`POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`, what `kubectl create token`
//! calls) and accepted as bearer tokens until they expire or their ServiceAccount is
//! deleted (a token is bound to the account's uid, so a re-created account of the same
//! name does not inherit it), as upstream's bound tokens are.
//!
//! Tokens are opaque random strings kept in memory, not signed JWTs: nothing outside
//! kube-sim can verify them, and a restarted simulator forgets them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::User;
use crate::api::{AppState, request};
use crate::error::{ApiError, Cause};
use crate::kinds;
use crate::store::{Store, now, uid_of};

/// What a token is valid for when the request does not say (upstream's default).
const DEFAULT_SECONDS: i64 = 3600;
/// The shortest validity upstream accepts.
const MIN_SECONDS: i64 = 600;
/// The audience of tokens that ask for none: the API server's own.
const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// One issued token.
#[derive(Debug, Clone)]
struct Issued {
    namespace: String,
    name: String,
    uid: String,
    expires: DateTime<Utc>,
}

/// Every token issued and not yet found expired.
#[derive(Debug, Default)]
pub struct Tokens(Mutex<HashMap<String, Issued>>);

impl Tokens {
    /// The user `token` authenticates, or `None` when it is unknown, expired, or its
    /// ServiceAccount is gone.
    pub fn authenticate(&self, store: &Store, token: &str) -> Option<User> {
        let mut issued = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let found = issued.get(token)?.clone();
        if found.expires <= Utc::now() {
            issued.remove(token);
            return None;
        }
        drop(issued);
        let account = store
            .get(service_accounts()?, Some(&found.namespace), &found.name)
            .ok()?;
        (uid_of(&account) == found.uid)
            .then(|| User::service_account(&found.namespace, &found.name, &found.uid))
    }

    fn issue(&self, issued: Issued) -> String {
        let token = format!(
            "kube-sim.{}.{:016x}",
            uuid::Uuid::now_v7().simple(),
            crate::random::next_u64()
        );
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), issued);
        token
    }
}

/// `POST .../serviceaccounts/NAME/token`: a TokenRequest answered with a new token.
pub async fn request_token(
    State(state): State<Arc<AppState>>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    issue_token(&state, &namespace, &name, &headers, &body)
        .map_or_else(IntoResponse::into_response, |review| {
            (StatusCode::CREATED, axum::Json(review)).into_response()
        })
}

fn issue_token(
    state: &AppState,
    namespace: &str,
    name: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let kind = service_accounts().ok_or_else(crate::route::unknown_path)?;
    let account = state.store.get(kind, Some(namespace), name)?;
    let requested = if body.is_empty() {
        json!({})
    } else {
        request::decode(headers, body)?
    };
    let spec = &requested["spec"];
    let seconds = spec["expirationSeconds"]
        .as_i64()
        .unwrap_or(DEFAULT_SECONDS);
    let invalid = |message: &str| {
        ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            name,
            vec![Cause::new(
                "FieldValueInvalid",
                format!("Invalid value: {seconds}: {message}"),
                "spec.expirationSeconds",
            )],
        )
    };
    if seconds < MIN_SECONDS {
        return Err(invalid("may not specify a duration less than 10 minutes"));
    }
    if seconds > i64::from(u32::MAX) {
        return Err(invalid(
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    let audiences = match spec["audiences"].as_array() {
        Some(list) if !list.is_empty() => Value::Array(list.clone()),
        _ => json!([API_AUDIENCE]),
    };
    let expires = Utc::now() + chrono::Duration::seconds(seconds);
    let token = state.tokens.issue(Issued {
        namespace: namespace.to_string(),
        name: name.to_string(),
        uid: uid_of(&account).to_string(),
        expires,
    });
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": now()},
        "spec": {
            "audiences": audiences,
            "expirationSeconds": seconds,
            "boundObjectRef": spec.get("boundObjectRef").cloned().unwrap_or(Value::Null),
        },
        "status": {
            "token": token,
            "expirationTimestamp": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    }))
}

fn service_accounts() -> Option<kinds::KindId> {
    kinds::by_path("", "v1", "serviceaccounts")
}

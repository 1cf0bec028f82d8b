//! `authorization.k8s.io/v1` access reviews: SelfSubjectAccessReview (may I? — what
//! `kubectl auth can-i` asks) and SubjectAccessReview (may they?), answered by the same
//! authorizer that guards every request. Like upstream's, they are not stored: the
//! answer is the created object with its `status`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Attributes, User, authorize};
use crate::api::{AppState, request};
use crate::error::{ApiError, Cause};

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
pub async fn self_subject_access_review(
    State(state): State<Arc<AppState>>,
    Extension(user): Extension<User>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, "SelfSubjectAccessReview", &headers, &body, |_| {
        Ok(user)
    })
}

/// `POST /apis/authorization.k8s.io/v1/subjectaccessreviews`: about the user in `spec`.
pub async fn subject_access_review(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, "SubjectAccessReview", &headers, &body, |spec| {
        let name = spec["user"].as_str().unwrap_or_default();
        let groups: Vec<String> = spec["groups"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if name.is_empty() && groups.is_empty() {
            return Err(invalid(
                "SubjectAccessReview",
                "spec.user",
                "Invalid value: \"\": at least one of user or group must be specified",
            ));
        }
        Ok(User {
            name: name.to_string(),
            uid: spec["uid"].as_str().unwrap_or_default().to_string(),
            groups,
        })
    })
}

fn answer(
    state: &AppState,
    kind: &str,
    headers: &HeaderMap,
    body: &[u8],
    subject: impl FnOnce(&Value) -> Result<User, ApiError>,
) -> Response {
    let reviewed = (|| {
        let mut review = request::decode(headers, body)?;
        let attributes = attributes_of(kind, &review["spec"])?;
        let user = subject(&review["spec"])?;
        let allowed = authorize(state, &user, &attributes).is_ok();
        review["apiVersion"] = json!("authorization.k8s.io/v1");
        review["kind"] = json!(kind);
        review["status"] = json!({ "allowed": allowed });
        Ok::<_, ApiError>(review)
    })();
    match reviewed {
        Ok(review) => (StatusCode::CREATED, axum::Json(review)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The request a review's spec asks about: exactly one of `resourceAttributes` and
/// `nonResourceAttributes`, as upstream validates.
fn attributes_of(kind: &str, spec: &Value) -> Result<Attributes, ApiError> {
    let text = |v: &Value, field: &str| v[field].as_str().unwrap_or_default().to_string();
    match (
        spec.get("resourceAttributes").filter(|v| v.is_object()),
        spec.get("nonResourceAttributes").filter(|v| v.is_object()),
    ) {
        (Some(r), None) => Ok(Attributes::resource(
            &text(r, "verb"),
            &text(r, "group"),
            &text(r, "resource"),
            &text(r, "subresource"),
            &text(r, "namespace"),
            &text(r, "name"),
        )),
        (None, Some(n)) => Ok(Attributes::NonResource {
            verb: text(n, "verb"),
            path: text(n, "path"),
        }),
        (Some(_), Some(_)) => Err(invalid(
            kind,
            "spec.nonResourceAttributes",
            "Invalid value: \"\": cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => Err(invalid(
            kind,
            "spec.resourceAttributes",
            "Invalid value: \"null\": exactly one of nonResourceAttributes or \
             resourceAttributes must be specified",
        )),
    }
}

fn invalid(kind: &str, field: &str, message: &str) -> ApiError {
    ApiError::invalid(
        "authorization.k8s.io",
        kind,
        "",
        vec![Cause::new("FieldValueInvalid", message, field)],
    )
}

//! API errors, rendered as Kubernetes `Status` objects.
//!
//! Clients (kube-rs, kubectl) decide what to do from `reason` and `code`, so each variant
//! maps to exactly the pair the real API server uses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One cause inside `Status.details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable cause (`FieldValueRequired`, `FieldManagerConflict`, ...).
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
    /// The field path the cause is about.
    pub field: String,
}

impl Cause {
    /// A cause about `field`.
    pub fn new(reason: &str, message: impl Into<String>, field: impl Into<String>) -> Self {
        Self {
            reason: reason.to_string(),
            message: message.into(),
            field: field.into(),
        }
    }
}

/// The object an error is about, for `Status.details`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// API group (empty for core).
    pub group: String,
    /// Lower-case plural (the real server puts the resource here, not the kind).
    pub kind: String,
    /// Object name.
    pub name: String,
}

/// An error the API answers with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 404: the object or path does not exist.
    #[error("{message}")]
    NotFound {
        /// Full message.
        message: String,
        /// What was not found.
        subject: Subject,
    },
    /// 409: create of an object that already exists.
    #[error("{message}")]
    AlreadyExists {
        /// Full message.
        message: String,
        /// What exists.
        subject: Subject,
    },
    /// 409: stale resourceVersion, or a server-side apply conflict.
    #[error("{message}")]
    Conflict {
        /// Full message.
        message: String,
        /// The object.
        subject: Subject,
        /// Field manager conflicts, when from server-side apply.
        causes: Vec<Cause>,
    },
    /// 422: the object is not valid.
    #[error("{message}")]
    Invalid {
        /// Full message.
        message: String,
        /// The object (kind is the Kind here, as the real server reports it).
        subject: Subject,
        /// What is wrong.
        causes: Vec<Cause>,
    },
    /// 403: refused, for example creating in a terminating namespace.
    #[error("{message}")]
    Forbidden {
        /// Full message.
        message: String,
        /// The object.
        subject: Subject,
    },
    /// 400: the request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 405: the verb is not supported on this path.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// 415: unknown patch type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 410: a continue token or resourceVersion that is too old.
    #[error("{0}")]
    Expired(String),
    /// 500 with no reason: what upstream answers an error its handlers never turned into
    /// a `Status` with (a server-side apply of a field the schema does not declare).
    #[error("{0}")]
    Unclassified(String),
    /// An injected fault: 500, 503, 429 or 409 as configured.
    #[error("{message}")]
    Injected {
        /// HTTP status code to answer with.
        code: u16,
        /// Full message.
        message: String,
    },
}

impl ApiError {
    /// A 404 for `resource` named `name`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::NotFound {
            message: format!("{qualified} \"{name}\" not found"),
            subject: subject(group, resource, name),
        }
    }

    /// A 409 AlreadyExists for `resource` named `name`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::AlreadyExists {
            message: format!("{qualified} \"{name}\" already exists"),
            subject: subject(group, resource, name),
        }
    }

    /// A 409 Conflict for a stale `resourceVersion`.
    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        Self::Conflict {
            message: format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
            subject: subject(group, resource, name),
            causes: Vec::new(),
        }
    }

    /// A 422 Invalid for `kind` named `name`; the message names the kind qualified by its
    /// group (`Job.batch`), as the real server's does.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let details: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        // Upstream's aggregate error brackets a list of more than one.
        let details = match details.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        Self::Invalid {
            message: format!(
                "{} \"{name}\" is invalid: {details}",
                qualified(group, kind),
            ),
            subject: Subject {
                group: group.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
            },
            causes,
        }
    }

    /// The 403 the real server gives for creating inside a terminating namespace.
    pub fn namespace_terminating(group: &str, resource: &str, name: &str, ns: &str) -> Self {
        Self::Forbidden {
            message: format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} \
                 because it is being terminated",
                qualified(group, resource)
            ),
            subject: subject(group, resource, name),
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::AlreadyExists { .. } | Self::Conflict { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::Forbidden { .. } => 403,
            Self::BadRequest(_) => 400,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMediaType(_) => 415,
            Self::Expired(_) => 410,
            Self::Unclassified(_) => 500,
            Self::Injected { code, .. } => *code,
        }
    }

    /// The `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NotFound",
            Self::AlreadyExists { .. } => "AlreadyExists",
            Self::Conflict { .. } => "Conflict",
            Self::Invalid { .. } => "Invalid",
            Self::Forbidden { .. } => "Forbidden",
            Self::BadRequest(_) => "BadRequest",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::UnsupportedMediaType(_) => "UnsupportedMediaType",
            Self::Expired(_) => "Expired",
            Self::Unclassified(_) => "",
            Self::Injected { code, .. } => match code {
                429 => "TooManyRequests",
                503 => "ServiceUnavailable",
                409 => "Conflict",
                _ => "InternalError",
            },
        }
    }

    /// The error as a `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        if self.reason().is_empty()
            && let Some(status) = status.as_object_mut()
        {
            status.remove("reason");
        }
        let (subject, causes) = match self {
            Self::NotFound { subject, .. }
            | Self::AlreadyExists { subject, .. }
            | Self::Forbidden { subject, .. } => (Some(subject), &[][..]),
            Self::Conflict {
                subject, causes, ..
            }
            | Self::Invalid {
                subject, causes, ..
            } => (Some(subject), causes.as_slice()),
            _ => (None, &[][..]),
        };
        if let Some(subject) = subject {
            let mut details = json!({ "name": subject.name, "kind": subject.kind });
            if !subject.group.is_empty() {
                details["group"] = json!(subject.group);
            }
            if !causes.is_empty() {
                details["causes"] = causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect();
            }
            status["details"] = details;
        }
        if let Self::Injected {
            code: 429 | 503, ..
        } = self
        {
            status["details"] = json!({ "retryAfterSeconds": 1 });
        }
        status
    }
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn subject(group: &str, resource: &str, name: &str) -> Subject {
    Subject {
        group: group.to_string(),
        kind: resource.to_string(),
        name: name.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (code, axum::Json(self.to_status())).into_response();
        if matches!(
            self,
            Self::Injected {
                code: 429 | 503,
                ..
            }
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_qualified_resource() {
        let status = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["code"], 404);
        assert_eq!(status["details"]["group"], "apps");
    }

    #[test]
    fn invalid_lists_its_causes() {
        let cause = Cause::new("FieldValueRequired", "Required value", "metadata.name");
        let status = ApiError::invalid("", "ConfigMap", "", vec![cause]).to_status();
        assert_eq!(status["code"], 422);
        assert_eq!(status["details"]["causes"][0]["field"], "metadata.name");
    }

    #[test]
    fn throttling_carries_retry_after() {
        let error = ApiError::Injected {
            code: 429,
            message: "slow down".into(),
        };
        let response = error.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}

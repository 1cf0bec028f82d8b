//! The one error type handlers return, and the one JSON shape every error takes:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//!
//! Extractor rejections (bad JSON, a wrong content type, a bad query string) and metadata
//! store errors convert into it here, once, so no handler repeats a match-log-respond
//! block. Internal detail is logged when the error becomes a response and never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use storeplane_db::DbError;
use storeplane_domain::{ChangeRefused, RollbackRefused};

use crate::dto::{ErrorBody, ErrorDetail};

/// An error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable, machine-readable code (`not_found`, `invalid_name`, ...).
    pub code: &'static str,
    /// What happened, in words a person can act on.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// Logged, never sent.
    internal: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            internal: None,
        }
    }

    /// Points the error at a request field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in: send `Authorization: Bearer <token>` (see `storeplane token create`) or open the login link",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; retry in {} s", retry_after.max(1)),
            )
        }
    }

    /// A failure of ours, not the client's: a generic message goes out, `detail` to the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self {
            internal: Some(detail.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the server log",
            )
        }
    }

    /// A dependency is down (the database, the cluster): retrying later may help.
    pub fn unavailable(what: &str, detail: impl std::fmt::Display) -> Self {
        Self {
            internal: Some(detail.to_string()),
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("{what} is unavailable; retry later"),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(detail) = &self.internal {
            tracing::error!(code = self.code, status = self.status.as_u16(), error = %detail, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound { what } => Self::not_found(what),
            DbError::NameTaken { name } => Self::conflict(
                "name_taken",
                format!("a store named {name:?} already exists; choose another name"),
            )
            .with_field("name"),
            DbError::QuotaExceeded { limit } => Self::conflict(
                "quota_exceeded",
                format!(
                    "you have reached the limit of {limit} live stores; delete one to create another"
                ),
            ),
            DbError::IdempotencyConflict => Self::conflict(
                "idempotency_conflict",
                "this Idempotency-Key was already used with a different request body; use a new key",
            ),
            DbError::IllegalTransition(e) => Self::conflict("conflict", e.to_string()),
            DbError::ChangeRefused(refused) => Self::from(refused),
            DbError::RollbackRefused(refused) => Self::from(refused),
            DbError::ResetRefused(e) => {
                let code = match e {
                    storeplane_db::ResetRefused::NotReady { .. } => "not_ready",
                    storeplane_db::ResetRefused::ResetInProgress
                    | storeplane_db::ResetRefused::RevisionInFlight { .. } => {
                        "operation_in_progress"
                    }
                };
                Self::conflict(code, e.to_string())
            }
            DbError::BackupRefused(e) => {
                let code = match e {
                    storeplane_db::BackupRefused::NotReady { .. } => "not_ready",
                    storeplane_db::BackupRefused::InProgress { .. } => "backup_in_progress",
                    storeplane_db::BackupRefused::RevisionInFlight { .. } => "revision_in_flight",
                    storeplane_db::BackupRefused::ResetInProgress => "password_reset_in_progress",
                    storeplane_db::BackupRefused::NotRestorable { .. } => "backup_not_restorable",
                    storeplane_db::BackupRefused::OtherStore { .. } => "backup_of_another_store",
                    storeplane_db::BackupRefused::NotDeleted { .. } => "not_deleted",
                };
                Self::conflict(code, e.to_string())
            }
            e if e.is_transient() => Self::unavailable("the metadata store", error_chain(&e)),
            e => Self::internal(error_chain(&e)),
        }
    }
}

impl From<ChangeRefused> for ApiError {
    fn from(refused: ChangeRefused) -> Self {
        let message = refused.to_string();
        match refused {
            ChangeRefused::InProgress { .. } => Self::conflict("operation_in_progress", message),
            ChangeRefused::Stale { .. } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "stale_revision", message)
                    .with_field("If-Match")
            }
            ChangeRefused::NotChangeable { .. } => Self::conflict("not_changeable", message),
            ChangeRefused::LeftFailed { .. } => Self::conflict("left_failed", message),
        }
    }
}

impl From<RollbackRefused> for ApiError {
    fn from(refused: RollbackRefused) -> Self {
        match refused {
            RollbackRefused::UnknownRevision { .. } => Self::new(
                StatusCode::NOT_FOUND,
                "unknown_revision",
                refused.to_string(),
            )
            .with_field("revision"),
            RollbackRefused::AlreadyDeployed { .. } => {
                Self::conflict("already_deployed", refused.to_string())
            }
            RollbackRefused::InProgress { .. } => {
                Self::conflict("operation_in_progress", refused.to_string())
            }
            RollbackRefused::WouldDowngradeData {
                since,
                checkpoint,
                restored_backup,
            } => {
                let head = storeplane_domain::replaced_data(since, restored_backup);
                let message = match checkpoint {
                    Some(checkpoint) => format!(
                        "{head}; send \"restore_checkpoint\": true to restore the checkpoint taken before revision {since} (at {}) first: every order written since then is lost",
                        checkpoint
                            .taken_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    None => format!(
                        "{head}, and no checkpoint was taken before it that could be restored"
                    ),
                };
                Self::conflict("would_lose_data", message)
            }
            RollbackRefused::NoManifest { .. } => {
                Self::conflict("manifest_pruned", refused.to_string())
            }
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON, with `Content-Type: application/json`",
            ),
            JsonRejection::JsonSyntaxError(e) => Self::bad_request(
                "invalid_json",
                format!("the body is not valid JSON: {}", inner_text(&e.body_text())),
            ),
            JsonRejection::JsonDataError(e) => {
                let text = inner_text(&e.body_text());
                let (code, field) = if let Some(field) = backticked(&text, "unknown field `") {
                    ("unknown_field", Some(field))
                } else if let Some(field) = backticked(&text, "missing field `") {
                    ("missing_field", Some(field))
                } else {
                    ("invalid_body", None)
                };
                let error = Self::unprocessable(code, format!("the body does not fit: {text}"));
                match field {
                    Some(field) => error.with_field(field),
                    None => error,
                }
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the body is larger than {} KiB",
                    crate::settings::MAX_BODY_BYTES / 1024
                ),
            ),
            other => Self::bad_request("bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(
            "bad_request",
            format!("bad query string: {}", inner_text(&rejection.body_text())),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request("bad_request", rejection.body_text())
    }
}

/// axum prefixes serde's message with its own ("Failed to deserialize the JSON body into
/// the target type: "); keep only serde's part, which names the field and position.
fn inner_text(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

fn backticked(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let len = text[start..].find('`')?;
    Some(text[start..start + len].to_owned())
}

/// `Json<T>` whose rejection speaks the API's error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// An optional JSON body: none at all (no `Content-Type`, nothing sent) or `null` is
/// `None`, so a bare `POST` works where every field is optional; anything else sent is
/// read as [`ApiJson`] reads it, with the same errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> axum::extract::FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if request.headers().contains_key(header::CONTENT_TYPE) {
            // JSON `null` is no body too; anything but an object is refused (serde would
            // read a struct of optional fields from `[]`).
            let ApiJson(value) = ApiJson::<serde_json::Value>::from_request(request, state).await?;
            return match value {
                serde_json::Value::Null => Ok(Self(None)),
                serde_json::Value::Object(_) => serde_json::from_value(value)
                    .map(|body| Self(Some(body)))
                    .map_err(|e| {
                        ApiError::unprocessable(
                            "invalid_body",
                            format!("the body does not fit: {e}"),
                        )
                    }),
                _ => Err(ApiError::unprocessable(
                    "invalid_body",
                    "the body must be a JSON object (or nothing at all)",
                )),
            };
        }
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request("bad_request", e.body_text()))?;
        if body.is_empty() {
            Ok(Self(None))
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON, with `Content-Type: application/json`",
            ))
        }
    }
}

/// `Query<T>` whose rejection speaks the API's error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The answer for a path nothing serves (the dashboard's fallback gives it for paths that
/// are neither a route nor a dashboard page).
pub fn unknown_path() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /openapi.json",
    )
}

/// Answers for a known path with a method it does not serve.
pub async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not serve that method",
    )
}

//! What can go wrong talking to storeplane, told so that a person knows what to do next:
//! the API's own error (code, message, field, status), a server that cannot be reached, a
//! server that took too long, or something answering that is not storeplane.
//!
//! No variant ever holds the API token: requests carry it in a header marked sensitive,
//! and errors keep only the server URL and what went wrong.

use std::time::Duration;

/// The API answered with its error shape (`{"error": {"code", "message", "field"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The HTTP status, e.g. 404.
    pub status: u16,
    /// Stable and machine-readable, e.g. `not_found`.
    pub code: String,
    /// What happened, in words a person can act on.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// From `Retry-After` on `429 rate_limited`: seconds to wait before trying again.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        // The server's message says what is wrong; these say what the CLI user can change.
        match (self.code.as_str(), self.retry_after) {
            ("unauthenticated", _) => f.write_str(" (pass --token or set STOREPLANE_TOKEN)"),
            ("rate_limited", Some(secs)) => write!(f, " (try again in {secs}s)"),
            ("would_lose_data", _) if self.message.contains("restore_checkpoint") => {
                f.write_str(" (from the CLI: pass --restore-checkpoint)")
            }
            ("stale_revision", _) => {
                f.write_str(" (`storeplane store history NAME` shows where it stands)")
            }
            _ => Ok(()),
        }
    }
}

/// A failure of one call to the storeplane API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server understood the request and refused it.
    #[error("{0}")]
    Api(ApiFailure),

    /// Nothing answered at the server URL (refused, DNS, TLS, connection reset).
    #[error("cannot reach storeplane at {url}: {reason}")]
    Unreachable { url: String, reason: String },

    /// The server did not answer in time.
    #[error("storeplane at {url} did not answer within {}s", after.as_secs())]
    TimedOut { url: String, after: Duration },

    /// Something answered, but not with storeplane's JSON: a wrong `--server`, a proxy's
    /// error page, or a server of another version.
    #[error(
        "the server at {url} answered HTTP {status} with something that is not storeplane JSON ({detail}); is --server right?"
    )]
    NotStoreplane {
        url: String,
        status: u16,
        detail: String,
    },

    /// No store has the given name.
    #[error("no store named {name:?}")]
    NoSuchName { name: String },

    /// Several stores have the given name (only one of them can be live; the others are
    /// deleted ones kept for history), and none stands out.
    #[error("{} stores are named {name:?} ({}); use the store's id instead", ids.len(), ids.join(", "))]
    AmbiguousName { name: String, ids: Vec<String> },

    /// The `--server` value is not an http(s) URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidServerUrl { url: String, reason: String },

    /// The token cannot be sent as an HTTP header (a control character, say).
    #[error("the API token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,

    /// The HTTP client could not be built (no usable TLS configuration, say).
    #[error("failed to set up the HTTP client: {reason}")]
    Setup { reason: String },

    /// The live update stream broke and could not be resumed.
    #[error("lost the live updates from storeplane at {url}: {reason}")]
    LiveUpdatesLost { url: String, reason: String },
}

impl ClientError {
    /// The API's error code (`not_found`, `name_taken`, ...), when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(failure) => Some(&failure.code),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(failure) => Some(failure.status),
            Self::NotStoreplane { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the store asked for does not exist (by id or by name).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NoSuchName { .. }) || self.code() == Some("not_found")
    }

    /// Whether trying again later may succeed: the connection failed, timed out, or the
    /// server said it is briefly unavailable.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::TimedOut { .. } | Self::LiveUpdatesLost { .. } => true,
            Self::Api(failure) => failure.status == 503 || failure.status == 429,
            _ => false,
        }
    }

    /// Classifies a transport failure. `url` is the server's base URL, which never holds
    /// the token.
    pub(crate) fn transport(url: &str, timeout: Duration, err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::TimedOut {
                url: url.to_owned(),
                after: timeout,
            }
        } else {
            Self::Unreachable {
                url: url.to_owned(),
                reason: root_cause(err),
            }
        }
    }
}

/// The innermost cause of an error, which is the part that says what happened
/// ("Connection refused (os error 111)") rather than where ("error sending request").
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn failure(code: &str, retry_after: Option<u64>) -> ApiFailure {
        ApiFailure {
            status: 401,
            code: code.to_owned(),
            message: "missing credentials".to_owned(),
            field: None,
            retry_after,
        }
    }

    #[test]
    fn an_unauthenticated_answer_says_how_to_pass_a_token() {
        let err = ClientError::Api(failure("unauthenticated", None));
        assert_eq!(
            err.to_string(),
            "missing credentials (pass --token or set STOREPLANE_TOKEN)"
        );
    }

    #[test]
    fn a_rate_limited_answer_says_when_to_try_again() {
        let err = ClientError::Api(ApiFailure {
            status: 429,
            ..failure("rate_limited", Some(3))
        });
        assert_eq!(err.to_string(), "missing credentials (try again in 3s)");
        assert!(err.is_transient());
    }

    #[test]
    fn an_ambiguous_name_lists_the_ids_to_choose_from() {
        let err = ClientError::AmbiguousName {
            name: "acme".to_owned(),
            ids: vec!["a".to_owned(), "b".to_owned()],
        };
        assert_eq!(
            err.to_string(),
            "2 stores are named \"acme\" (a, b); use the store's id instead"
        );
    }
}

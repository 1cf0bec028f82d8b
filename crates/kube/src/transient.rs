//! Which Kubernetes client errors are worth retrying.

/// True when `error` may go away by itself: a server error (5xx), throttling (429), a
/// request timeout, or a connection that failed. Client errors such as `Invalid` (422),
/// `Forbidden` (403) or `NotFound` (404) are permanent: retrying sends the same request.
pub(crate) fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || matches!(status.code, 408 | 429),
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure("boom", "Reason").with_code(code)))
    }

    #[test]
    fn server_errors_and_throttling_are_transient() {
        for code in [500, 502, 503, 504, 429] {
            assert!(is_transient(&api_error(code)), "{code}");
        }
    }

    #[test]
    fn client_errors_are_permanent() {
        for code in [400, 403, 404, 409, 422] {
            assert!(!is_transient(&api_error(code)), "{code}");
        }
    }
}

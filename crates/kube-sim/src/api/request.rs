//! Reading requests: query parameters, bodies (JSON or YAML) and the field manager.

use std::collections::HashMap;

use axum::http::{HeaderMap, Uri, header};
use serde_json::Value;

use crate::error::ApiError;
use crate::selector::{FieldSelector, LabelSelector};
use crate::validation::schema::FieldValidation;

/// Query parameters; the last occurrence of a repeated name wins.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses the query string of `uri`.
    pub fn parse(uri: &Uri) -> Result<Self, ApiError> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::BadRequest(format!("failed to parse query: {e}")))?;
        Ok(Self(pairs.0.into_iter().collect()))
    }

    /// One parameter, when present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter (`true` or `1`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    /// A numeric parameter; garbage is a 400.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::BadRequest(format!("invalid {name} {v:?}")))
            })
            .transpose()
    }

    /// `labelSelector`.
    pub fn labels(&self) -> Result<LabelSelector, ApiError> {
        LabelSelector::parse(self.get("labelSelector").unwrap_or_default())
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }

    /// `fieldSelector`.
    pub fn fields(&self) -> Result<FieldSelector, ApiError> {
        FieldSelector::parse(self.get("fieldSelector").unwrap_or_default())
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// Whether the write is a dry run: `dryRun=All` (the only value the real server knows;
/// it answers any other with the `Invalid` status of the verb's options, `options`:
/// `CreateOptions`, `UpdateOptions`, `PatchOptions` or `DeleteOptions`).
pub fn dry_run(params: &Params, options: &str) -> Result<bool, ApiError> {
    match params.get("dryRun") {
        None => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            "meta.k8s.io",
            options,
            "",
            vec![crate::error::Cause::new(
                "FieldValueNotSupported",
                format!("Unsupported value: \"{other}\": supported values: \"All\""),
                "dryRun",
            )],
        )),
    }
}

/// The `fieldValidation` directive (`Warn` when absent, as upstream); `options` as for
/// [`dry_run`].
pub fn field_validation(params: &Params, options: &str) -> Result<FieldValidation, ApiError> {
    FieldValidation::parse(params.get("fieldValidation"), options)
}

/// The request's content type, lower-cased, without parameters.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Decodes a JSON body, or a YAML one when the content type says so.
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = content_type(headers);
    if content_type.contains("protobuf") {
        // kubectl's typed generators (`kubectl create namespace X`) send protobuf.
        return super::protobuf::decode(body);
    }
    let yaml = content_type.contains("yaml");
    decode_as(body, yaml)
}

/// Decodes `body` as JSON, or as YAML when `yaml` (JSON is tried first either way, since
/// clients often send JSON under a YAML content type and it is much faster to parse).
pub fn decode_as(body: &[u8], yaml: bool) -> Result<Value, ApiError> {
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(json_error) if !yaml => Err(ApiError::BadRequest(format!(
            "failed to decode request body as JSON: {json_error}"
        ))),
        Err(_) => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::BadRequest("request body is not UTF-8".into()))?;
            serde_saphyr::from_str(text).map_err(|e| {
                ApiError::BadRequest(format!("failed to decode request body as YAML: {e}"))
            })
        }
    }
}

/// The field manager: the `fieldManager` parameter, else the User-Agent's product name
/// (what the real server derives when none is given).
pub fn field_manager(params: &Params, headers: &HeaderMap) -> String {
    if let Some(manager) = params.get("fieldManager") {
        return manager.to_string();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// Whether the client asked for `Table` output (kubectl get).
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("as=Table"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn yaml_bodies_decode_when_labelled_yaml() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/apply-patch+yaml"),
        );
        let value = decode(&headers, b"metadata:\n  name: x\n").expect("yaml decodes");
        assert_eq!(value["metadata"]["name"], "x");
    }

    #[test]
    fn protobuf_bodies_are_refused_with_a_hint() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.kubernetes.protobuf"),
        );
        let error = decode(&headers, b"k8s\0").expect_err("not supported");
        assert_eq!(error.code(), 415);
        assert!(error.to_string().contains("kubectl apply -f"));
    }

    #[test]
    fn only_dry_run_all_is_a_dry_run() {
        let params = |query: &str| {
            Params::parse(
                &format!("/api/v1/namespaces?{query}")
                    .parse()
                    .expect("a uri"),
            )
            .expect("parses")
        };
        assert!(!dry_run(&params(""), "CreateOptions").expect("no dry run"));
        assert!(dry_run(&params("dryRun=All"), "CreateOptions").expect("a dry run"));
        let error = dry_run(&params("dryRun=Yes"), "PatchOptions").expect_err("unknown value");
        assert_eq!(error.code(), 422);
        assert!(
            error.to_string().contains("supported values: \"All\""),
            "{error}"
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let error = decode(&HeaderMap::new(), b"{nope").expect_err("not json");
        assert_eq!(error.code(), 400);
    }

    #[test]
    fn the_field_manager_defaults_to_the_user_agent_product() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static("kubectl/v1.32.4 (linux/amd64)"),
        );
        assert_eq!(field_manager(&Params::default(), &headers), "kubectl");
    }
}

//! The typed storeplane API client: one method per endpoint of `docs/api.md`, speaking the
//! API's own JSON types so that client and server can never disagree on a field.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use storeplane_api::dto::{
    BackupList, BackupView, ChangeResponse, ChangeStoreRequest, CreateBackupRequest,
    CreateStoreRequest, CredentialsView, ErrorBody, EventView, Page, ReleaseView, ResetResponse,
    RevisionDetail, RevisionDiff, RevisionView, RollbackRequest, SessionView, StoreView,
};
use storeplane_domain::{RevisionNumber, StoreId, StoreStatus};

use crate::error::{ApiFailure, ClientError};
use crate::live::LiveUpdates;

/// How long one API call may take, connection included. Live updates are exempt: their
/// stream stays open for as long as the caller reads it.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest page the API serves; name lookups ask for it to need as few round trips
/// as possible.
const MAX_PAGE: u32 = 200;

/// A client of one storeplane server, authenticated by an optional API token.
///
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The server's base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    server: String,
    /// `Bearer <token>`, marked sensitive so that it never shows in `Debug` output.
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("token", &self.authorization.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Client {
    /// A client of the server at `server_url` (`http://` or `https://`, optionally with a
    /// path prefix when storeplane sits behind a proxy).
    pub fn new(server_url: &str, token: Option<String>) -> Result<Self, ClientError> {
        let server = parse_server_url(server_url)?;
        let authorization = match token.filter(|t| !t.is_empty()) {
            Some(token) => {
                let mut value = HeaderValue::try_from(format!("Bearer {token}"))
                    .map_err(|_| ClientError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        // reqwest is built without a default TLS provider so that the binary picks one;
        // installing fails harmlessly when another part of the process already did.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("storeplane-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(DEFAULT_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Setup {
                reason: crate::error::root_cause(&e),
            })?;
        Ok(Self {
            http,
            server,
            authorization,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// The same client with another limit on how long one API call may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The server's base URL, as errors and messages show it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Who the caller is: `GET /api/v1/session`.
    pub async fn session(&self) -> Result<SessionView, ClientError> {
        self.call(self.request(Method::GET, "session")).await
    }

    /// Asks for a new store: `POST /api/v1/stores`. With an idempotency key, sending the
    /// same request again returns the same store instead of creating a second one.
    pub async fn create_store(
        &self,
        request: &CreateStoreRequest,
        idempotency_key: Option<&str>,
    ) -> Result<StoreView, ClientError> {
        let mut builder = self.request(Method::POST, "stores").json(request);
        if let Some(key) = idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        self.call(builder).await
    }

    /// One page of the caller's stores, newest first: `GET /api/v1/stores`.
    pub async fn list_stores(
        &self,
        status: Option<StoreStatus>,
        name: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<StoreView>, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = status {
            query.push(("status", status.to_string()));
        }
        if let Some(name) = name {
            query.push(("name", name.to_owned()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        self.call(self.request(Method::GET, "stores").query(&query))
            .await
    }

    /// One store: `GET /api/v1/stores/{id}`.
    pub async fn get_store(&self, id: StoreId) -> Result<StoreView, ClientError> {
        self.call(self.request(Method::GET, &format!("stores/{id}")))
            .await
    }

    /// Starts tearing a store down: `DELETE /api/v1/stores/{id}`. Deleting a store that is
    /// already deleting or deleted returns it as it is.
    pub async fn delete_store(&self, id: StoreId) -> Result<StoreView, ClientError> {
        self.call(self.request(Method::DELETE, &format!("stores/{id}")))
            .await
    }

    /// Gives a failed store a fresh provisioning job: `POST /api/v1/stores/{id}/retry`.
    pub async fn retry_store(&self, id: StoreId) -> Result<StoreView, ClientError> {
        self.call(self.request(Method::POST, &format!("stores/{id}/retry")))
            .await
    }

    /// One page of a store's timeline, oldest first: `GET /api/v1/stores/{id}/events`.
    pub async fn store_events(
        &self,
        id: StoreId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<EventView>, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let path = format!("stores/{id}/events");
        self.call(self.request(Method::GET, &path).query(&query))
            .await
    }

    /// The store's initial admin credentials: `POST /api/v1/stores/{id}/credentials/reveal`.
    /// The server shows them once; afterwards this fails with `credentials_revealed`.
    pub async fn reveal_credentials(&self, id: StoreId) -> Result<CredentialsView, ClientError> {
        let path = format!("stores/{id}/credentials/reveal");
        self.call(self.request(Method::POST, &path)).await
    }

    /// Changes a store's release, plan or title: `PATCH /api/v1/stores/{id}`. With
    /// `if_match`, refused (`412 stale_revision`) when the store's latest revision is
    /// another.
    pub async fn change_store(
        &self,
        id: StoreId,
        request: &ChangeStoreRequest,
        if_match: Option<RevisionNumber>,
    ) -> Result<ChangeResponse, ClientError> {
        let mut builder = self
            .request(Method::PATCH, &format!("stores/{id}"))
            .json(request);
        if let Some(number) = if_match {
            builder = builder.header(reqwest::header::IF_MATCH, format!("\"{number}\""));
        }
        self.call(builder).await
    }

    /// Rolls a store back: `POST /api/v1/stores/{id}/rollback`.
    pub async fn rollback_store(
        &self,
        id: StoreId,
        request: &RollbackRequest,
    ) -> Result<ChangeResponse, ClientError> {
        let path = format!("stores/{id}/rollback");
        self.call(self.request(Method::POST, &path).json(request))
            .await
    }

    /// One page of a store's revisions, newest first: `GET /api/v1/stores/{id}/revisions`.
    pub async fn list_revisions(
        &self,
        id: StoreId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<RevisionView>, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let path = format!("stores/{id}/revisions");
        self.call(self.request(Method::GET, &path).query(&query))
            .await
    }

    /// One revision with its manifest: `GET /api/v1/stores/{id}/revisions/{number}`.
    pub async fn get_revision(
        &self,
        id: StoreId,
        number: RevisionNumber,
    ) -> Result<RevisionDetail, ClientError> {
        let path = format!("stores/{id}/revisions/{number}");
        self.call(self.request(Method::GET, &path)).await
    }

    /// The unified diff of two revisions' manifests:
    /// `GET /api/v1/stores/{id}/revisions/{from}/diff/{to}`.
    pub async fn diff_revisions(
        &self,
        id: StoreId,
        from: RevisionNumber,
        to: RevisionNumber,
    ) -> Result<RevisionDiff, ClientError> {
        let path = format!("stores/{id}/revisions/{from}/diff/{to}");
        self.call(self.request(Method::GET, &path)).await
    }

    /// The platform's release catalog: `GET /api/v1/releases`.
    pub async fn releases(&self) -> Result<Vec<ReleaseView>, ClientError> {
        self.call(self.request(Method::GET, "releases")).await
    }

    /// Resets the store's admin password: `POST /api/v1/stores/{id}/credentials/reset`.
    /// Accepted at once; the store's timeline says when the new credentials can be
    /// revealed.
    pub async fn reset_password(&self, id: StoreId) -> Result<ResetResponse, ClientError> {
        let path = format!("stores/{id}/credentials/reset");
        self.call(self.request(Method::POST, &path)).await
    }

    /// Backs the store up now: `POST /api/v1/stores/{id}/backups`. Accepted at once; the
    /// backup is `pending` until a worker takes it.
    pub async fn create_backup(
        &self,
        id: StoreId,
        request: &CreateBackupRequest,
    ) -> Result<BackupView, ClientError> {
        let path = format!("stores/{id}/backups");
        self.call(self.request(Method::POST, &path).json(request))
            .await
    }

    /// Restores one of the store's backups in place: `POST /api/v1/stores/{id}/restore`.
    pub async fn restore_store(
        &self,
        id: StoreId,
        request: &storeplane_api::dto::RestoreRequest,
    ) -> Result<ChangeResponse, ClientError> {
        let path = format!("stores/{id}/restore");
        self.call(self.request(Method::POST, &path).json(request))
            .await
    }

    /// The store's backups, newest first: `GET /api/v1/stores/{id}/backups`.
    pub async fn list_backups(&self, id: StoreId) -> Result<BackupList, ClientError> {
        let path = format!("stores/{id}/backups");
        self.call(self.request(Method::GET, &path)).await
    }

    /// The store a person named on the command line: a UUID is fetched by id; anything
    /// else is looked up by name and must match exactly one store.
    ///
    /// Deleted stores keep their name for history while a new store may take it, so when
    /// several stores share the name and exactly one of them is not deleted, that one is
    /// meant; otherwise the name is ambiguous.
    pub async fn resolve(&self, id_or_name: &str) -> Result<StoreView, ClientError> {
        if let Ok(id) = id_or_name.parse::<StoreId>() {
            return self.get_store(id).await;
        }
        let mut named = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .list_stores(None, Some(id_or_name), Some(MAX_PAGE), cursor.as_deref())
                .await?;
            named.extend(page.items.into_iter().filter(|s| s.name == id_or_name));
            match page.next_cursor {
                // A server repeating a cursor would otherwise keep us here forever.
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => break,
            }
        }
        pick_by_name(id_or_name, named)
    }

    /// Live updates of every store the caller may see: `GET /api/v1/events`.
    ///
    /// Returns once the server has accepted the subscription, so every event written after
    /// this returns is delivered. With `last_event_id`, the server first replays the events
    /// after that one. A dropped connection is resumed from the last event received.
    pub async fn subscribe(&self, last_event_id: Option<i64>) -> Result<LiveUpdates, ClientError> {
        LiveUpdates::connect(self.clone(), last_event_id).await
    }

    /// Opens the server-sent-event stream, resuming after `last_event_id`.
    pub(crate) async fn open_events(
        &self,
        last_event_id: Option<i64>,
    ) -> Result<Response, ClientError> {
        let mut builder = self
            .authorized(Method::GET, "events")
            .header(ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("Last-Event-ID", id.to_string());
        }
        // Only the answer's head is bounded in time; the body lasts as long as we read it.
        let response = tokio::time::timeout(self.timeout, builder.send())
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.transport_error(&e))?;
        if !response.status().is_success() {
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| self.transport_error(&e))?;
            return Err(self.failure(status, &headers, &body));
        }
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            return Err(ClientError::NotStoreplane {
                url: self.server.clone(),
                status: response.status().as_u16(),
                detail: "expected an event stream".to_owned(),
            });
        }
        Ok(response)
    }

    pub(crate) fn transport_error(&self, err: &reqwest::Error) -> ClientError {
        ClientError::transport(&self.server, self.timeout, err)
    }

    fn timed_out(&self) -> ClientError {
        ClientError::TimedOut {
            url: self.server.clone(),
            after: self.timeout,
        }
    }

    /// A request to `/api/v1/{path}` carrying the token and asking for JSON, bounded by
    /// the request timeout.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.authorized(method, path)
            .header(ACCEPT, "application/json")
            .timeout(self.timeout)
    }

    fn authorized(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/api/v1/{path}", self.server);
        let builder = self.http.request(method, url);
        match &self.authorization {
            Some(value) => builder.header(AUTHORIZATION, value.clone()),
            None => builder,
        }
    }

    /// Sends a request and reads its answer as `T`, or as the API's error shape.
    async fn call<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ClientError> {
        let response = builder.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            return Err(self.failure(status, &headers, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::NotStoreplane {
            url: self.server.clone(),
            status: status.as_u16(),
            detail: describe_body(&body, Some(&e)),
        })
    }

    /// The error an unsuccessful answer stands for.
    fn failure(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ClientError {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => ClientError::Api(ApiFailure {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
                field: error.field,
                retry_after: headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok()),
            }),
            Err(_) => ClientError::NotStoreplane {
                url: self.server.clone(),
                status: status.as_u16(),
                detail: describe_body(body, None),
            },
        }
    }
}

/// Checks a `--server` value and drops the trailing slash, so paths join with one `/`.
fn parse_server_url(raw: &str) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidServerUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("expected no query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Picks the store a name stands for among the stores with exactly that name.
fn pick_by_name(name: &str, mut named: Vec<StoreView>) -> Result<StoreView, ClientError> {
    let live: Vec<usize> = (0..named.len())
        .filter(|&i| named[i].status != StoreStatus::Deleted)
        .collect();
    match (named.len(), live.as_slice()) {
        (0, _) => Err(ClientError::NoSuchName {
            name: name.to_owned(),
        }),
        (1, _) => Ok(named.remove(0)),
        (_, &[only]) => Ok(named.swap_remove(only)),
        _ => Err(ClientError::AmbiguousName {
            name: name.to_owned(),
            ids: named.iter().map(|s| s.id.to_string()).collect(),
        }),
    }
}

/// A short, one-line description of a body that is not what storeplane sends.
fn describe_body(body: &[u8], parse_error: Option<&serde_json::Error>) -> String {
    const SHOWN: usize = 80;
    if body.iter().all(u8::is_ascii_whitespace) {
        return "an empty body".to_owned();
    }
    if let Some(err) = parse_error
        && serde_json::from_slice::<serde_json::Value>(body).is_ok()
    {
        return format!("unexpected JSON: {err}");
    }
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown: String = line.chars().take(SHOWN).collect();
    let ellipsis = if line.chars().count() > SHOWN {
        "..."
    } else {
        ""
    };
    format!("it begins {shown:?}{ellipsis}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn store(name: &str, status: StoreStatus) -> StoreView {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::now_v7(), "name": name, "engine": "woocommerce", "plan": "small",
            "status": status, "status_reason": null, "owner_id": uuid::Uuid::now_v7(),
            "namespace": "store-x", "url": "http://x", "admin_url": "http://x/wp-admin/",
            "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z",
            "last_checked_at": null, "release": null, "title": name, "revision": null,
            "latest_revision": null, "operation": null, "release_is_default": true,
        }))
        .expect("a valid store")
    }

    #[test]
    fn a_trailing_slash_on_the_server_url_is_dropped() {
        assert_eq!(
            parse_server_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            parse_server_url("https://ops.example.com/storeplane/").unwrap(),
            "https://ops.example.com/storeplane"
        );
    }

    #[test]
    fn a_server_url_that_is_not_http_is_refused() {
        let err = parse_server_url("127.0.0.1:8080").unwrap_err();
        assert!(err.to_string().starts_with("invalid server URL"), "{err}");
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let client = Client::new("http://127.0.0.1:1", Some("s3cret-token".into())).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
    }

    #[test]
    fn a_name_shared_with_deleted_stores_means_the_live_one() {
        let live = store("acme", StoreStatus::Ready);
        let named = vec![store("acme", StoreStatus::Deleted), live.clone()];
        assert_eq!(pick_by_name("acme", named).unwrap(), live);
    }

    #[test]
    fn a_name_shared_only_by_deleted_stores_is_ambiguous() {
        let named = vec![
            store("acme", StoreStatus::Deleted),
            store("acme", StoreStatus::Deleted),
        ];
        let err = pick_by_name("acme", named).unwrap_err();
        assert!(matches!(err, ClientError::AmbiguousName { .. }), "{err}");
    }

    #[test]
    fn an_html_page_is_described_by_its_first_words() {
        let detail = describe_body(b"<html>\n  <h1>Bad Gateway</h1></html>", None);
        assert_eq!(detail, r#"it begins "<html> <h1>Bad Gateway</h1></html>""#);
    }
}

//! Fixtures: an application on a fresh database, users with tokens, and a request builder
//! that returns status, headers and JSON.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use serde_json::{Value, json};
use storeplane_api::{
    ApiSettings, AppState, FakeRenderer, FeedCloser, InMemoryCredentials, Metrics, RateLimit,
    secret,
};
use storeplane_db::{ConnectOptions, DatabaseUrl, NewApiToken, Repository};
use storeplane_domain::{Role, UserName};
use tower::ServiceExt;

/// An application on its own SQLite database.
pub struct TestApp {
    pub router: Router,
    pub repo: Arc<dyn Repository>,
    pub credentials: InMemoryCredentials,
    _feed: FeedCloser,
    _dir: tempfile::TempDir,
}

/// Settings for tests: generous limits unless a test sets its own.
pub fn settings() -> ApiSettings {
    ApiSettings {
        store_quota: 0,
        rate_limit: RateLimit {
            per_minute: 0,
            burst: 0,
        },
        ..ApiSettings::default()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(settings()).await
    }

    pub async fn with(settings: ApiSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("storeplane.db"));
        let repo = storeplane_db::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        Self::on(repo, settings, dir).await
    }

    pub async fn on(
        repo: Arc<dyn Repository>,
        settings: ApiSettings,
        dir: tempfile::TempDir,
    ) -> Self {
        let credentials = InMemoryCredentials::default();
        let (state, feed) = AppState::start(
            repo.clone(),
            settings,
            Arc::new(credentials.clone()),
            Arc::new(FakeRenderer::new(&["wp6.8-wc9.8", "wp6.9-wc10.0"])),
            Metrics::global(),
        )
        .await
        .unwrap();
        Self {
            router: storeplane_api::router(state),
            repo,
            credentials,
            _feed: feed,
            _dir: dir,
        }
    }

    /// Creates a user (admin or not) and returns a fresh API token for them.
    pub async fn token(&self, name: &str, role: Role) -> String {
        let now = Utc::now();
        let user = self
            .repo
            .ensure_user(&UserName::parse(name).unwrap(), role, now)
            .await
            .unwrap();
        let token = secret::generate("spt_");
        self.repo
            .create_api_token(NewApiToken {
                user: user.id,
                token_hash: secret::hash(&token),
                label: "test".into(),
                now,
            })
            .await
            .unwrap();
        token
    }

    pub async fn member(&self, name: &str) -> String {
        self.token(name, Role::Member).await
    }

    pub fn request(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.request(Method::POST, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.request(Method::DELETE, path)
    }

    /// Creates a store as `token`'s user and returns its JSON.
    pub async fn create_store(&self, token: &str, name: &str) -> Value {
        let response = self
            .post("/api/v1/stores")
            .bearer(token)
            .json(&store_body(name))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.body);
        response.body
    }
}

pub fn store_body(name: &str) -> Value {
    json!({"name": name, "engine": "woocommerce", "plan": "small"})
}

/// A request being built.
pub struct Call<'a> {
    app: &'a TestApp,
    request: axum::http::request::Builder,
    body: Body,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error: {}", self.body))
    }
}

impl Call<'_> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.request = self
            .request
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self
            .request
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    /// Pretends the request came from `addr` (what a listener records for real clients).
    pub fn sent_from(mut self, addr: &str) -> Self {
        let addr: SocketAddr = addr.parse().unwrap();
        self.request = self.request.extension(ConnectInfo(addr));
        self
    }

    pub async fn send(self) -> Reply {
        let request = self.request.body(self.body).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }
}

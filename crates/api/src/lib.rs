//! storeplane's HTTP API: the axum router (stores, timelines, live updates, sign-in,
//! health, metrics, the OpenAPI document, the embedded dashboard) and the server loop with graceful shutdown.
//!
//! [`router`] builds the whole application from an [`AppState`], so tests drive it with
//! `tower::ServiceExt::oneshot` and no socket; [`serve`] runs it on a listener the caller
//! bound (port 0 in tests).

mod auth;
mod backups;
mod catalog;
mod credentials;
mod cursor;
mod dashboard;
pub mod dto;
mod error;
mod feed;
mod health;
mod metrics;
mod openapi;
mod page_cache;
mod ratelimit;
mod renderer;
mod revisions;
pub mod secret;
mod server;
mod session;
mod settings;
mod state;
mod stores;

pub use auth::{AuthVia, CSRF_HEADER, Caller, SESSION_COOKIE};
pub use credentials::{AdminCredentials, CredentialsError, CredentialsSource, InMemoryCredentials};
pub use error::ApiError;
pub use feed::FeedCloser;
pub use metrics::Metrics;
pub use openapi::ApiDoc;
pub use renderer::{FakeRenderer, RenderRefused, StoreRenderer};
pub use server::{router, serve};
pub use settings::{ApiSettings, AuthMode, MAX_BODY_BYTES, RateLimit};
pub use state::{AppState, LOCAL_USER};

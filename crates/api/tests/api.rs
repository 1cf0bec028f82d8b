//! The HTTP API as clients meet it: every endpoint and error path through the router
//! (`oneshot`, no socket), and live updates through a real listener on port 0.

#![allow(clippy::unwrap_used)]

#[path = "api/support.rs"]
mod support;

#[path = "api/auth.rs"]
mod auth;
#[path = "api/backups.rs"]
mod backups;
#[path = "api/dashboard.rs"]
mod dashboard;
#[path = "api/events.rs"]
mod events;
#[path = "api/fuzz.rs"]
mod fuzz;
#[path = "api/limits.rs"]
mod limits;
#[path = "api/password_reset.rs"]
mod password_reset;
#[path = "api/revisions.rs"]
mod revisions;
#[path = "api/stores.rs"]
mod stores;

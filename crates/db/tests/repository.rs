//! The repository test suite: every test here runs on SQLite and on PostgreSQL
//! (`<area>::sqlite::<test>` and `<area>::postgres::<test>`), each on a fresh database.
//!
//! PostgreSQL is found at `STOREPLANE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets its own schema there. The
//! PostgreSQL tests fail rather than skip when the server is unreachable.

#![allow(clippy::unwrap_used)]

#[path = "repository/support.rs"]
mod support;

#[path = "repository/accounts.rs"]
mod accounts;
#[path = "repository/backups.rs"]
mod backups;
#[path = "repository/concurrency.rs"]
mod concurrency;
#[path = "repository/lifecycle.rs"]
mod lifecycle;
#[path = "repository/password_reset.rs"]
mod password_reset;
#[path = "repository/queue.rs"]
mod queue;
#[path = "repository/revisions.rs"]
mod revisions;
#[path = "repository/signin.rs"]
mod signin;
#[path = "repository/stores.rs"]
mod stores;
#[path = "repository/timeline.rs"]
mod timeline;
#[path = "repository/upgrade.rs"]
mod upgrade;
#[path = "repository/wakeups.rs"]
mod wakeups;

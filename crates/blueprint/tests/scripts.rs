//! The engine steps' scripts, run for real on this machine with the environment their Jobs
//! get: WooCommerce's checkpoint and restore scripts against the local MariaDB
//! (127.0.0.1:3306, root without a password), Medusa's against the local PostgreSQL
//! (`STOREPLANE_TEST_DATABASE_URL`), the wp-cli scripts against a stand-in `wp` that records what
//! it is given and echoes its input back, as wp-cli does with prompted values.

// Fixture helpers are not `#[test]` functions, so the workspace's test allowance misses them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scripts/database.rs"]
mod database;
#[path = "scripts/job.rs"]
mod job;
#[path = "scripts/postgres.rs"]
mod postgres;
#[path = "scripts/wp_cli.rs"]
mod wp_cli;

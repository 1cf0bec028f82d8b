//! The storeplane API client and the `storeplane store ...` commands, against a fake API
//! server on a loopback port that records every request.

#![allow(clippy::unwrap_used)]

#[path = "client/fake.rs"]
mod fake;

#[path = "client/fake_routes.rs"]
mod fake_routes;

#[path = "client/fixtures.rs"]
mod fixtures;

#[path = "client/api_calls.rs"]
mod api_calls;

#[path = "client/live_updates.rs"]
mod live_updates;

#[path = "client/commands.rs"]
mod commands;

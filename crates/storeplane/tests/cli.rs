//! The `storeplane` binary as a person runs it: start-up errors, serving and shutdown,
//! the store commands against a real server, and live updates across server processes.

#![allow(clippy::unwrap_used)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/backups.rs"]
mod backups;
#[path = "cli/password_reset.rs"]
mod password_reset;
#[path = "cli/pipeline.rs"]
mod pipeline;
#[path = "cli/rbac.rs"]
mod rbac;
#[path = "cli/revisions.rs"]
mod revisions;
#[path = "cli/sim.rs"]
mod sim;
#[path = "cli/startup.rs"]
mod startup;
#[path = "cli/stores.rs"]
mod stores;
#[path = "cli/upgrade.rs"]
mod upgrade;

//! The blueprint as a whole: golden manifests per plan, the isolation and sizing
//! invariants every store must keep, the errors bad settings give, and the setup script
//! keeping secrets out of the pod log.

// Fixture helpers are not `#[test]` functions, so the workspace's test allowance misses them.
#![allow(clippy::unwrap_used)]

#[path = "blueprint/fixtures.rs"]
mod fixtures;
#[path = "blueprint/golden.rs"]
mod golden;
#[path = "blueprint/invariants.rs"]
mod invariants;
#[path = "blueprint/manifest.rs"]
mod manifest;
#[path = "blueprint/releases.rs"]
mod releases;
#[path = "blueprint/setup_script.rs"]
mod setup_script;
#[path = "blueprint/steps.rs"]
mod steps;
#[path = "blueprint/validation.rs"]
mod validation;

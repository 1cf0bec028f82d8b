//! Store revisions carried out by the real worker loop and provisioning runner against
//! kube-sim (in process, over HTTP) and a SQLite metadata store: changes, upgrades,
//! rollbacks, failures that roll back by themselves, a worker stopped mid-change, and
//! platform-settings changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod revisions {
    mod changes;
    mod failures;
    mod harness;
    mod platform;
    mod quota;
}

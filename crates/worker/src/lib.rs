//! storeplane's workers: the loop that leases jobs from the metadata store's queue and runs
//! them through a [`JobRunner`], keeping each lease alive with heartbeats, recording
//! failures with backoff, and on shutdown letting in-flight jobs finish or handing their
//! leases back so another worker picks them up at once.
//!
//! What a job *does* (provisioning a store on Kubernetes) is the runner's business; this
//! crate only knows the queue's contract.

mod backup;
mod desired;
mod drift;
mod outputs;
mod pass;
mod provision;
mod remediation;
mod reset;
mod revision;
mod runner;
mod schedule;
mod storefront;
mod worker;

pub use drift::schedule_drift_checks;
pub use provision::{ProvisionRunner, Timeouts};
pub use runner::{JobRunner, RunError};
pub use schedule::{request_due, schedule_backups};
pub use storefront::{StorefrontCheck, Verdict};
pub use worker::{Worker, WorkerSettings};

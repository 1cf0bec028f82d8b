//! Jobs: durable requests to bring one store to its desired state, and how they retry.
//!
//! A job names a store and a kind, but the worker always reconciles towards the store's
//! *current* desired state (level-triggered, as Kubernetes controllers do), so coalescing
//! two requests for one store into one job loses nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreId;
use crate::store::text_enum;

/// A job's identity, assigned by the metadata store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

text_enum! {
    /// Why the job was queued.
    JobKind, "job kind" {
        /// Bring a new (or retried) store up.
        Provision = "provision",
        /// Re-apply a ready store and repair drift.
        Reconcile = "reconcile",
        /// Remove the store from the cluster.
        Teardown = "teardown",
    }
}

text_enum! {
    /// Where a job stands.
    JobState, "job state" {
        /// Waiting for a worker (from `run_at` on).
        Queued = "queued",
        /// Held by a worker until its lease expires.
        Leased = "leased",
        /// Finished successfully.
        Done = "done",
        /// Failed on its last allowed attempt; kept for inspection.
        Dead = "dead",
    }
}

impl JobState {
    /// Queued and leased jobs are active: a store has at most one active job.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Leased)
    }
}

/// A job as the queue records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub store_id: StoreId,
    pub kind: JobKind,
    pub state: JobState,
    /// How many times a worker has leased the job (the current lease included).
    pub attempts: u32,
    pub max_attempts: u32,
    /// Not to be leased before this time (backoff after a failure).
    pub run_at: DateTime<Utc>,
    pub lease_holder: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Set when a request arrived while the job was leased: on completion it is queued
    /// again instead of finishing, so the newer request is not lost.
    pub rerun: bool,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How failed jobs are retried: exponential backoff with jitter, up to a number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts allowed in all; the job is dead after the last one fails.
    pub max_attempts: u32,
    /// The delay before the second attempt (before jitter).
    pub base_delay: Duration,
    /// No delay is ever longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The delay before the attempt that follows failed attempt number `attempt` (1-based).
    ///
    /// The exponential delay `base * 2^(attempt-1)`, capped at `max_delay`, is "equal
    /// jittered": half of it is kept and the other half scaled by `jitter` (a number in
    /// `[0, 1)` the caller draws), so retries of many stores that failed together spread
    /// out yet never come sooner than half the nominal delay.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let nominal = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        nominal / 2 + nominal.mul_f64(jitter / 2.0)
    }

    /// Whether a job whose attempt number `attempt` just failed may run again.
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_doubles_with_each_attempt() {
        let delays: Vec<_> = (1..=4)
            .map(|n| policy().backoff(n, 1.0).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8]);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(policy().backoff(30, 1.0), Duration::from_secs(60));
        assert_eq!(policy().backoff(u32::MAX, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_never_takes_more_than_half_the_delay() {
        assert_eq!(policy().backoff(3, 0.0), Duration::from_secs(2));
        assert_eq!(policy().backoff(3, 0.5), Duration::from_secs(3));
        assert_eq!(
            policy().backoff(3, 7.0),
            Duration::from_secs(4),
            "jitter is clamped"
        );
    }

    #[test]
    fn the_last_attempt_is_not_retried() {
        assert!(policy().may_retry(3));
        assert!(!policy().may_retry(4));
    }
}

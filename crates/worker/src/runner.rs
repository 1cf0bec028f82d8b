//! What a worker runs for each job.

use async_trait::async_trait;
use storeplane_domain::Job;

/// Runs one leased job to its end.
///
/// Implementations must be idempotent: a job may run again after a crash at any point, or
/// after its lease was lost. Every `.await` is a cancellation point: the worker drops the
/// future when the lease is lost or the shutdown grace period ends.
#[async_trait]
pub trait JobRunner: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> Result<(), RunError>;

    /// Called once a job's last allowed attempt failed with `error` (the job is dead):
    /// the place to record the failure where people will see it.
    async fn gave_up(&self, _job: &Job, _error: &RunError) {}
}

/// Why a job attempt failed, in words a person can act on (it reaches the job's record
/// and, through the runner, the store's timeline).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RunError {
    pub message: String,
    /// Retrying cannot help (bad input, a missing store): fail for good now.
    pub permanent: bool,
}

impl RunError {
    /// A failure that a later attempt may not meet.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

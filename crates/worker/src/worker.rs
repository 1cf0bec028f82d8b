//! The lease loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use storeplane_db::{DbError, Repository};
use storeplane_domain::{Job, JobState, RetryPolicy};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::JobRunner;

/// How a worker leases and runs jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Who holds the leases: unique per worker process (host, pid and a random part).
    pub holder: String,
    /// Jobs run at once by this worker.
    pub concurrency: usize,
    /// How long a lease lasts without a heartbeat: how soon another worker takes over the
    /// jobs of one that died.
    pub lease: Duration,
    /// How often a running job's lease is extended (well under `lease`).
    pub heartbeat: Duration,
    /// How long to wait before asking again when the queue was empty. A job queued by any
    /// process wakes idle workers at once (see `Repository::job_wakeups`); the poll finds
    /// what becomes runnable by the clock: retries after their backoff, expired leases.
    pub idle_poll: Duration,
    /// After a shutdown signal, how long in-flight jobs may take before their leases are
    /// handed back.
    pub shutdown_grace: Duration,
    pub retry: RetryPolicy,
}

impl WorkerSettings {
    /// Settings for a worker identified by `holder`, with defaults suited to provisioning
    /// (jobs of tens of seconds).
    pub fn new(holder: impl Into<String>) -> Self {
        Self {
            holder: holder.into(),
            concurrency: 4,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            idle_poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }
}

/// Leases jobs and runs them until told to stop.
pub struct Worker {
    repo: Arc<dyn Repository>,
    runner: Arc<dyn JobRunner>,
    settings: Arc<WorkerSettings>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How one job's run ended, for the queue and the metrics.
enum Ending {
    Finished(Result<(), crate::RunError>),
    LeaseLost,
    HandedBack,
}

impl Worker {
    pub fn new(
        repo: Arc<dyn Repository>,
        runner: Arc<dyn JobRunner>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            repo,
            runner,
            settings: Arc::new(settings),
        }
    }

    /// Runs until `shutdown` turns true, then stops leasing, gives in-flight jobs the grace
    /// period to finish, and hands back the leases of those that did not.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let settings = self.settings.clone();
        let (hand_back, hand_back_rx) = watch::channel(false);
        let mut running = JoinSet::new();
        // Listening from before the first lease, so a job queued between an empty lease
        // and the wait below still wakes it.
        let mut queued = self.repo.job_wakeups();
        tracing::info!(holder = %settings.holder, concurrency = settings.concurrency, "worker started");
        while !*shutdown.borrow() {
            while running.try_join_next().is_some() {}
            if running.len() >= settings.concurrency.max(1) {
                tokio::select! {
                    _ = running.join_next() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            match self
                .repo
                .lease(&settings.holder, settings.lease, Utc::now())
                .await
            {
                Ok(Some(job)) => {
                    let span = tracing::info_span!("job", job.id = %job.id, store.id = %job.store_id, job.kind = %job.kind, job.attempt = job.attempts);
                    let task = run_one(
                        self.repo.clone(),
                        self.runner.clone(),
                        settings.clone(),
                        job,
                        hand_back_rx.clone(),
                    );
                    running.spawn(task.instrument(span));
                }
                Ok(None) => {
                    tokio::select! {
                        () = tokio::time::sleep(settings.idle_poll) => {}
                        Some(()) = queued.next() => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "failed to lease a job; retrying");
                    tokio::time::sleep(settings.idle_poll).await;
                }
            }
        }

        let in_flight = running.len();
        if in_flight > 0 {
            tracing::info!(
                in_flight,
                grace_seconds = settings.shutdown_grace.as_secs(),
                "letting in-flight jobs finish"
            );
        }
        let drained = tokio::time::timeout(settings.shutdown_grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            let _ = hand_back.send(true);
            while running.join_next().await.is_some() {}
        }
        tracing::info!(holder = %settings.holder, "worker stopped");
    }
}

/// Runs one job, heartbeating its lease, and records how it ended.
async fn run_one(
    repo: Arc<dyn Repository>,
    runner: Arc<dyn JobRunner>,
    settings: Arc<WorkerSettings>,
    job: Job,
    mut hand_back: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let ending = {
        let work = runner.run(&job);
        // The heartbeat is a future of its own, polled beside the work rather than awaited
        // in a branch of the select: awaited there, it would stop the work from being
        // polled, and on SQLite, whose single writer connection the work may hold in the
        // middle of a transaction, the heartbeat would wait for the writer forever while
        // the work waited to be polled (a deadlock that froze the whole process).
        let heartbeat = async {
            let mut beat = tokio::time::interval(settings.heartbeat);
            beat.tick().await; // the first tick is immediate; the lease was just taken
            loop {
                beat.tick().await;
                match repo
                    .heartbeat(job.id, &settings.holder, settings.lease, Utc::now())
                    .await
                {
                    Ok(_) => {}
                    Err(DbError::LeaseLost { .. }) => return Ending::LeaseLost,
                    // The lease may still be live; the next beat tries again.
                    Err(error) => tracing::warn!(%error, "heartbeat failed"),
                }
            }
        };
        tokio::pin!(work, heartbeat);
        tokio::select! {
            result = &mut work => Ending::Finished(result),
            ending = &mut heartbeat => ending,
            // The guard `wait_for` returns is not `Send`; drop it inside the branch.
            () = async { let _ = hand_back.wait_for(|hand_back| *hand_back).await; } => Ending::HandedBack,
        }
    };
    let now = Utc::now();
    let outcome = match ending {
        Ending::Finished(Ok(())) => match repo.complete(job.id, &settings.holder, now).await {
            Ok(_) => "done",
            Err(error) => {
                tracing::warn!(%error, "finished, but could not record it; the job will run again");
                "lost"
            }
        },
        Ending::Finished(Err(failure)) => {
            let policy = if failure.permanent {
                RetryPolicy {
                    max_attempts: 0,
                    ..settings.retry
                }
            } else {
                settings.retry
            };
            match repo
                .fail(
                    job.id,
                    &settings.holder,
                    &failure.message,
                    &policy,
                    rand::random(),
                    now,
                )
                .await
            {
                Ok(after) if after.state == JobState::Dead => {
                    tracing::warn!(error = %failure, "job failed for good");
                    runner.gave_up(&after, &failure).await;
                    "dead"
                }
                Ok(after) => {
                    tracing::info!(error = %failure, next_run = %after.run_at, "job failed; will retry");
                    "retry"
                }
                Err(error) => {
                    tracing::warn!(%error, "could not record the failure; the lease will expire and the job run again");
                    "lost"
                }
            }
        }
        Ending::LeaseLost => {
            tracing::warn!("lease lost (another worker took the job over); stopped working on it");
            "lost"
        }
        Ending::HandedBack => match repo.release(job.id, &settings.holder, now).await {
            Ok(_) => {
                tracing::info!("handed the job back for another worker");
                "released"
            }
            Err(error) => {
                tracing::warn!(%error, "could not hand the job back; its lease will expire instead");
                "lost"
            }
        },
    };
    metrics::counter!("storeplane_jobs_total", "kind" => job.kind.as_str(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("storeplane_job_duration_seconds", "kind" => job.kind.as_str())
        .record(started.elapsed().as_secs_f64());
}

//! The worker loop against a real (SQLite) queue, with runners that succeed, fail, or take
//! their time, and shutdowns in the middle.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use storeplane_db::{ConnectOptions, CreateStore, DatabaseUrl, Repository};
use storeplane_domain::{
    Actor, Engine, Job, JobId, JobState, Plan, RetryPolicy, Role, StoreId, StoreName, StoreSpec,
    UserName,
};
use storeplane_worker::{JobRunner, RunError, Worker, WorkerSettings};
use tokio::sync::{mpsc, watch};

/// A fresh queue with `jobs` provisioning jobs queued (one per store).
async fn queue_with(jobs: usize) -> (Arc<dyn Repository>, Vec<JobId>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("storeplane.db"));
    let repo = storeplane_db::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    let owner = repo
        .ensure_user(&UserName::parse("ops").unwrap(), Role::Admin, Utc::now())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..jobs {
        let outcome = repo
            .create_store(CreateStore {
                id: StoreId::generate(),
                spec: StoreSpec {
                    name: StoreName::parse(&format!("shop-{n}")).unwrap(),
                    engine: Engine::WooCommerce,
                    plan: Plan::Small,
                    release: None,
                    title: None,
                },
                owner: owner.id,
                actor: Actor::User("ops".into()),
                live_store_limit: None,
                restore_from: None,
                max_attempts: 5,
                idempotency: None,
                now: Utc::now(),
            })
            .await
            .unwrap();
        ids.push(
            repo.active_job(outcome.store().id)
                .await
                .unwrap()
                .unwrap()
                .id,
        );
    }
    (repo, ids, dir)
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        idle_poll: Duration::from_millis(20),
        heartbeat: Duration::from_millis(100),
        shutdown_grace: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        },
        ..WorkerSettings::new("worker-test")
    }
}

/// Starts a worker; dropping or sending `true` on the returned sender stops it.
fn start(
    repo: &Arc<dyn Repository>,
    runner: impl JobRunner,
    settings: WorkerSettings,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stop_rx) = watch::channel(false);
    let worker = Worker::new(repo.clone(), Arc::new(runner), settings);
    (stop, tokio::spawn(worker.run(stop_rx)))
}

/// Waits (at most 10 s) until every job is in `state`.
async fn until_all(repo: &Arc<dyn Repository>, jobs: &[JobId], state: JobState) -> Vec<Job> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut all = Vec::new();
            for id in jobs {
                all.push(repo.get_job(*id).await.unwrap());
            }
            if all.iter().all(|job| job.state == state) {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("jobs never all became {state}"))
}

/// Reports each job it runs, then succeeds.
struct Succeeds(mpsc::UnboundedSender<JobId>);

#[async_trait]
impl JobRunner for Succeeds {
    async fn run(&self, job: &Job) -> Result<(), RunError> {
        let _ = self.0.send(job.id);
        Ok(())
    }
}

struct Fails {
    permanent: bool,
}

#[async_trait]
impl JobRunner for Fails {
    async fn run(&self, _job: &Job) -> Result<(), RunError> {
        Err(if self.permanent {
            RunError::permanent("the plan is unknown")
        } else {
            RunError::transient("pods not ready yet")
        })
    }
}

/// Says when it starts, then takes `duration`.
struct Takes {
    duration: Duration,
    started: mpsc::UnboundedSender<JobId>,
}

#[async_trait]
impl JobRunner for Takes {
    async fn run(&self, job: &Job) -> Result<(), RunError> {
        let _ = self.started.send(job.id);
        tokio::time::sleep(self.duration).await;
        Ok(())
    }
}

#[tokio::test]
async fn every_queued_job_runs_once_and_is_done() {
    let (repo, jobs, _dir) = queue_with(20).await;
    let (ran_tx, mut ran) = mpsc::unbounded_channel();
    let (stop, worker) = start(&repo, Succeeds(ran_tx), settings());
    until_all(&repo, &jobs, JobState::Done).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    let mut runs = Vec::new();
    while let Ok(id) = ran.try_recv() {
        runs.push(id);
    }
    runs.sort();
    assert_eq!(runs, jobs, "each job ran exactly once");
}

#[tokio::test]
async fn a_failing_job_is_retried_until_its_attempts_run_out() {
    let (repo, jobs, _dir) = queue_with(1).await;
    let (stop, worker) = start(&repo, Fails { permanent: false }, settings());
    let dead = until_all(&repo, &jobs, JobState::Dead).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("pods not ready yet"));
}

#[tokio::test]
async fn a_permanent_failure_is_not_retried() {
    let (repo, jobs, _dir) = queue_with(1).await;
    let (stop, worker) = start(&repo, Fails { permanent: true }, settings());
    let dead = until_all(&repo, &jobs, JobState::Dead).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(dead[0].attempts, 1);
}

#[tokio::test]
async fn on_shutdown_a_job_that_finishes_within_the_grace_period_is_done() {
    let (repo, jobs, _dir) = queue_with(1).await;
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (stop, worker) = start(
        &repo,
        Takes {
            duration: Duration::from_millis(100),
            started: started_tx,
        },
        settings(),
    );
    started.recv().await.unwrap();
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(repo.get_job(jobs[0]).await.unwrap().state, JobState::Done);
}

#[tokio::test]
async fn on_shutdown_a_job_that_outlives_the_grace_period_is_handed_back() {
    let (repo, jobs, _dir) = queue_with(1).await;
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (stop, worker) = start(
        &repo,
        Takes {
            duration: Duration::from_secs(3600),
            started: started_tx,
        },
        settings(),
    );
    started.recv().await.unwrap();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("the worker stops after its grace period")
        .unwrap();
    let job = repo.get_job(jobs[0]).await.unwrap();
    assert_eq!(
        job.state,
        JobState::Queued,
        "another worker can take it at once"
    );
    assert_eq!(
        (job.lease_holder, job.attempts),
        (None, 0),
        "the attempt does not count"
    );
}

#[tokio::test]
async fn a_running_job_keeps_its_lease_alive_with_heartbeats() {
    let (repo, jobs, _dir) = queue_with(1).await;
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let settings = WorkerSettings {
        lease: Duration::from_millis(400),
        ..settings()
    };
    let (stop, worker) = start(
        &repo,
        Takes {
            duration: Duration::from_millis(1200),
            started: started_tx,
        },
        settings,
    );
    started.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let stolen = repo
        .lease("another-worker", Duration::from_secs(30), Utc::now())
        .await
        .unwrap();
    assert!(stolen.is_none(), "the lease was kept alive past its 400 ms");
    until_all(&repo, &jobs, JobState::Done).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
}

/// Writes to the metadata store over and over, as a provisioning pass writes its timeline.
struct KeepsWriting {
    repo: Arc<dyn Repository>,
    writes: usize,
}

#[async_trait]
impl JobRunner for KeepsWriting {
    async fn run(&self, job: &Job) -> Result<(), RunError> {
        for n in 0..self.writes {
            let event = storeplane_domain::NewStoreEvent::new(
                job.store_id,
                Utc::now(),
                storeplane_domain::EventKind::Step,
                Actor::System("worker".into()),
                format!("step {n}"),
            );
            self.repo
                .append_event(event)
                .await
                .map_err(|e| RunError::transient(e.to_string()))?;
        }
        Ok(())
    }
}

// On SQLite every write goes through one connection. A heartbeat that came due while the
// job was in the middle of a write once waited for that connection with the job no longer
// polled, and the whole process froze; with a beat every millisecond that happened at once.
#[tokio::test]
async fn a_heartbeat_due_while_the_job_writes_never_stops_the_job() {
    let (repo, jobs, _dir) = queue_with(4).await;
    let runner = KeepsWriting {
        repo: repo.clone(),
        writes: 300,
    };
    let fast_beats = WorkerSettings {
        heartbeat: Duration::from_millis(1),
        ..settings()
    };
    let (_stop, _worker) = start(&repo, runner, fast_beats);
    until_all(&repo, &jobs, JobState::Done).await;
}

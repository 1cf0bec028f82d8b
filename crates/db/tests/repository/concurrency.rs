//! Many workers at once: every job is completed exactly once and no job is ever held by
//! two workers at the same time; events become visible in sequence order.
//!
//! On PostgreSQL each worker has its own connection, as separate `storeplane worker`
//! processes would. On SQLite the workers are tasks sharing one repository, which is how
//! SQLite is deployed (one process).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use storeplane_db::Repository;
use storeplane_domain::{EventKind, JobId, NewStoreEvent, StoreId};

use crate::support::{TestDb, database_tests, new_store, system, user};

database_tests!(
    concurrent_workers_complete_every_job_exactly_once_and_never_share_a_live_lease,
    events_become_visible_in_sequence_order_while_many_writers_append,
);

/// One lease as a worker saw it: from when it was granted until it completed.
#[derive(Debug, Clone)]
struct Held {
    job: JobId,
    holder: String,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Creates `count` stores (each queues its provisioning job), `parallel` at a time.
async fn create_stores(repo: &Arc<dyn Repository>, count: usize, parallel: usize) -> Vec<StoreId> {
    let owner = user(repo, "loadtest").await;
    let mut tasks = Vec::new();
    for lane in 0..parallel {
        let (repo, owner) = (repo.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (lane..count).step_by(parallel) {
                let created = repo
                    .create_store(new_store(&owner, &format!("load-{n}")))
                    .await
                    .unwrap();
                ids.push(created.store().id);
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    ids
}

async fn concurrent_workers_complete_every_job_exactly_once_and_never_share_a_live_lease(
    db: TestDb,
) {
    let (workers, jobs) = if db.is_postgres() {
        (8, 2000)
    } else {
        (4, 400)
    };
    let setup = db.open(8).await;
    create_stores(&setup, jobs, 8).await;

    let shared = db.open(4).await;
    let mut tasks = Vec::new();
    for w in 0..workers {
        // PostgreSQL: a connection of its own per worker. SQLite: one repository for all.
        let repo = if db.is_postgres() {
            db.open(1).await
        } else {
            shared.clone()
        };
        let holder = format!("worker-{w}");
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Some(job) = repo
                .lease(&holder, Duration::from_secs(60), Utc::now())
                .await
                .unwrap()
            {
                let from = Utc::now();
                assert_eq!(job.lease_holder.as_deref(), Some(holder.as_str()));
                let done = repo.complete(job.id, &holder, Utc::now()).await.unwrap();
                held.push(Held {
                    job: job.id,
                    holder: holder.clone(),
                    from,
                    until: done.updated_at.max(from),
                });
            }
            held
        }));
    }
    let mut leases: Vec<Held> = Vec::new();
    for task in tasks {
        leases.extend(task.await.unwrap());
    }

    let mut by_job: HashMap<JobId, Vec<Held>> = HashMap::new();
    for lease in leases {
        by_job.entry(lease.job).or_default().push(lease);
    }
    assert_eq!(by_job.len(), jobs, "every job was leased and completed");
    for (job, mut held) in by_job {
        held.sort_by_key(|h| h.from);
        assert_eq!(
            held.len(),
            1,
            "job {job} completed more than once: {held:?}"
        );
        for pair in held.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                b.from >= a.until,
                "job {job} held by {} and {} at once: {pair:?}",
                a.holder,
                b.holder
            );
        }
        let stored = setup.get_job(job).await.unwrap();
        assert_eq!(
            (stored.state, stored.attempts),
            (storeplane_domain::JobState::Done, 1),
            "job {job}"
        );
    }
    assert!(
        setup
            .lease("late", Duration::from_secs(60), Utc::now())
            .await
            .unwrap()
            .is_none()
    );
}

/// A reader that follows `events_after` from its last seen `seq` while many writers append
/// must end up with every event: none may appear behind its cursor.
async fn events_become_visible_in_sequence_order_while_many_writers_append(db: TestDb) {
    let (writers, per_writer) = (6, 60);
    let setup = db.open(8).await;
    let stores = create_stores(&setup, writers, writers).await;
    let baseline = setup
        .events_after(0, 10_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |e| e.seq);

    let mut tasks = Vec::new();
    for store in stores {
        let repo = db.open(1).await;
        tasks.push(tokio::spawn(async move {
            for n in 0..per_writer {
                let event = NewStoreEvent::new(
                    store,
                    Utc::now(),
                    EventKind::Step,
                    system(),
                    format!("step {n}"),
                );
                repo.append_event(event).await.unwrap();
            }
        }));
    }
    let reader = db.open(1).await;
    let mut cursor = baseline;
    let mut seen = Vec::new();
    let expected = writers * per_writer;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < expected && tokio::time::Instant::now() < deadline {
        let batch = reader.events_after(cursor, 50).await.unwrap();
        if let Some(last) = batch.last() {
            cursor = last.seq;
        }
        seen.extend(batch.into_iter().map(|e| e.seq));
        tokio::task::yield_now().await;
    }
    for task in tasks {
        task.await.unwrap();
    }

    let all: Vec<i64> = setup
        .events_after(baseline, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(all.len(), expected);
    assert_eq!(
        seen, all,
        "the reader missed events that became visible behind its cursor"
    );
}

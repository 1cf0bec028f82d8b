//! Wake-ups that tell live-update readers new events were written.

use futures::StreamExt;
use storeplane_db::CreateStoreOutcome;
use storeplane_domain::{EventKind, NewStoreEvent};

use crate::support::{TestDb, database_tests, new_store, system, user};

database_tests!(
    a_listener_is_woken_within_a_second_of_an_event_being_written,
    an_idle_worker_is_woken_when_a_job_becomes_runnable_and_only_then,
);

/// On PostgreSQL the writer is another repository with its own connections, as another
/// `storeplane` process would be; on SQLite, where one process owns the file, the same one.
async fn a_listener_is_woken_within_a_second_of_an_event_being_written(db: TestDb) {
    let listener = db.open(2).await;
    let writer = if db.is_postgres() {
        db.open(2).await
    } else {
        listener.clone()
    };
    let mut wakeups = listener.event_wakeups();
    let alice = user(&writer, "alice").await;
    // The PostgreSQL listener connects in the background: keep writing until it hears one.
    let woken = async {
        for n in 0..20 {
            writer
                .create_store(new_store(&alice, &format!("shop-{n}")))
                .await
                .unwrap();
            if tokio::time::timeout(std::time::Duration::from_millis(250), wakeups.next())
                .await
                .is_ok()
            {
                return n;
            }
        }
        panic!("no wake-up after 20 events");
    };
    let first_heard = tokio::time::timeout(std::time::Duration::from_secs(10), woken)
        .await
        .unwrap();
    assert!(first_heard < 8, "woken only after {first_heard} events");
    // Once listening, every write is heard within a second (earlier wake-ups drained).
    while tokio::time::timeout(std::time::Duration::from_millis(300), wakeups.next())
        .await
        .is_ok()
    {}
    writer
        .create_store(new_store(&alice, "shop-last"))
        .await
        .unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(1), wakeups.next()).await;
    assert!(next.is_ok(), "a wake-up within a second");
}

/// Workers of another process hear about queued jobs at once; events alone do not wake
/// them.
async fn an_idle_worker_is_woken_when_a_job_becomes_runnable_and_only_then(db: TestDb) {
    let second = std::time::Duration::from_secs(1);
    let quiet = std::time::Duration::from_millis(300);
    let worker = db.open(2).await;
    let api = if db.is_postgres() {
        db.open(2).await
    } else {
        worker.clone()
    };
    let mut wakeups = worker.job_wakeups();
    if db.is_postgres() {
        // The first wake-up says it listens (jobs may have been queued before).
        tokio::time::timeout(std::time::Duration::from_secs(10), wakeups.next())
            .await
            .expect("the listener connects");
    }
    let alice = user(&api, "alice").await;

    let CreateStoreOutcome::Created { store, .. } =
        api.create_store(new_store(&alice, "shop")).await.unwrap()
    else {
        panic!("expected a new store");
    };
    let woken = tokio::time::timeout(second, wakeups.next()).await;
    assert!(
        woken.is_ok(),
        "creating a store queues its job and wakes workers"
    );

    let now = chrono::Utc::now();
    let leased = worker
        .lease("w1", std::time::Duration::from_secs(30), now)
        .await
        .unwrap()
        .expect("the store's job");
    api.append_event(NewStoreEvent::new(
        store.id,
        now,
        EventKind::Step,
        system(),
        "applying".to_owned(),
    ))
    .await
    .unwrap();
    let woken = tokio::time::timeout(quiet, wakeups.next()).await;
    assert!(woken.is_err(), "an event alone is no reason to lease");

    worker.release(leased.id, "w1", now).await.unwrap();
    let woken = tokio::time::timeout(second, wakeups.next()).await;
    assert!(woken.is_ok(), "a job handed back wakes workers");
}

//! Wake-ups that tell live-update readers new events were written.

use futures::StreamExt;

use crate::support::{TestDb, database_tests, new_store, user};

database_tests!(a_listener_is_woken_within_a_second_of_an_event_being_written);

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

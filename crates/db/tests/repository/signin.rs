//! Login links, dashboard sessions, and the reveal-once record of a store's credentials.

use std::sync::Arc;

use storeplane_db::{DbError, NewSession, Repository};

use crate::support::{at, new_store, repository_tests, system, t0, user};

repository_tests!(
    a_login_link_signs_its_user_in_once_and_not_after_it_expires,
    a_session_finds_its_user_and_csrf_token_until_it_expires,
    credentials_are_marked_revealed_exactly_once_with_an_event,
);

async fn a_login_link_signs_its_user_in_once_and_not_after_it_expires(repo: Arc<dyn Repository>) {
    let dana = user(&repo, "dana").await;
    repo.create_login_token("hash-1", dana.id, at(60), t0())
        .await
        .unwrap();
    repo.create_login_token("hash-2", dana.id, at(60), t0())
        .await
        .unwrap();

    assert_eq!(
        repo.consume_login_token("hash-1", at(10)).await.unwrap(),
        dana
    );
    let reused = repo
        .consume_login_token("hash-1", at(11))
        .await
        .unwrap_err();
    assert!(matches!(reused, DbError::NotFound { .. }), "{reused:?}");
    let expired = repo
        .consume_login_token("hash-2", at(61))
        .await
        .unwrap_err();
    assert!(matches!(expired, DbError::NotFound { .. }), "{expired:?}");
    let unknown = repo.consume_login_token("nope", at(1)).await.unwrap_err();
    assert!(matches!(unknown, DbError::NotFound { .. }), "{unknown:?}");
}

async fn a_session_finds_its_user_and_csrf_token_until_it_expires(repo: Arc<dyn Repository>) {
    let dana = user(&repo, "dana").await;
    let session = NewSession {
        token_hash: "session-hash".into(),
        user: dana.id,
        csrf_token: "csrf-1".into(),
        expires_at: at(3600),
        now: t0(),
    };
    repo.create_session(session).await.unwrap();
    let found = repo.session("session-hash", at(10)).await.unwrap();
    assert_eq!((found.user, found.csrf_token.as_str()), (dana, "csrf-1"));
    assert!(
        repo.session("session-hash", at(3600)).await.is_err(),
        "expired"
    );
    assert!(repo.session("other-hash", at(10)).await.is_err(), "unknown");
}

async fn credentials_are_marked_revealed_exactly_once_with_an_event(repo: Arc<dyn Repository>) {
    let owner = user(&repo, "erin").await;
    let store = repo
        .create_store(new_store(&owner, "acme"))
        .await
        .unwrap()
        .store()
        .clone();
    assert!(!repo.credentials_revealed(store.id).await.unwrap());

    let actor = system();
    let (first, second) = tokio::join!(
        repo.mark_credentials_revealed(store.id, &actor, at(5)),
        repo.mark_credentials_revealed(store.id, &actor, at(5)),
    );
    assert_eq!(
        [first.unwrap(), second.unwrap()]
            .iter()
            .filter(|won| **won)
            .count(),
        1,
        "exactly one of two concurrent reveals wins"
    );
    assert!(repo.credentials_revealed(store.id).await.unwrap());
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    let reveals = events
        .iter()
        .filter(|e| e.kind.as_str() == "credentials_revealed")
        .count();
    assert_eq!(reveals, 1);

    let missing = storeplane_domain::StoreId::generate();
    assert!(matches!(
        repo.credentials_revealed(missing).await,
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        repo.mark_credentials_revealed(missing, &system(), at(6))
            .await,
        Err(DbError::NotFound { .. })
    ));
}

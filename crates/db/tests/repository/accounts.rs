//! Users and API tokens.

use std::sync::Arc;

use storeplane_db::{DbError, NewApiToken, Repository};
use storeplane_domain::{Role, UserName};

use crate::support::{at, repository_tests, t0};

repository_tests!(
    ensuring_a_user_creates_it_once_and_only_ever_raises_its_role,
    a_token_hash_finds_the_user_who_owns_it,
    a_revoked_or_unknown_token_finds_nobody,
);

fn name(raw: &str) -> UserName {
    UserName::parse(raw).unwrap()
}

async fn ensuring_a_user_creates_it_once_and_only_ever_raises_its_role(repo: Arc<dyn Repository>) {
    let created = repo
        .ensure_user(&name("carol@example.com"), Role::Member, t0())
        .await
        .unwrap();
    assert_eq!((created.role, created.created_at), (Role::Member, t0()));

    let again = repo
        .ensure_user(&name("carol@example.com"), Role::Member, at(10))
        .await
        .unwrap();
    assert_eq!(again, created, "the same user, not a second one");
    let raised = repo
        .ensure_user(&name("carol@example.com"), Role::Admin, at(20))
        .await
        .unwrap();
    assert_eq!((raised.id, raised.role), (created.id, Role::Admin));
    let kept = repo
        .ensure_user(&name("carol@example.com"), Role::Member, at(30))
        .await
        .unwrap();
    assert_eq!(kept.role, Role::Admin, "never lowered");

    assert_eq!(
        repo.user_by_name(&name("carol@example.com")).await.unwrap(),
        kept
    );
    let err = repo.user_by_name(&name("nobody")).await.unwrap_err();
    assert!(matches!(err, DbError::NotFound { what: "user" }), "{err:?}");
}

fn token(user: storeplane_domain::UserId, hash: &str) -> NewApiToken {
    NewApiToken {
        user,
        token_hash: hash.to_owned(),
        label: "laptop".to_owned(),
        now: t0(),
    }
}

async fn a_token_hash_finds_the_user_who_owns_it(repo: Arc<dyn Repository>) {
    let dave = repo
        .ensure_user(&name("dave"), Role::Member, t0())
        .await
        .unwrap();
    let erin = repo
        .ensure_user(&name("erin"), Role::Admin, t0())
        .await
        .unwrap();
    repo.create_api_token(token(dave.id, "aa11")).await.unwrap();
    repo.create_api_token(token(erin.id, "bb22")).await.unwrap();

    assert_eq!(repo.user_by_token_hash("aa11", at(1)).await.unwrap(), dave);
    assert_eq!(repo.user_by_token_hash("bb22", at(2)).await.unwrap(), erin);
    // Used again: a lookup is not a one-time thing.
    assert_eq!(repo.user_by_token_hash("aa11", at(3)).await.unwrap(), dave);
}

async fn a_revoked_or_unknown_token_finds_nobody(repo: Arc<dyn Repository>) {
    let dave = repo
        .ensure_user(&name("dave"), Role::Member, t0())
        .await
        .unwrap();
    repo.create_api_token(token(dave.id, "aa11")).await.unwrap();
    repo.create_api_token(token(dave.id, "cc33")).await.unwrap();

    repo.revoke_api_token("aa11", at(1)).await.unwrap();
    repo.revoke_api_token("aa11", at(2)).await.unwrap();

    let not_found = |r| matches!(r, Err(DbError::NotFound { what: "api token" }));
    assert!(not_found(repo.user_by_token_hash("aa11", at(3)).await));
    assert!(not_found(
        repo.user_by_token_hash("does-not-exist", at(3)).await
    ));
    assert!(matches!(
        repo.revoke_api_token("does-not-exist", at(3)).await,
        Err(DbError::NotFound { .. })
    ));
    assert_eq!(
        repo.user_by_token_hash("cc33", at(3)).await.unwrap(),
        dave,
        "other tokens still work"
    );
}

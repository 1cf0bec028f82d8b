//! The `storeplane store ...` commands as a person runs them: what they print and how
//! they fail.

use chrono::{Duration, Utc};
use clap::Parser;
use storeplane_api::dto::{Page, StoreView};
use storeplane_client::{CommandError, StoreArgs, run_with_output};
use storeplane_domain::{EventKind, StoreStatus};

use crate::fake::{FakeApi, Fate, TOKEN};
use crate::fixtures::{store, store_created, with_status};

/// Runs `storeplane store ARGS...` against the fake; returns what it printed and how it
/// ended.
async fn storeplane(fake: &FakeApi, args: &[&str]) -> (String, Result<(), CommandError>) {
    let argv = ["store", "--server", fake.url(), "--token", TOKEN]
        .into_iter()
        .chain(args.iter().copied());
    let args = StoreArgs::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let result = run_with_output(args, &mut out).await;
    (String::from_utf8(out).unwrap(), result)
}

#[tokio::test]
async fn create_wait_prints_each_step_until_the_store_is_ready() {
    let fake = FakeApi::start().await;
    let (out, result) = storeplane(&fake, &["create", "acme", "--plan", "medium", "--wait"]).await;

    result.unwrap();
    assert!(out.starts_with("name:      acme\n"), "{out}");
    let steps: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("20"))
        .map(|l| &l[22..])
        .collect();
    assert_eq!(
        steps,
        [
            "created               store acme accepted",
            "status_changed        pending -> provisioning",
            "step                  applied 14 objects",
            "status_changed        provisioning -> ready",
        ]
    );
    assert!(out.ends_with(
        "store acme is ready at http://acme.127.0.0.1.nip.io (admin: http://acme.127.0.0.1.nip.io/wp-admin/); \
         `storeplane store reveal acme` shows its credentials once\n"
    ), "{out}");
}

#[tokio::test]
async fn create_wait_subscribes_before_it_creates() {
    let fake = FakeApi::start().await;
    storeplane(&fake, &["create", "acme", "--wait"])
        .await
        .1
        .unwrap();

    let order: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(order, ["GET /api/v1/events", "POST /api/v1/stores"]);
}

#[tokio::test]
async fn create_wait_fails_with_the_reason_when_the_store_fails() {
    let fake = FakeApi::start().await;
    fake.set_fate(Fate::Fail("image wordpress:7 could not be pulled".into()));
    let (out, result) = storeplane(&fake, &["create", "acme", "--wait"]).await;

    let err = result.unwrap_err();
    assert!(matches!(err, CommandError::StoreFailed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "store \"acme\" failed: image wordpress:7 could not be pulled (`storeplane store retry acme` tries again)"
    );
    assert!(
        out.contains("provisioning -> failed: image wordpress:7 could not be pulled"),
        "{out}"
    );
}

#[tokio::test]
async fn create_wait_gives_up_after_the_timeout() {
    let fake = FakeApi::start().await;
    fake.set_fate(Fate::Stay);
    let (_, result) = storeplane(&fake, &["create", "acme", "--wait", "--timeout", "1"]).await;

    let message = result.unwrap_err().to_string();
    assert!(
        message.starts_with("gave up waiting for store \"acme\" after 1s: it is still pending"),
        "{message}"
    );
}

#[tokio::test]
async fn create_with_json_output_prints_the_apis_store() {
    let fake = FakeApi::start().await;
    let (out, result) = storeplane(
        &fake,
        &[
            "--output",
            "json",
            "create",
            "acme",
            "--idempotency-key",
            "k1",
        ],
    )
    .await;

    result.unwrap();
    let store: StoreView = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (store.name.as_str(), store.status),
        ("acme", StoreStatus::Pending)
    );
    assert_eq!(fake.requests()[0].header("idempotency-key"), Some("k1"));
}

#[tokio::test]
async fn create_wait_with_json_output_prints_one_document_per_line_ending_with_the_store() {
    let fake = FakeApi::start().await;
    let (out, result) = storeplane(&fake, &["--output", "json", "create", "acme", "--wait"]).await;

    result.unwrap();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert_eq!(lines[1]["kind"], "created");
    assert_eq!(lines[5]["status"], "ready");
}

#[tokio::test]
async fn list_prints_an_aligned_table() {
    let fake = FakeApi::start().await;
    let now = Utc::now();
    fake.seed(with_status(
        store_created("old-shop", now - Duration::days(3) - Duration::hours(5)),
        StoreStatus::Failed,
    ));
    fake.seed(store_created(
        "acme",
        now - Duration::hours(2) - Duration::minutes(10),
    ));
    fake.seed(with_status(
        store_created("b2b", now - Duration::minutes(45) - Duration::seconds(30)),
        StoreStatus::Provisioning,
    ));
    let (out, result) = storeplane(&fake, &["list"]).await;

    result.unwrap();
    assert_eq!(
        out,
        "\
NAME       STATUS         ENGINE        PLAN    URL                                AGE
b2b        provisioning   woocommerce   small   http://b2b.127.0.0.1.nip.io        45m
acme       ready          woocommerce   small   http://acme.127.0.0.1.nip.io       2h
old-shop   failed         woocommerce   small   http://old-shop.127.0.0.1.nip.io   3d
"
    );
}

#[tokio::test]
async fn list_without_stores_says_how_to_create_one() {
    let fake = FakeApi::start().await;
    let (out, _) = storeplane(&fake, &["list"]).await;

    assert_eq!(
        out,
        "No stores yet. Create one with `storeplane store create NAME`.\n"
    );
}

#[tokio::test]
async fn list_all_follows_the_cursor_to_the_last_page() {
    let fake = FakeApi::start().await;
    for name in ["one", "two", "three"] {
        fake.seed(store(name));
    }
    let (out, result) = storeplane(
        &fake,
        &[
            "--output", "json", "list", "--all", "--limit", "2", "--status", "ready",
        ],
    )
    .await;

    result.unwrap();
    let page: Page<StoreView> = serde_json::from_str(&out).unwrap();
    let names: Vec<_> = page.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["three", "two", "one"]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(
        fake.requests()[1].line(),
        "GET /api/v1/stores?status=ready&limit=2&cursor=2"
    );
}

#[tokio::test]
async fn list_of_one_page_says_that_more_stores_exist() {
    let fake = FakeApi::start().await;
    for name in ["one", "two"] {
        fake.seed(store(name));
    }
    let (out, _) = storeplane(&fake, &["list", "--limit", "1"]).await;

    assert!(
        out.ends_with("\n\nMore stores exist: pass --all to list them all.\n"),
        "{out}"
    );
}

#[tokio::test]
async fn get_by_name_prints_the_store_as_key_value_lines() {
    let fake = FakeApi::start().await;
    let mut broken = with_status(store("acme"), StoreStatus::Failed);
    broken.status_reason = Some("the setup job failed 3 times".into());
    fake.seed(broken);
    let (out, result) = storeplane(&fake, &["get", "acme"]).await;

    result.unwrap();
    let lines: Vec<&str> = out.lines().take(6).collect();
    assert_eq!(lines[0], "name:      acme");
    assert_eq!(lines[2], "status:    failed");
    assert_eq!(lines[3], "reason:    the setup job failed 3 times");
    assert_eq!(lines[5], "plan:      small");
}

#[tokio::test]
async fn get_of_an_unknown_name_fails_with_not_found() {
    let fake = FakeApi::start().await;
    let (_, result) = storeplane(&fake, &["get", "nope"]).await;

    assert_eq!(result.unwrap_err().to_string(), "no store named \"nope\"");
}

#[tokio::test]
async fn reveal_prints_the_credentials_once_with_a_warning() {
    let fake = FakeApi::start().await;
    fake.seed(store("acme"));
    let (out, result) = storeplane(&fake, &["reveal", "acme"]).await;
    let (_, again) = storeplane(&fake, &["reveal", "acme"]).await;

    result.unwrap();
    assert_eq!(
        out,
        "\
username:  admin
password:  correct-horse-battery
admin url: http://acme.127.0.0.1.nip.io/wp-admin/

Save these now: storeplane shows a store's credentials only once.
"
    );
    assert!(
        again
            .unwrap_err()
            .to_string()
            .starts_with("the credentials were already revealed")
    );
}

#[tokio::test]
async fn delete_wait_prints_the_teardown_until_the_store_is_deleted() {
    let fake = FakeApi::start().await;
    let mut acme = store("acme");
    acme.backup.keep_after_delete_days = 30;
    fake.seed(acme);
    let (out, result) = storeplane(&fake, &["delete", "acme", "--wait"]).await;

    result.unwrap();
    assert!(
        out.contains("teardown              namespace deleted"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\nstore acme is deleted; its backups are kept for 30 days: until then \
             `storeplane store create NAME --from-backup ID` restores one as a new store \
             (`storeplane store backups acme` lists them)\n"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn delete_says_nothing_of_backups_a_server_does_not_keep() {
    let fake = FakeApi::start().await;
    fake.seed(store("acme"));
    let (out, result) = storeplane(&fake, &["delete", "acme", "--wait"]).await;

    result.unwrap();
    assert!(out.ends_with("\nstore acme is deleted\n"), "{out}");
}

#[tokio::test]
async fn retry_gives_a_failed_store_a_fresh_attempt() {
    let fake = FakeApi::start().await;
    fake.seed(with_status(store("acme"), StoreStatus::Failed));
    let (out, result) = storeplane(&fake, &["retry", "acme"]).await;

    result.unwrap();
    assert!(out.contains("status:    pending"), "{out}");
}

#[tokio::test]
async fn events_prints_the_timeline_oldest_first() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    fake.push_event(acme.id, EventKind::Step, "applied 14 objects");
    fake.push_event(
        acme.id,
        EventKind::DriftRestored,
        "NetworkPolicy default-deny was missing; restored",
    );
    let (out, result) = storeplane(&fake, &["events", "acme"]).await;

    result.unwrap();
    let lines: Vec<&str> = out.lines().map(|l| &l[22..]).collect();
    assert_eq!(
        lines,
        [
            "step                  applied 14 objects",
            "drift_restored        NetworkPolicy default-deny was missing; restored",
        ]
    );
}

#[tokio::test]
async fn events_follow_prints_new_events_once_until_the_store_is_deleted() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    fake.push_event(acme.id, EventKind::Step, "applied 14 objects");
    let follower = {
        let fake = fake.clone();
        tokio::spawn(async move { storeplane(&fake, &["events", "acme", "--follow"]).await })
    };
    while fake
        .requests_to(&format!("/api/v1/stores/{}/events", acme.id))
        .is_empty()
    {
        tokio::task::yield_now().await;
    }
    fake.set_status(acme.id, StoreStatus::Deleting, None);
    fake.set_status(acme.id, StoreStatus::Deleted, None);
    let (out, result) = follower.await.unwrap();

    result.unwrap();
    let messages: Vec<&str> = out.lines().map(|l| l[44..].trim_start()).collect();
    assert_eq!(
        messages,
        [
            "applied 14 objects",
            "ready -> deleting",
            "deleting -> deleted"
        ]
    );
}

#[tokio::test]
async fn an_unreachable_server_is_named_in_the_error() {
    let args =
        StoreArgs::try_parse_from(["store", "--server", "http://127.0.0.1:9", "list"]).unwrap();
    let err = run_with_output(args, &mut Vec::new()).await.unwrap_err();

    assert!(
        err.to_string()
            .starts_with("cannot reach storeplane at http://127.0.0.1:9: "),
        "{err}"
    );
}

/// What the API answers to a change of `store` that recorded revision `number`.
fn change_recorded(store: &StoreView, number: u32) -> serde_json::Value {
    serde_json::json!({
        "store": store, "changed": true, "data_loss": false,
        "message": format!("revision {number} recorded: plan small -> medium"),
        "revision": {
            "number": number, "status": "pending", "release": "wp6.8-wc9.8", "plan": "medium",
            "title": store.name, "changes": "plan small -> medium", "actor": "user:alice",
            "reason": "", "failure": null, "created_at": Utc::now(), "started_at": null,
            "finished_at": null, "manifest_digest": "d", "platform_digest": "p",
            "manifest_kept": true, "checkpoint": null, "rollback_of": null, "restores": null,
            "migrates_data": false,
        },
    })
}

/// Runs `update acme --plan medium --wait` against `fake` while `steps` (status, detail)
/// of revision 2 are streamed once the change was sent.
async fn update_wait_with_steps(
    steps: &[(&str, serde_json::Value)],
) -> (String, Result<(), CommandError>) {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let path = format!("/api/v1/stores/{}", acme.id);
    fake.answer(
        axum::http::Method::PATCH,
        &path,
        202,
        change_recorded(&acme, 2),
    );
    let run = tokio::spawn({
        let fake = fake.clone();
        async move {
            storeplane(
                &fake,
                &[
                    "update",
                    "acme",
                    "--plan",
                    "medium",
                    "--wait",
                    "--timeout",
                    "10",
                ],
            )
            .await
        }
    });
    while !fake
        .requests_to(&path)
        .iter()
        .any(|r| r.method == axum::http::Method::PATCH)
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for (message, detail) in steps {
        fake.push_step(acme.id, message, detail.clone());
    }
    run.await.unwrap()
}

#[tokio::test]
async fn update_wait_follows_the_revision_until_it_is_deployed() {
    let (out, result) = update_wait_with_steps(&[
        (
            "revision 2 is being applied",
            serde_json::json!({"step": "revision", "revision": 2, "status": "applying"}),
        ),
        (
            "revision 2 deployed",
            serde_json::json!({"step": "revision", "revision": 2, "status": "deployed"}),
        ),
    ])
    .await;

    result.unwrap();
    assert!(
        out.starts_with("revision 2 recorded: plan small -> medium\n"),
        "{out}"
    );
    assert!(out.contains("revision 2 is being applied"), "{out}");
    assert!(
        out.ends_with("revision 2 of store acme is deployed\n"),
        "{out}"
    );
}

#[tokio::test]
async fn update_wait_fails_with_the_reason_when_the_revision_fails() {
    let (_, result) = update_wait_with_steps(&[(
        "revision 2 failed: ImagePullBackOff",
        serde_json::json!({"step": "revision", "revision": 2, "status": "failed", "failure": "ImagePullBackOff: wordpress:9 not found"}),
    )])
    .await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, CommandError::RevisionFailed { revision: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("ImagePullBackOff: wordpress:9 not found"),
        "{err}"
    );
}

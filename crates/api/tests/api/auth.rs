//! Authentication and tenancy: who may call, and who may see which store.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use storeplane_api::{ApiSettings, AuthMode, secret};
use storeplane_domain::{Role, UserName};

use crate::support::{TestApp, settings, store_body};

#[tokio::test]
async fn requests_without_valid_credentials_are_401() {
    let app = TestApp::new().await;
    for reply in [
        app.get("/api/v1/stores").send().await,
        app.get("/api/v1/stores")
            .bearer("spt_not-a-real-token")
            .send()
            .await,
        app.get("/api/v1/stores")
            .header("Authorization", "Basic YWxpY2U6cHc=")
            .send()
            .await,
        app.get("/api/v1/events").send().await,
    ] {
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNAUTHORIZED, "unauthenticated")
        );
    }
}

#[tokio::test]
async fn health_and_the_api_document_need_no_credentials() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").send().await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz").send().await.status, StatusCode::OK);
    assert_eq!(app.get("/openapi.json").send().await.status, StatusCode::OK);
    let front = app.get("/").send().await;
    assert_eq!(front.status, StatusCode::OK);
    assert!(
        front.body.as_str().unwrap().contains("/docs/"),
        "the front page points at the API"
    );
}

#[tokio::test]
async fn a_user_cannot_read_reveal_retry_delete_or_follow_another_users_store() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    let store = app.create_store(&alice, "acme").await;
    let id = store["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/v1/stores/{id}")),
        (Method::GET, format!("/api/v1/stores/{id}/events")),
        (
            Method::POST,
            format!("/api/v1/stores/{id}/credentials/reveal"),
        ),
        (Method::POST, format!("/api/v1/stores/{id}/retry")),
        (Method::DELETE, format!("/api/v1/stores/{id}")),
    ] {
        let reply = app.request(method.clone(), &path).bearer(&bob).send().await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{method} {path}"
        );
    }
    let bobs = app.get("/api/v1/stores").bearer(&bob).send().await;
    assert_eq!(bobs.body["items"], json!([]));
    let still_there = app
        .get(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        still_there.body["status"], "pending",
        "bob's delete did nothing"
    );
}

#[tokio::test]
async fn an_admin_sees_and_acts_on_every_store() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let root = app.token("root", Role::Admin).await;
    let store = app.create_store(&alice, "acme").await;
    let all = app.get("/api/v1/stores").bearer(&root).send().await;
    assert_eq!(all.body["items"][0]["id"], store["id"]);
    let deleted = app
        .delete(&format!("/api/v1/stores/{}", store["id"].as_str().unwrap()))
        .bearer(&root)
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_cluster_endpoint_says_which_cluster_stores_go_to() {
    let settings = ApiSettings {
        cluster: storeplane_api::dto::ClusterView {
            name: "kube-sim (simulated)".into(),
            simulated: true,
        },
        ..settings()
    };
    let app = TestApp::with(settings).await;
    let alice = app.member("alice").await;
    let reply = app.get("/api/v1/cluster").bearer(&alice).send().await;
    assert_eq!(
        reply.body,
        json!({"name": "kube-sim (simulated)", "simulated": true})
    );
    assert_eq!(
        app.get("/api/v1/cluster").send().await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_session_endpoint_says_who_the_caller_is() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let reply = app.get("/api/v1/session").bearer(&alice).send().await;
    assert_eq!(reply.body["user"]["name"], "alice");
    assert_eq!(reply.body["user"]["role"], "member");
    assert_eq!(reply.body["auth"], "token");
}

/// Signs `name` in through a login link and returns the session cookie.
async fn sign_in(app: &TestApp, name: &str) -> String {
    let now = Utc::now();
    let user = app
        .repo
        .ensure_user(&UserName::parse(name).unwrap(), Role::Member, now)
        .await
        .unwrap();
    let link = secret::generate("spl_");
    app.repo
        .create_login_token(&secret::hash(&link), user.id, now + Duration::hours(1), now)
        .await
        .unwrap();
    let reply = app.get(&format!("/login?token={link}")).send().await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let cookie = reply.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let again = app.get(&format!("/login?token={link}")).send().await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a login link works once"
    );
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_login_link_gives_a_cookie_session_whose_changes_need_the_csrf_token() {
    let app = TestApp::new().await;
    let cookie = sign_in(&app, "carol").await;
    let session = app
        .get("/api/v1/session")
        .header("Cookie", &cookie)
        .send()
        .await;
    assert_eq!(session.body["auth"], "session");
    let csrf = session.body["csrf_token"].as_str().unwrap().to_owned();

    let forged = app
        .post("/api/v1/stores")
        .header("Cookie", &cookie)
        .json(&store_body("acme"))
        .send()
        .await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let wrong = app
        .post("/api/v1/stores")
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", "guess")
        .json(&store_body("acme"))
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let made = app
        .post("/api/v1/stores")
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .json(&store_body("acme"))
        .send()
        .await;
    assert_eq!(made.status, StatusCode::ACCEPTED, "{}", made.body);
}

#[tokio::test]
async fn an_unknown_session_cookie_is_401() {
    let app = TestApp::new().await;
    let reply = app
        .get("/api/v1/session")
        .header("Cookie", "storeplane_session=sps_made-up")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

fn proxy_settings() -> ApiSettings {
    ApiSettings {
        auth: AuthMode::Proxy {
            header: "x-forwarded-user".into(),
            trusted: vec!["10.0.0.0/8".parse().unwrap()],
        },
        ..settings()
    }
}

#[tokio::test]
async fn a_trusted_proxy_names_the_user() {
    let app = TestApp::with(proxy_settings()).await;
    let reply = app
        .get("/api/v1/session")
        .header("X-Forwarded-User", "dana@example.com")
        .sent_from("10.1.2.3:5000")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["name"], "dana@example.com");
    assert_eq!(reply.body["auth"], "proxy");
}

#[tokio::test]
async fn a_user_header_from_an_untrusted_address_is_ignored() {
    let app = TestApp::with(proxy_settings()).await;
    let reply = app
        .get("/api/v1/session")
        .header("X-Forwarded-User", "admin")
        .sent_from("192.0.2.9:5000")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

#[tokio::test]
async fn without_authentication_everyone_is_the_local_admin() {
    let app = TestApp::with(ApiSettings {
        auth: AuthMode::None,
        ..settings()
    })
    .await;
    let reply = app.get("/api/v1/session").send().await;
    assert_eq!(reply.body["user"]["name"], "local");
    assert_eq!(reply.body["user"]["role"], "admin");
}

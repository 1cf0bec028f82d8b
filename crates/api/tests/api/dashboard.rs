//! The embedded dashboard beside the API: its pages, files and cache headers, the sign-in
//! link's failure page, and the catalog its create form reads.

use axum::http::StatusCode;
use serde_json::json;
use storeplane_api::dto::PlanView;
use storeplane_domain::{Engine, Plan, Role};

use crate::support::{TestApp, settings};

fn header<'a>(reply: &'a crate::support::Reply, name: &str) -> &'a str {
    reply.headers[name].to_str().unwrap()
}

fn text(reply: &crate::support::Reply) -> &str {
    reply.body.as_str().unwrap()
}

#[tokio::test]
async fn the_dashboard_is_served_at_the_root_and_for_its_client_side_routes() {
    let app = TestApp::new().await;
    for path in ["/", "/stores/01936f3e-8b7a-7c2d-9e4f-0123456789ab"] {
        let page = app.get(path).send().await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&page, "cache-control"), "no-cache");
        assert!(header(&page, "content-security-policy").contains("default-src 'self'"));
        assert!(text(&page).contains("<div id=\"root\">"), "{path}");
    }
}

#[tokio::test]
async fn the_dashboards_hashed_files_are_cached_for_good() {
    let app = TestApp::new().await;
    let page = app.get("/").send().await;
    let script = text(&page)
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the entry page loads a script")
        .to_owned();
    let reply = app.get(&script).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        header(&reply, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&reply, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let etag = header(&reply, "etag").to_owned();
    let again = app.get(&script).header("if-none-match", &etag).send().await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_missing_file_or_api_path_is_a_json_404_not_the_dashboard() {
    let app = TestApp::new().await;
    for path in [
        "/assets/gone-1234.js",
        "/favicon.png",
        "/api/v1/nope",
        "/api",
    ] {
        let reply = app.get(path).send().await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.code(), "not_found", "{path}");
    }
}

#[tokio::test]
async fn an_expired_or_used_login_link_gets_a_page_that_says_so() {
    let app = TestApp::new().await;
    for path in ["/login?token=spl_unknown", "/login"] {
        let reply = app.get(path).send().await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(header(&reply, "content-type"), "text/html; charset=utf-8");
        assert!(text(&reply).contains("<h1>This sign-in link"), "{path}");
    }
}

#[tokio::test]
async fn the_catalog_lists_engines_with_their_availability_and_plans_with_their_size() {
    let plans = vec![
        PlanView {
            engine: Engine::WooCommerce,
            plan: Plan::Small,
            cpu: "2".to_owned(),
            memory: "2Gi".to_owned(),
            storage: "4Gi".to_owned(),
        },
        PlanView {
            engine: Engine::Medusa,
            plan: Plan::Small,
            cpu: "5".to_owned(),
            memory: "5Gi".to_owned(),
            storage: "6Gi".to_owned(),
        },
    ];
    let app = TestApp::with(storeplane_api::ApiSettings {
        plans,
        ..settings()
    })
    .await;
    let token = app.token("alice", Role::Member).await;
    let engines = app.get("/api/v1/engines").bearer(&token).send().await;
    assert_eq!(
        engines.body,
        json!([{"engine": "woocommerce", "available": true}, {"engine": "medusa", "available": true}])
    );
    let plans = app.get("/api/v1/plans").bearer(&token).send().await;
    assert_eq!(
        plans.body,
        json!([
            {"engine": "woocommerce", "plan": "small", "cpu": "2", "memory": "2Gi", "storage": "4Gi"},
            {"engine": "medusa", "plan": "small", "cpu": "5", "memory": "5Gi", "storage": "6Gi"},
        ])
    );
    assert_eq!(
        app.get("/api/v1/plans").send().await.status,
        StatusCode::UNAUTHORIZED
    );
}

//! Error paths: every failure comes back as a Status with the real server's reason and
//! code.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};

use crate::fixtures::{config_map, sim, status_of};

#[tokio::test]
async fn a_missing_object_is_not_found() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let status = status_of(maps.get("nope").await);
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, "configmaps \"nope\" not found");
}

#[tokio::test]
async fn creating_an_existing_name_is_already_exists() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    maps.create(&PostParams::default(), &config_map("a"))
        .await
        .expect("created");
    let status = status_of(maps.create(&PostParams::default(), &config_map("a")).await);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (409, "AlreadyExists")
    );
}

#[tokio::test]
async fn replacing_a_stale_version_is_a_conflict() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let stale = maps
        .create(&PostParams::default(), &config_map("a"))
        .await
        .expect("created");
    let mut first = stale.clone();
    first.data = Some([("greeting".to_string(), "hi".to_string())].into());
    maps.replace("a", &PostParams::default(), &first)
        .await
        .expect("first replace wins");
    let mut changed = stale.clone();
    changed.data = Some(Default::default());
    let status = status_of(maps.replace("a", &PostParams::default(), &changed).await);
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(status.message.contains("the object has been modified"));
}

#[tokio::test]
async fn an_object_without_a_name_is_invalid_with_a_cause() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let mut nameless = config_map("x");
    nameless.metadata.name = None;
    let status = status_of(maps.create(&PostParams::default(), &nameless).await);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.expect("details").causes;
    assert_eq!(causes[0].field, "metadata.name");
    assert_eq!(causes[0].reason, "FieldValueRequired");
}

#[tokio::test]
async fn an_uppercase_name_is_invalid() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let status = status_of(
        maps.create(&PostParams::default(), &config_map("Shop"))
            .await,
    );
    assert_eq!(status.code, 422);
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_not_found_as_on_a_real_cluster() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("nowhere");
    let status = status_of(maps.create(&PostParams::default(), &config_map("a")).await);
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, "namespaces \"nowhere\" not found");
}

async fn raw(
    sim: &crate::fixtures::Sim,
    method: &str,
    path: &str,
    body: &str,
) -> kube::core::Status {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("valid request");
    status_of(sim.client.request_text(request).await)
}

#[tokio::test]
async fn a_malformed_body_is_a_bad_request_not_a_crash() {
    let sim = sim().await;
    let status = raw(
        &sim,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "{not json",
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
    let still_serving = sim.namespaces().get("default").await;
    assert!(still_serving.is_ok());
}

#[tokio::test]
async fn an_unsupported_verb_is_method_not_allowed() {
    let sim = sim().await;
    let status = raw(
        &sim,
        "POST",
        "/api/v1/namespaces/default/configmaps/x",
        "{}",
    )
    .await;
    assert_eq!(
        (status.code, status.reason.as_str()),
        (405, "MethodNotAllowed")
    );
}

#[tokio::test]
async fn an_unknown_resource_is_not_found() {
    let sim = sim().await;
    let status = raw(&sim, "GET", "/api/v1/widgets", "").await;
    assert_eq!(status.code, 404);
}

//! Fault injection, from the start-up configuration and at runtime.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube_sim::{Faults, SimConfig, Verb};

use crate::controllers::job;
use crate::fixtures::{Sim, config_map, deployment, sim, sim_with, status_of, wait_for};

fn failing(verbs: &[Verb], code: u16) -> Faults {
    Faults {
        errors: vec![kube_sim::ErrorRule {
            verbs: verbs.to_vec(),
            rate: 1.0,
            code,
        }],
        ..Faults::default()
    }
}

async fn raw_create(sim: &Sim) -> http::Response<kube::client::Body> {
    let body = serde_json::to_vec(&config_map("x")).expect("serializable");
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/v1/namespaces/default/configmaps")
        .header("content-type", "application/json")
        .body(body)
        .expect("valid request");
    sim.client_without_retries()
        .send(request.map(kube::client::Body::from))
        .await
        .expect("answered")
}

#[tokio::test]
async fn an_unavailable_fault_fails_its_verb_with_retry_after() {
    let sim = sim_with(SimConfig {
        faults: failing(&[Verb::Create], 503),
        ..SimConfig::default()
    })
    .await;
    let response = raw_create(&sim).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let maps: Api<ConfigMap> = sim.api("default");
    assert!(
        maps.list(&ListParams::default()).await.is_ok(),
        "other verbs still work"
    );
}

#[tokio::test]
async fn a_throttling_fault_answers_429_with_retry_after() {
    let sim = sim().await;
    sim.handle.faults().set(failing(&[Verb::Create], 429));
    let response = raw_create(&sim).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn internal_error_and_conflict_faults_come_back_as_status_objects() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    sim.handle.faults().set(failing(&[Verb::List], 500));
    let status = status_of(maps.list(&ListParams::default()).await);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (500, "InternalError")
    );
    sim.handle.faults().set(failing(&[], 409));
    let status = status_of(maps.create(&PostParams::default(), &config_map("x")).await);
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
}

#[tokio::test]
async fn added_latency_delays_every_request() {
    let sim = sim().await;
    sim.handle.faults().update(|f| f.latency_ms = 150);
    let maps: Api<ConfigMap> = sim.api("default");
    let started = Instant::now();
    maps.list(&ListParams::default()).await.expect("listed");
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_reset_closes_the_connection_without_a_response() {
    let sim = sim().await;
    sim.handle.faults().update(|f| {
        f.reset_rate = 1.0;
        f.reset_verbs = vec![Verb::Get];
    });
    let maps: Api<ConfigMap> = sim.api("default");
    let error = maps.get("anything").await.expect_err("no response");
    assert!(
        !matches!(error, kube::Error::Api(_)),
        "a transport error, not a Status: {error:?}"
    );
    assert!(maps.list(&ListParams::default()).await.is_ok());
}

#[tokio::test]
async fn pods_in_a_never_ready_namespace_wait_in_image_pull_back_off() {
    let sim = sim().await;
    let ns = sim.namespace("store-broken").await;
    sim.handle.faults().update(|f| {
        f.never_ready_namespaces.insert(ns.clone());
    });
    let deployments: Api<Deployment> = sim.api(&ns);
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 1, "wordpress:nope"),
        )
        .await
        .expect("created");
    let pods: Api<Pod> = sim.api(&ns);
    let pod_name = wait_for(&deployments, "web", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()).and_then(|s| s.replicas) == Some(1)
    })
    .await;
    assert_ne!(pod_name.status.and_then(|s| s.available_replicas), Some(1));
    let pod = pods
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items
        .remove(0);
    let waiting = pod
        .status
        .and_then(|s| s.container_statuses)
        .expect("container statuses")[0]
        .state
        .clone()
        .and_then(|s| s.waiting)
        .expect("waiting");
    assert_eq!(waiting.reason.as_deref(), Some("ImagePullBackOff"));
    assert_eq!(
        waiting.message.as_deref(),
        Some("Back-off pulling image \"wordpress:nope\"")
    );
}

#[tokio::test]
async fn pods_of_a_never_ready_image_wait_in_image_pull_back_off_in_any_namespace() {
    let sim = sim().await;
    let ns = sim.namespace("store-new-release").await;
    sim.handle.faults().update(|f| {
        f.never_ready_images.insert("wordpress:9.9-bad".into());
    });
    let deployments: Api<Deployment> = sim.api(&ns);
    for (name, image) in [("bad", "wordpress:9.9-bad"), ("good", "wordpress:6.8")] {
        deployments
            .create(&PostParams::default(), &deployment(name, 1, image))
            .await
            .expect("created");
    }
    wait_for(&deployments, "good", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.available_replicas)
            == Some(1)
    })
    .await;
    let pods: Api<Pod> = sim.api(&ns);
    let waiting: Vec<_> = pods
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items
        .into_iter()
        .filter_map(|pod| pod.status?.container_statuses?.remove(0).state?.waiting)
        .collect();
    assert_eq!(
        waiting.len(),
        1,
        "only the bad image's pod waits: {waiting:?}"
    );
    assert_eq!(waiting[0].reason.as_deref(), Some("ImagePullBackOff"));
    assert_eq!(
        waiting[0].message.as_deref(),
        Some("Back-off pulling image \"wordpress:9.9-bad\"")
    );
}

#[tokio::test]
async fn a_job_named_in_the_failing_jobs_fault_fails() {
    let sim = sim().await;
    sim.handle.faults().update(|f| {
        f.failing_jobs.insert("default/migrate".into());
    });
    let jobs: Api<Job> = sim.api("default");
    jobs.create(&PostParams::default(), &job("migrate"))
        .await
        .expect("created");
    let failed = wait_for(&jobs, "migrate", |j: Option<&Job>| {
        j.and_then(|j| j.status.as_ref()).and_then(|s| s.failed) == Some(1)
    })
    .await;
    let conditions = failed.status.and_then(|s| s.conditions).unwrap_or_default();
    let failed = conditions
        .iter()
        .find(|c| c.type_ == "Failed")
        .expect("Failed condition");
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
}

#[tokio::test]
async fn faults_are_set_read_and_cleared_through_the_admin_endpoint() {
    let sim = sim().await;
    let send = |method: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri("/kube-sim/faults")
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .expect("valid request")
    };
    let rule = r#"{"errors": [{"verbs": ["get"], "rate": 1.0, "code": 503}]}"#;
    sim.client
        .request_text(send("PUT", rule))
        .await
        .expect("faults set");
    let current: Faults = sim
        .client
        .request(send("GET", ""))
        .await
        .expect("faults read");
    assert_eq!(current.errors[0].code, 503);
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_without_retries(), "default");
    assert_eq!(status_of(maps.get("x").await).code, 503);
    sim.client
        .request_text(send("DELETE", ""))
        .await
        .expect("faults cleared");
    assert_eq!(status_of(maps.get("x").await).code, 404);
    let bad = sim.client.request_text(send("PUT", "{nope")).await;
    assert_eq!(status_of(bad).code, 400);
}

#[tokio::test]
async fn kube_rs_rides_out_an_occasional_unavailable_answer() {
    let sim = sim().await;
    sim.handle.faults().set(Faults {
        errors: vec!["get=0.3:503".parse().expect("valid rule")],
        ..Faults::default()
    });
    let namespaces = sim.namespaces();
    for _ in 0..5 {
        namespaces
            .get("default")
            .await
            .expect("retried until it succeeds");
    }
}

//! Server-side dry run (`?dryRun=All`): a write is validated, defaulted and admitted as any
//! other and answered with the object as it would be stored, but nothing is stored, no
//! resourceVersion is bumped and no watcher hears of it.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::fixtures::{Sim, config_map, sim, status_of};
use crate::pod_security::{labelled_namespace, pod};

fn dry_post() -> PostParams {
    PostParams {
        dry_run: true,
        ..PostParams::default()
    }
}

fn dry_apply() -> PatchParams {
    PatchParams {
        dry_run: true,
        ..PatchParams::apply("storeplane").force()
    }
}

/// The cluster's resourceVersion now: any stored write bumps it.
async fn cluster_version(sim: &Sim) -> String {
    let maps: Api<ConfigMap> = Api::all(sim.client.clone());
    maps.list(&ListParams::default())
        .await
        .expect("listed")
        .metadata
        .resource_version
        .expect("a list carries the cluster's resourceVersion")
}

fn job(image: &str) -> serde_json::Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "reset"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "reset", "image": image}],
        }}},
    })
}

#[tokio::test]
async fn a_dry_run_create_answers_the_object_and_stores_nothing() {
    let sim = sim().await;
    let ns = sim.namespace("dry").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    let before = cluster_version(&sim).await;

    let created = maps
        .create(&dry_post(), &config_map("settings"))
        .await
        .expect("a valid object passes");

    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert!(created.metadata.uid.is_some(), "defaulted as if stored");
    assert!(created.metadata.creation_timestamp.is_some());
    assert!(maps.get_opt("settings").await.expect("read").is_none());
    assert_eq!(cluster_version(&sim).await, before);
}

#[tokio::test]
async fn a_dry_run_apply_answers_the_change_and_leaves_the_live_object() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api(&sim.namespace("dry").await);
    let apply = PatchParams::apply("storeplane").force();
    let mut map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"plan": "small"}});
    let live = maps
        .patch("settings", &apply, &Patch::Apply(&map))
        .await
        .expect("applied");
    let before = cluster_version(&sim).await;

    map["data"]["plan"] = json!("large");
    let answered = maps
        .patch("settings", &dry_apply(), &Patch::Apply(&map))
        .await
        .expect("a dry-run apply passes");

    assert_eq!(answered.data.expect("data")["plan"], "large");
    assert_eq!(
        answered.metadata.resource_version,
        live.metadata.resource_version
    );
    let stored = maps.get("settings").await.expect("still there");
    assert_eq!(stored.data.expect("data")["plan"], "small");
    assert_eq!(cluster_version(&sim).await, before);
}

#[tokio::test]
async fn a_dry_run_apply_of_a_new_object_is_created_but_not_stored() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api(&sim.namespace("dry").await);

    let answered = jobs
        .patch("reset", &dry_apply(), &Patch::Apply(job("wordpress:cli")))
        .await
        .expect("a dry-run apply passes");

    assert!(answered.metadata.uid.is_some());
    assert!(jobs.get_opt("reset").await.expect("read").is_none());
}

#[tokio::test]
async fn a_dry_run_is_refused_what_the_write_would_be_refused() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api(&sim.namespace("dry").await);
    jobs.patch(
        "reset",
        &PatchParams::apply("storeplane").force(),
        &Patch::Apply(job("wordpress:cli")),
    )
    .await
    .expect("created");

    let status = status_of(
        jobs.patch("reset", &dry_apply(), &Patch::Apply(job("wordpress:cli-2")))
            .await,
    );

    assert_eq!(status.code, 422, "{status:?}");
    assert!(status.message.contains("spec.template"), "{status:?}");
}

#[tokio::test]
async fn a_dry_run_delete_leaves_the_object() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api(&sim.namespace("dry").await);
    maps.create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("created");
    let before = cluster_version(&sim).await;

    let params = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    maps.delete("settings", &params)
        .await
        .expect("a dry-run delete passes");

    assert!(maps.get_opt("settings").await.expect("read").is_some());
    assert_eq!(cluster_version(&sim).await, before);
}

#[tokio::test]
async fn an_unknown_dry_run_value_is_invalid_and_changes_nothing() {
    let sim = sim().await;
    let ns = sim.namespace("dry").await;
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("/api/v1/namespaces/{ns}/configmaps?dryRun=Maybe"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&config_map("settings")).expect("encodes"))
        .expect("a request");

    let status = status_of(sim.client.request::<ConfigMap>(request).await);

    assert_eq!(status.code, 422, "{status:?}");
    assert!(status.message.contains("dryRun"), "{status:?}");
    let maps: Api<ConfigMap> = sim.api(&ns);
    assert!(maps.get_opt("settings").await.expect("read").is_none());
}

#[tokio::test]
async fn a_dry_run_pod_is_held_to_its_namespaces_pod_security() {
    let sim = sim().await;
    sim.namespaces()
        .create(
            &PostParams::default(),
            &labelled_namespace(
                "locked",
                json!({"pod-security.kubernetes.io/enforce": "restricted"}),
            ),
        )
        .await
        .expect("created");
    let pods: Api<Pod> = sim.api("locked");

    let status = status_of(
        pods.create(&dry_post(), &pod("x", json!({"privileged": true})))
            .await,
    );

    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status.message.contains("violates PodSecurity"),
        "{status:?}"
    );
}

//! Patches: server-side apply with field managers, merge and JSON patch, and the status
//! subresource.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::fixtures::{config_map, deployment, sim, status_of};

fn replicas(d: &Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.replicas)
}

fn apply_replicas(name: &str, n: i32) -> Patch<serde_json::Value> {
    Patch::Apply(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": n,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx"}]},
            },
        },
    }))
}

#[tokio::test]
async fn server_side_apply_creates_then_updates_and_records_its_manager() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    let params = PatchParams::apply("storeplane");
    let created = deployments
        .patch("web", &params, &apply_replicas("web", 1))
        .await
        .expect("applied");
    assert_eq!(replicas(&created), Some(1));
    let updated = deployments
        .patch("web", &params, &apply_replicas("web", 2))
        .await
        .expect("applied");
    assert_eq!(replicas(&updated), Some(2));
    assert_eq!(updated.metadata.generation, Some(2));
    let managers = updated.metadata.managed_fields.expect("managed fields");
    assert_eq!(managers.len(), 1);
    assert_eq!(managers[0].manager.as_deref(), Some("storeplane"));
    assert_eq!(managers[0].operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(&managers[0].fields_v1).expect("serializable");
    assert!(fields.pointer("/f:spec/f:replicas").is_some(), "{fields}");
}

#[tokio::test]
async fn reapplying_an_unchanged_configuration_does_not_bump_the_version() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let params = PatchParams::apply("storeplane");
    let cfg = Patch::Apply(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}
    }));
    let first = maps.patch("cfg", &params, &cfg).await.expect("applied");
    let again = maps.patch("cfg", &params, &cfg).await.expect("applied");
    assert_eq!(
        again.metadata.resource_version,
        first.metadata.resource_version
    );
}

#[tokio::test]
async fn applying_a_field_another_manager_owns_conflicts_and_names_the_owner() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .patch(
            "web",
            &PatchParams::apply("storeplane"),
            &apply_replicas("web", 1),
        )
        .await
        .expect("applied");
    let status = status_of(
        deployments
            .patch(
                "web",
                &PatchParams::apply("autoscaler"),
                &apply_replicas("web", 5),
            )
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    let causes = status.details.expect("details").causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].field, ".spec.replicas");
    assert!(causes[0].message.contains("\"storeplane\""));
}

#[tokio::test]
async fn forcing_an_apply_takes_the_field_over() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .patch(
            "web",
            &PatchParams::apply("storeplane"),
            &apply_replicas("web", 1),
        )
        .await
        .expect("applied");
    let taken = deployments
        .patch(
            "web",
            &PatchParams::apply("autoscaler").force(),
            &apply_replicas("web", 5),
        )
        .await
        .expect("forced");
    assert_eq!(replicas(&taken), Some(5));
    let status = status_of(
        deployments
            .patch(
                "web",
                &PatchParams::apply("storeplane"),
                &apply_replicas("web", 1),
            )
            .await,
    );
    assert!(
        status.message.contains("\"autoscaler\""),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_field_dropped_from_the_applied_configuration_is_removed() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let params = PatchParams::apply("storeplane");
    let apply = |data: serde_json::Value| {
        Patch::Apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": data}),
        )
    };
    maps.patch("cfg", &params, &apply(json!({"a": "1", "b": "2"})))
        .await
        .expect("applied");
    let after = maps
        .patch("cfg", &params, &apply(json!({"a": "1"})))
        .await
        .expect("applied");
    assert_eq!(
        after.data,
        Some([("a".to_string(), "1".to_string())].into())
    );
}

#[tokio::test]
async fn a_merge_patch_sets_and_removes_keys() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    maps.create(&PostParams::default(), &config_map("cfg"))
        .await
        .expect("created");
    let patch = Patch::Merge(json!({"data": {"greeting": null, "farewell": "bye"}}));
    let patched = maps
        .patch("cfg", &PatchParams::default(), &patch)
        .await
        .expect("patched");
    assert_eq!(
        patched.data,
        Some([("farewell".to_string(), "bye".to_string())].into())
    );
}

#[tokio::test]
async fn a_strategic_merge_patch_keeps_other_containers() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 0, "nginx:1"))
        .await
        .expect("created");
    let patch = Patch::Strategic(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}),
    );
    let patched = deployments
        .patch("web", &PatchParams::default(), &patch)
        .await
        .expect("patched");
    let containers = patched
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:2"));
}

/// Sends a JSON patch (kube-rs only offers `Patch::Json` behind a feature we do not need).
async fn json_patch(
    sim: &crate::fixtures::Sim,
    ops: serde_json::Value,
) -> Result<ConfigMap, kube::Error> {
    let request = http::Request::builder()
        .method("PATCH")
        .uri("/api/v1/namespaces/default/configmaps/cfg")
        .header("content-type", "application/json-patch+json")
        .body(serde_json::to_vec(&ops).expect("serializable"))
        .expect("valid request");
    sim.client.request::<ConfigMap>(request).await
}

#[tokio::test]
async fn a_json_patch_applies_and_a_failed_test_is_rejected() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    maps.create(&PostParams::default(), &config_map("cfg"))
        .await
        .expect("created");
    let patched = json_patch(
        &sim,
        json!([
            {"op": "replace", "path": "/data/greeting", "value": "hi"},
            {"op": "add", "path": "/metadata/labels/tier", "value": "gold"},
        ]),
    )
    .await
    .expect("patched");
    assert_eq!(patched.data.expect("data")["greeting"], "hi");
    assert_eq!(patched.metadata.labels.expect("labels")["tier"], "gold");
    let failing = json!([{"op": "test", "path": "/data/greeting", "value": "nope"}]);
    let status = status_of(json_patch(&sim, failing).await);
    assert_eq!(status.code, 422);
}

#[tokio::test]
async fn status_changes_only_land_through_the_status_subresource() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 0, "nginx"))
        .await
        .expect("created");
    let through_main = Patch::Merge(json!({"status": {"observedGeneration": 42}}));
    let ignored = deployments
        .patch("web", &PatchParams::default(), &through_main)
        .await
        .expect("patched");
    assert_ne!(ignored.status.and_then(|s| s.observed_generation), Some(42));

    let through_status =
        Patch::Merge(json!({"status": {"observedGeneration": 42}, "spec": {"replicas": 9}}));
    let landed = deployments
        .patch_status("web", &PatchParams::default(), &through_status)
        .await
        .expect("patched");
    assert_eq!(landed.status.and_then(|s| s.observed_generation), Some(42));
    assert_eq!(landed.spec.and_then(|s| s.replicas), Some(0));
}

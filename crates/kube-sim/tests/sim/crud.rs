//! Create, get, list, replace and delete through kube-rs.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::fixtures::{config_map, deployment, labelled_config_map, sim};

#[tokio::test]
async fn a_created_object_carries_server_metadata_and_reads_back() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    let created = maps
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("created");
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert_eq!(meta.namespace.as_deref(), Some("shop"));
    let fetched = maps.get("settings").await.expect("found");
    assert_eq!(fetched.metadata.resource_version, meta.resource_version);
    assert_eq!(fetched.data, created.data);
}

#[tokio::test]
async fn resource_versions_come_from_one_cluster_wide_counter() {
    let sim = sim().await;
    let a = sim.namespace("a").await;
    let maps: Api<ConfigMap> = sim.api(&a);
    let first = maps
        .create(&PostParams::default(), &config_map("one"))
        .await
        .expect("created");
    let second = maps
        .create(&PostParams::default(), &config_map("two"))
        .await
        .expect("created");
    let rv = |m: &ConfigMap| -> u64 {
        m.metadata
            .resource_version
            .as_deref()
            .unwrap_or("0")
            .parse()
            .expect("numeric")
    };
    assert!(rv(&second) > rv(&first));
}

#[tokio::test]
async fn generate_name_produces_a_unique_name() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    let mut cm = config_map("");
    cm.metadata.name = None;
    cm.metadata.generate_name = Some("settings-".into());
    let created = maps
        .create(&PostParams::default(), &cm)
        .await
        .expect("created");
    let name = created.metadata.name.expect("named");
    assert!(name.starts_with("settings-") && name.len() == "settings-".len() + 5);
}

#[tokio::test]
async fn label_selectors_filter_lists() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    for (name, labels) in [
        ("gold", json!({"tier": "gold", "app": "shop"})),
        ("silver", json!({"tier": "silver", "app": "shop"})),
        ("plain", json!({"app": "blog"})),
    ] {
        maps.create(&PostParams::default(), &labelled_config_map(name, labels))
            .await
            .expect("created");
    }
    let names = |selector: &'static str| {
        let maps = maps.clone();
        async move {
            let list = maps
                .list(&ListParams::default().labels(selector))
                .await
                .expect("listed");
            list.items
                .into_iter()
                .filter_map(|m| m.metadata.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("tier=gold").await, ["gold"]);
    assert_eq!(names("tier==gold").await, ["gold"]);
    assert_eq!(names("tier!=gold").await, ["plain", "silver"]);
    assert_eq!(names("tier in (gold,silver)").await, ["gold", "silver"]);
    assert_eq!(names("tier notin (gold)").await, ["plain", "silver"]);
    assert_eq!(names("tier").await, ["gold", "silver"]);
    assert_eq!(names("!tier").await, ["plain"]);
    assert_eq!(names("app=shop,tier=silver").await, ["silver"]);
}

#[tokio::test]
async fn field_selectors_match_name_and_namespace() {
    let sim = sim().await;
    for ns in ["a", "b"] {
        sim.namespace(ns).await;
        let maps: Api<ConfigMap> = sim.api(ns);
        maps.create(&PostParams::default(), &config_map("same"))
            .await
            .expect("created");
    }
    let all: Api<ConfigMap> = Api::all(sim.client.clone());
    let in_b = all
        .list(&ListParams::default().fields("metadata.namespace=b,metadata.name=same"))
        .await
        .expect("listed");
    assert_eq!(in_b.items.len(), 1);
    assert_eq!(in_b.items[0].metadata.namespace.as_deref(), Some("b"));
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    for i in 0..5 {
        maps.create(&PostParams::default(), &config_map(&format!("cm-{i}")))
            .await
            .expect("created");
    }
    let first = maps
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let token = first.metadata.continue_.clone().expect("more pages");
    let second = maps
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .expect("page 2");
    let names: Vec<_> = second
        .items
        .into_iter()
        .filter_map(|m| m.metadata.name)
        .collect();
    assert_eq!(names, ["cm-2", "cm-3", "cm-4"]);
    assert!(second.metadata.continue_.is_none());
}

#[tokio::test]
async fn lists_span_all_namespaces() {
    let sim = sim().await;
    for ns in ["store-a", "store-b"] {
        sim.namespace(ns).await;
        let deployments: Api<Deployment> = sim.api(ns);
        deployments
            .create(&PostParams::default(), &deployment("web", 0, "nginx"))
            .await
            .expect("created");
    }
    let all: Api<Deployment> = Api::all(sim.client.clone());
    let list = all.list(&ListParams::default()).await.expect("listed");
    let namespaces: Vec<_> = list
        .items
        .iter()
        .filter_map(|d| d.metadata.namespace.clone())
        .collect();
    assert_eq!(namespaces, ["store-a", "store-b"]);
}

#[tokio::test]
async fn replace_with_the_current_version_updates_the_object() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    let mut cm = maps
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("created");
    cm.data = Some([("greeting".to_string(), "bonjour".to_string())].into());
    let replaced = maps
        .replace("settings", &PostParams::default(), &cm)
        .await
        .expect("replaced");
    assert_eq!(replaced.data, cm.data);
    assert_ne!(
        replaced.metadata.resource_version,
        cm.metadata.resource_version
    );
}

#[tokio::test]
async fn generation_moves_with_the_spec_but_not_with_labels() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let deployments: Api<Deployment> = sim.api(&ns);
    let created = deployments
        .create(&PostParams::default(), &deployment("web", 0, "nginx"))
        .await
        .expect("created");
    assert_eq!(created.metadata.generation, Some(1));
    let patch = |p: serde_json::Value| {
        let deployments = deployments.clone();
        async move {
            deployments
                .patch("web", &PatchParams::default(), &Patch::Merge(p))
                .await
                .expect("patched")
        }
    };
    let relabelled = patch(json!({"metadata": {"labels": {"team": "shop"}}})).await;
    assert_eq!(relabelled.metadata.generation, Some(1));
    let scaled = patch(json!({"spec": {"replicas": 3}})).await;
    assert_eq!(scaled.metadata.generation, Some(2));
}

#[tokio::test]
async fn delete_answers_with_a_success_status_and_the_object_is_gone() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    maps.create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("created");
    let outcome = maps
        .delete("settings", &DeleteParams::default())
        .await
        .expect("deleted");
    let status = outcome.right().expect("a Status, not the object");
    assert_eq!(status.details.map(|d| d.name), Some("settings".to_string()));
    assert!(maps.get_opt("settings").await.expect("get works").is_none());
}

#[tokio::test]
async fn discovery_finds_every_kind_storeplane_uses() {
    let sim = sim().await;
    let discovery = kube::discovery::Discovery::new(sim.client.clone())
        .run()
        .await
        .expect("discovery runs");
    for (group, kind) in [
        ("", "Namespace"),
        ("", "Secret"),
        ("apps", "StatefulSet"),
        ("batch", "Job"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("coordination.k8s.io", "Lease"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
    ] {
        let found = discovery
            .groups()
            .filter(|g| g.name() == group)
            .flat_map(|g| g.recommended_resources())
            .any(|(r, _)| r.kind == kind);
        assert!(found, "{group}/{kind} is discoverable");
    }
    let version = sim.client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");
}

#[tokio::test]
async fn delete_collection_removes_only_the_selected_objects() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    for (name, labels) in [("a", json!({"app": "shop"})), ("b", json!({"app": "blog"}))] {
        maps.create(&PostParams::default(), &labelled_config_map(name, labels))
            .await
            .expect("created");
    }
    maps.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app=shop"),
    )
    .await
    .expect("deleted");
    let left: Vec<_> = maps
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items
        .into_iter()
        .filter_map(|m| m.metadata.name)
        .collect();
    assert_eq!(left, ["b"]);
}

#[tokio::test]
async fn a_lease_is_created_renewed_and_guarded_by_its_version() {
    use k8s_openapi::api::coordination::v1::Lease;
    let sim = sim().await;
    let leases: Api<Lease> = sim.api("default");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "storeplane-leader"},
        "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15},
    }))
    .expect("valid lease");
    let held = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("created");
    let mut renewed = held.clone();
    if let Some(spec) = renewed.spec.as_mut() {
        spec.lease_transitions = Some(1);
    }
    leases
        .replace("storeplane-leader", &PostParams::default(), &renewed)
        .await
        .expect("renewed");
    let stale = leases
        .replace("storeplane-leader", &PostParams::default(), &renewed)
        .await;
    assert_eq!(crate::fixtures::status_of(stale).code, 409);
}

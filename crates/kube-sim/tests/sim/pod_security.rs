//! Pod Security admission through kube-rs: namespaces' `pod-security.kubernetes.io/*`
//! labels decide which Pods are admitted, workloads whose pods are refused say why, and
//! `warn` labels come back as `Warning` headers.

use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

use crate::controllers::{job, statefulset};
use crate::fixtures::{Sim, deployment, sim, status_of, wait_for};

/// A namespace with Pod Security labels.
pub fn labelled_namespace(name: &str, labels: Value) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
        .expect("valid namespace")
}

/// A Pod of one container with `security_context`.
pub fn pod(name: &str, security_context: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [
            {"name": "app", "image": "nginx", "securityContext": security_context}]},
    }))
    .expect("valid pod")
}

/// A pod that passes `restricted`.
pub fn restricted_pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "nginx", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        },
    }))
    .expect("valid pod")
}

async fn restricted_namespace(sim: &Sim, name: &str) {
    sim.namespaces()
        .create(
            &PostParams::default(),
            &labelled_namespace(
                name,
                json!({
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "v1.33",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/warn-version": "latest",
                }),
            ),
        )
        .await
        .expect("namespace is created");
}

#[tokio::test]
async fn a_privileged_pod_in_a_restricted_namespace_is_forbidden_with_upstreams_message() {
    let sim = sim().await;
    restricted_namespace(&sim, "shop").await;
    let pods = sim.api::<Pod>("shop");

    let status = status_of(
        pods.create(
            &PostParams::default(),
            &pod("x", json!({"privileged": true})),
        )
        .await,
    );

    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        "pods \"x\" is forbidden: violates PodSecurity \"restricted:v1.33\": privileged \
         (container \"app\" must not set securityContext.privileged=true), \
         allowPrivilegeEscalation != false (container \"app\" must set \
         securityContext.allowPrivilegeEscalation=false), unrestricted capabilities \
         (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         runAsNonRoot != true (pod or container \"app\" must set \
         securityContext.runAsNonRoot=true), seccompProfile (pod or container \"app\" must \
         set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    assert!(pods.get_opt("x").await.expect("get works").is_none());
}

#[tokio::test]
async fn a_compliant_pod_is_admitted_in_a_restricted_namespace() {
    let sim = sim().await;
    restricted_namespace(&sim, "shop").await;

    let created = sim
        .api::<Pod>("shop")
        .create(&PostParams::default(), &restricted_pod("web"))
        .await
        .expect("a restricted pod is admitted");

    assert_eq!(created.metadata.name.as_deref(), Some("web"));
}

#[tokio::test]
async fn a_baseline_namespace_admits_the_default_capabilities_and_refuses_host_access() {
    let sim = sim().await;
    sim.namespaces()
        .create(
            &PostParams::default(),
            &labelled_namespace(
                "shop",
                json!({"pod-security.kubernetes.io/enforce": "baseline"}),
            ),
        )
        .await
        .expect("namespace is created");
    let pods = sim.api::<Pod>("shop");
    let root_with_default_caps = json!({"runAsUser": 0, "capabilities": {"add": [
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"]}});

    pods.create(&PostParams::default(), &pod("web", root_with_default_caps))
        .await
        .expect("baseline allows root and the runtime's default capabilities");
    let status = status_of(
        pods.create(
            &PostParams::default(),
            &pod(
                "raw",
                json!({"capabilities": {"add": ["NET_RAW", "SYS_ADMIN"]}}),
            ),
        )
        .await,
    );

    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "pods \"raw\" is forbidden: violates PodSecurity \"baseline:latest\": non-default \
         capabilities (container \"app\" must not include \"NET_RAW\", \"SYS_ADMIN\" in \
         securityContext.capabilities.add)"
    );
}

/// POSTs `body` to `path` and returns the status code and the `Warning` headers.
async fn post_raw(sim: &Sim, path: &str, body: &Value) -> (u16, Vec<String>) {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("json").into())
        .expect("request builds");
    let response = sim.client.send(request).await.expect("request is answered");
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().expect("ascii header").to_string())
        .collect();
    (response.status().as_u16(), warnings)
}

#[tokio::test]
async fn a_deployment_violating_restricted_is_accepted_with_a_warning_and_says_why_it_has_no_pods()
{
    let sim = sim().await;
    restricted_namespace(&sim, "shop").await;
    let body = serde_json::to_value(deployment("web", 1, "nginx")).expect("json");

    let (code, warnings) = post_raw(&sim, "/apis/apps/v1/namespaces/shop/deployments", &body).await;

    assert_eq!(code, 201);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "299 - \"would violate PodSecurity \\\"restricted:latest\\\": \
             allowPrivilegeEscalation != false (container \\\"web\\\" must set"
        ),
        "{}",
        warnings[0]
    );
    let deployments = sim.api::<Deployment>("shop");
    let failed = wait_for(&deployments, "web", |d: Option<&Deployment>| {
        replica_failure(d).is_some()
    })
    .await;
    let condition = replica_failure(Some(&failed)).expect("condition");
    assert_eq!(condition.status, "True");
    assert_eq!(condition.reason.as_deref(), Some("FailedCreate"));
    let message = condition.message.unwrap_or_default();
    assert!(
        message.starts_with("pods \"web-") && message.contains(
            "\" is forbidden: violates PodSecurity \"restricted:v1.33\": allowPrivilegeEscalation"
        ),
        "{message}"
    );
    let pods = sim
        .api::<Pod>("shop")
        .list(&ListParams::default())
        .await
        .expect("list");
    assert!(pods.items.is_empty());
    let replica_sets = sim
        .api::<ReplicaSet>("shop")
        .list(&ListParams::default())
        .await;
    let rs = replica_sets.expect("list").items.remove(0);
    let rs_condition = rs
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .remove(0);
    assert_eq!(rs_condition.type_, "ReplicaFailure");
    let event = failed_create_event(&sim, "ReplicaSet").await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert!(
        event
            .message
            .unwrap_or_default()
            .starts_with("Error creating: pods \"web-"),
        "the event carries the refusal"
    );
}

fn replica_failure(
    deployment: Option<&Deployment>,
) -> Option<k8s_openapi::api::apps::v1::DeploymentCondition> {
    deployment?
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "ReplicaFailure")
        .cloned()
}

/// Waits (up to 10 s) for the FailedCreate Event about a `kind` in namespace `shop`.
async fn failed_create_event(sim: &Sim, kind: &str) -> Event {
    let events = watcher(sim.api::<Event>("shop"), watcher::Config::default()).applied_objects();
    let about = |e: &Event| {
        e.reason.as_deref() == Some("FailedCreate")
            && e.involved_object.kind.as_deref() == Some(kind)
    };
    let mut matching = events.try_filter(|e| std::future::ready(about(e))).boxed();
    tokio::time::timeout(std::time::Duration::from_secs(10), matching.try_next())
        .await
        .unwrap_or_else(|_| panic!("no FailedCreate event about a {kind} in time"))
        .expect("watch works")
        .expect("the watch does not end")
}

#[tokio::test]
async fn a_statefulset_and_a_job_whose_pods_are_refused_leave_a_failed_create_event() {
    let sim = sim().await;
    restricted_namespace(&sim, "shop").await;
    let pp = PostParams::default();
    sim.api::<StatefulSet>("shop")
        .create(&pp, &statefulset("db", 1))
        .await
        .expect("a statefulset is accepted");
    sim.api::<Job>("shop")
        .create(&pp, &job("setup"))
        .await
        .expect("a job is accepted");

    let sts_event = failed_create_event(&sim, "StatefulSet").await;
    let job_event = failed_create_event(&sim, "Job").await;

    let sts_message = sts_event.message.unwrap_or_default();
    assert!(
        sts_message.starts_with(
            "create Pod db-0 in StatefulSet db failed error: pods \"db-0\" is forbidden: \
             violates PodSecurity \"restricted:v1.33\": "
        ),
        "{sts_message}"
    );
    let job_message = job_event.message.unwrap_or_default();
    assert!(
        job_message.starts_with("Error creating: pods \"setup-"),
        "{job_message}"
    );
    let job = sim.api::<Job>("shop").get("setup").await.expect("job");
    assert_eq!(job.status.and_then(|s| s.active), Some(0));
}

#[tokio::test]
async fn invalid_pod_security_labels_on_a_namespace_are_invalid() {
    let sim = sim().await;
    let status = status_of(
        sim.namespaces()
            .create(
                &PostParams::default(),
                &labelled_namespace(
                    "shop",
                    json!({"pod-security.kubernetes.io/enforce": "strict"}),
                ),
            )
            .await,
    );
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "Namespace \"shop\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: \
         Invalid value: \"strict\": must be one of privileged, baseline, restricted"
    );
}

#[tokio::test]
async fn kube_sim_admits_and_refuses_every_upstream_fixture_as_a_real_server_does() {
    let sim = sim().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pod-security");
    let pod_resource = ApiResource::erase::<Pod>(&());
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for level in ["baseline", "restricted"] {
        for version in ["v1.33", "v1.34", "v1.35"] {
            let ns = format!("{level}-{}", version.replace('.', "-"));
            let labels = json!({
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/enforce-version": version,
            });
            sim.namespaces()
                .create(&PostParams::default(), &labelled_namespace(&ns, labels))
                .await
                .expect("namespace is created");
            let pods: Api<DynamicObject> =
                Api::namespaced_with(sim.client.clone(), &ns, &pod_resource);
            for (outcome, admitted) in [("pass", true), ("fail", false)] {
                let dir = root.join(level).join(version).join(outcome);
                for entry in std::fs::read_dir(&dir).expect("fixture directory") {
                    let path = entry.expect("entry").path();
                    let mut pod: Value =
                        serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("reads"))
                            .expect("yaml");
                    // Upstream's file names use `_`, which no Pod name may contain.
                    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
                    pod["metadata"]["name"] =
                        json!(format!("{outcome}-{}", name.replace('_', "-")));
                    let object: DynamicObject = serde_json::from_value(pod).expect("object");
                    let result = pods.create(&PostParams::default(), &object).await;
                    checked += 1;
                    match (admitted, result) {
                        (true, Ok(_)) => {}
                        (false, Err(kube::Error::Api(status))) if status.code == 403 => {}
                        (_, other) => disagreements.push(format!("{}: {other:?}", path.display())),
                    }
                }
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert_eq!(checked, 420);
}

#[tokio::test]
async fn relaxing_the_namespace_lets_a_refused_deployment_get_its_pod_and_clears_the_failure() {
    use kube::api::{Patch, PatchParams};

    let sim = sim().await;
    restricted_namespace(&sim, "shop").await;
    let deployments = sim.api::<Deployment>("shop");
    deployments
        .create(&PostParams::default(), &deployment("web", 1, "nginx"))
        .await
        .expect("a deployment is accepted");
    wait_for(&deployments, "web", |d: Option<&Deployment>| {
        replica_failure(d).is_some()
    })
    .await;

    let relaxed = json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "baseline"}}});
    sim.namespaces()
        .patch("shop", &PatchParams::default(), &Patch::Merge(&relaxed))
        .await
        .expect("namespace is relabelled");

    let available = wait_for(&deployments, "web", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()?.available_replicas) == Some(1)
    })
    .await;
    assert!(replica_failure(Some(&available)).is_none());
}

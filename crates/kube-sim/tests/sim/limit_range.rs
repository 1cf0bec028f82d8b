//! LimitRange through kube-rs: defaults filled into the containers of new pods (before
//! the quota counts them), and pods or claims outside the ranges refused.

use k8s_openapi::api::core::v1::{LimitRange, PersistentVolumeClaim, Pod};
use kube::api::PostParams;
use serde_json::{Value, json};

use crate::fixtures::{Sim, sim, status_of};
use crate::quota::{claim, pod_with, quota};

async fn shop_with_limits(sim: &Sim, limits: Value) {
    sim.namespace("shop").await;
    let range: LimitRange = serde_json::from_value(json!({
        "metadata": {"name": "container-limits"}, "spec": {"limits": limits},
    }))
    .expect("valid limit range");
    sim.api::<LimitRange>("shop")
        .create(&PostParams::default(), &range)
        .await
        .expect("limit range is created");
}

fn container_bounds() -> Value {
    json!([{"type": "Container",
            "min": {"cpu": "50m", "memory": "64Mi"},
            "max": {"cpu": "1", "memory": "1Gi"},
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}])
}

#[tokio::test]
async fn a_pod_that_states_no_resources_gets_the_defaults_and_then_fits_the_quota() {
    let sim = sim().await;
    shop_with_limits(&sim, container_bounds()).await;
    sim.api("shop")
        .create(
            &PostParams::default(),
            &quota(json!({"limits.cpu": "1", "requests.memory": "1Gi"})),
        )
        .await
        .expect("quota is created");

    let created = sim
        .api::<Pod>("shop")
        .create(&PostParams::default(), &pod_with("web", json!({})))
        .await
        .expect("defaults satisfy the quota's must-specify rule");

    let resources =
        serde_json::to_value(&created.spec.expect("spec").containers[0].resources).expect("json");
    assert_eq!(
        resources,
        json!({"requests": {"cpu": "100m", "memory": "128Mi"},
               "limits": {"cpu": "500m", "memory": "512Mi"}})
    );
    let annotations = created.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit \
         for container web"
    );
}

#[tokio::test]
async fn a_container_outside_the_range_is_forbidden_with_upstreams_message() {
    let sim = sim().await;
    shop_with_limits(&sim, container_bounds()).await;

    let status = status_of(
        sim.api::<Pod>("shop")
            .create(
                &PostParams::default(),
                &pod_with(
                    "big",
                    json!({"requests": {"cpu": "10m"}, "limits": {"cpu": "2"}}),
                ),
            )
            .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "pods \"big\" is forbidden: [minimum cpu usage per Container is 50m, but request is \
         10m, maximum cpu usage per Container is 1, but limit is 2]"
    );
}

#[tokio::test]
async fn a_claim_larger_than_the_range_allows_is_forbidden() {
    let sim = sim().await;
    shop_with_limits(
        &sim,
        json!([{"type": "PersistentVolumeClaim", "max": {"storage": "5Gi"}}]),
    )
    .await;

    let status = status_of(
        sim.api::<PersistentVolumeClaim>("shop")
            .create(&PostParams::default(), &claim("data", "10Gi"))
            .await,
    );

    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per \
         PersistentVolumeClaim is 5Gi, but request is 10Gi"
    );
}

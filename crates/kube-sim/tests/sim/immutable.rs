//! Immutable fields: a write that changes one is refused with `422 Invalid` naming the
//! field, as the real API server refuses it; re-applying the same object never is.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::fixtures::{deployment, sim, status_of};

fn setup_job(script: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "woocommerce-setup"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "setup", "image": "wordpress:cli", "args": ["sh", "-c", script]}],
        }}},
    })
}

fn apply() -> PatchParams {
    PatchParams::apply("storeplane").force()
}

#[tokio::test]
async fn applying_a_job_with_another_pod_template_is_invalid_naming_spec_template() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api(&sim.namespace("shop").await);
    jobs.patch(
        "woocommerce-setup",
        &apply(),
        &Patch::Apply(setup_job("install")),
    )
    .await
    .expect("created");

    let status = status_of(
        jobs.patch(
            "woocommerce-setup",
            &apply(),
            &Patch::Apply(setup_job("install v2")),
        )
        .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert!(
        status.message.starts_with(
            "Job.batch \"woocommerce-setup\" is invalid: spec.template: Invalid value: "
        ),
        "{}",
        status.message
    );
    assert!(status.message.ends_with(": field is immutable"));
    let details = status.details.expect("details");
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        ("woocommerce-setup", "batch", "Job")
    );
    let causes: Vec<_> = details
        .causes
        .iter()
        .map(|c| (c.reason.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(causes, [("FieldValueInvalid", "spec.template")]);
}

#[tokio::test]
async fn re_applying_the_same_job_after_it_ran_is_accepted() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api(&sim.namespace("shop").await);
    jobs.patch(
        "woocommerce-setup",
        &apply(),
        &Patch::Apply(setup_job("install")),
    )
    .await
    .expect("created");
    crate::fixtures::wait_for(
        &jobs,
        "woocommerce-setup",
        kube::runtime::conditions::is_job_completed(),
    )
    .await;

    let again = jobs
        .patch(
            "woocommerce-setup",
            &apply(),
            &Patch::Apply(setup_job("install")),
        )
        .await;

    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn changing_a_deployment_selector_is_invalid_but_scaling_it_is_not() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    let web = deployment("web", 1, "nginx");
    deployments
        .patch("web", &apply(), &Patch::Apply(&web))
        .await
        .expect("created");
    let mut scaled = web.clone();
    scaled.spec.as_mut().expect("spec").replicas = Some(3);
    deployments
        .patch("web", &apply(), &Patch::Apply(&scaled))
        .await
        .expect("scaling is allowed");

    let mut moved = serde_json::to_value(&web).expect("json");
    moved["spec"]["selector"] = json!({"matchLabels": {"app": "other"}});
    moved["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let status = status_of(
        deployments
            .patch("web", &apply(), &Patch::Apply(moved))
            .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.expect("details").causes;
    assert_eq!(causes[0].field, "spec.selector");
    assert!(
        status.message.ends_with("field is immutable"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn changing_a_statefulset_claim_templates_is_forbidden_with_upstreams_message() {
    let sim = sim().await;
    let sets: Api<StatefulSet> = sim.api(&sim.namespace("shop").await);
    let set = |size: &str| {
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                             "spec": {"containers": [{"name": "db", "image": "mariadb"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}}}}],
            },
        })
    };
    sets.patch("db", &apply(), &Patch::Apply(set("1Gi")))
        .await
        .expect("created");

    let status = status_of(sets.patch("db", &apply(), &Patch::Apply(set("2Gi"))).await);

    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        status.message,
        "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for \
         fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', \
         'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    );
}

#[tokio::test]
async fn a_claim_can_grow_but_shrinking_it_is_forbidden() {
    let sim = sim().await;
    let claims: Api<PersistentVolumeClaim> = sim.api(&sim.namespace("shop").await);
    let claim = |size: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": size}}},
        })
    };
    claims
        .patch("data", &apply(), &Patch::Apply(claim("1Gi")))
        .await
        .expect("created");
    claims
        .patch("data", &apply(), &Patch::Apply(claim("2Gi")))
        .await
        .expect("growing is allowed");

    let status = status_of(
        claims
            .patch("data", &apply(), &Patch::Apply(claim("1Gi")))
            .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.expect("details").causes;
    assert_eq!(causes[0].field, "spec.resources.requests.storage");
}

//! Ordered server-side apply, create-if-absent Secrets, and pruning.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::Api;
use kube::api::DeleteParams;
use storeplane_blueprint::{FrontDoor, HTTPRoute, Resource, StoreResources};
use storeplane_kube::{ApplyError, Outcome, Pruned};

/// The WooCommerce blueprint's setup Job.
const SETUP_JOB: &str = "woocommerce-setup";

use super::fixtures::{self, namespace, refs, store, store_behind, store_titled, store_with};

#[tokio::test]
async fn applying_a_rendered_store_creates_every_object_in_order() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let resources = store().into_ordered();

    let applied = applier.apply(&resources).await?;

    let expected: Vec<_> = resources.iter().map(|r| (r.kind(), r.name())).collect();
    let got: Vec<_> = applied
        .iter()
        .map(|a| (a.kind, a.name.rsplit('/').next().unwrap_or_default()))
        .collect();
    assert_eq!(got, expected);
    assert!(
        applied.iter().all(|a| a.outcome == Outcome::Created),
        "{applied:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_second_apply_reports_every_object_unchanged_and_keeps_the_secrets() -> anyhow::Result<()>
{
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().into_ordered()).await?;

    let again = applier.apply(&store_with("second").into_ordered()).await?;

    assert!(
        again.iter().all(|a| a.outcome == Outcome::Unchanged),
        "{again:?}"
    );
    let (_, password) = applier
        .read_admin_credentials(&namespace(), &store().credentials)
        .await?
        .expect("the admin secret exists");
    assert!(password.starts_with("first-"), "the secret was overwritten");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_changed_object_is_reported_configured() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().into_ordered()).await?;
    let mut changed = store();
    changed
        .resource_quota
        .metadata
        .annotations
        .get_or_insert_default()
        .insert("storeplane.io/revision".to_owned(), "2".to_owned());

    let applied = applier.apply(&changed.into_ordered()).await?;

    let configured: Vec<_> = applied
        .iter()
        .filter(|a| a.outcome != Outcome::Unchanged)
        .map(|a| (a.kind, a.outcome))
        .collect();
    assert_eq!(configured, [("ResourceQuota", Outcome::Configured)]);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_setup_job_whose_pod_template_changed_is_recreated_and_completes() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let first = store();
    applier.apply(&first.ordered()).await?;
    applier
        .wait_ready(&namespace(), &first.readiness, Duration::from_secs(30))
        .await?;
    let jobs: Api<Job> = Api::namespaced(sim.client()?, &namespace());
    let before = jobs.get(SETUP_JOB).await?;

    let retitled = store_titled("Another shop");
    let applied = applier.apply(&retitled.ordered()).await?;

    let changed: Vec<_> = applied
        .iter()
        .filter(|a| a.outcome != Outcome::Unchanged)
        .map(|a| (a.kind, a.name.as_str(), a.outcome))
        .collect();
    let name = format!("{}/{SETUP_JOB}", namespace());
    assert_eq!(changed, [("Job", name.as_str(), Outcome::Recreated)]);
    applier
        .wait_ready(&namespace(), &retitled.readiness, Duration::from_secs(30))
        .await?;
    let after = jobs.get(SETUP_JOB).await?;
    assert_ne!(after.metadata.uid, before.metadata.uid, "a new Job");
    let env = serde_json::to_string(&after.spec.map(|s| s.template))?;
    assert!(env.contains("Another shop"), "the new template: {env}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn another_kinds_immutable_field_fails_the_apply_naming_the_field() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let mut resources = store().into_ordered();
    applier.apply(&resources).await?;
    let mut claims = 0;
    for resource in &mut resources {
        if let Resource::PersistentVolumeClaim(claim) = resource {
            claim.spec.get_or_insert_default().storage_class_name = Some("another".to_owned());
            claims += 1;
        }
    }
    anyhow::ensure!(claims > 0, "the store has a claim");

    let error = applier
        .apply(&resources)
        .await
        .expect_err("a claim's storage class cannot change");

    assert!(matches!(error, ApplyError::Immutable { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert!(
        error.to_string().contains("keeps spec immutable"),
        "{error}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_object_dropped_from_the_desired_set_is_pruned() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let store = || store_behind(FrontDoor::Ingress, "first");
    applier.apply(&store().into_ordered()).await?;
    let desired: Vec<Resource> = store()
        .into_ordered()
        .into_iter()
        .filter(|r| r.kind() != "Ingress")
        .collect();
    applier.apply(&desired).await?;

    let selector = StoreResources::selector(fixtures::store_id());
    let pruned = applier
        .prune(&namespace(), &selector, &refs(&desired))
        .await?;

    let expected = Pruned {
        kind: "Ingress".to_owned(),
        name: format!("{}/storefront", namespace()),
    };
    assert_eq!(pruned, [expected]);
    let again = applier
        .prune(&namespace(), &selector, &refs(&desired))
        .await?;
    assert!(again.is_empty(), "{again:?}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_deleted_object_is_restored_and_reported_created() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().into_ordered()).await?;
    let policies: Api<NetworkPolicy> = Api::namespaced(sim.client()?, &namespace());
    policies
        .delete("default-deny", &DeleteParams::default())
        .await?;

    let applied = applier.apply(&store().into_ordered()).await?;

    let changed: Vec<_> = applied
        .iter()
        .filter(|a| a.outcome != Outcome::Unchanged)
        .map(|a| {
            (
                a.kind,
                a.name.rsplit('/').next().unwrap_or_default(),
                a.outcome,
            )
        })
        .collect();
    assert_eq!(
        changed,
        [("NetworkPolicy", "default-deny", Outcome::Created)]
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn switching_the_front_door_to_the_gateway_prunes_the_ingress() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier
        .apply(&store_behind(FrontDoor::Ingress, "first").into_ordered())
        .await?;
    let desired = store_behind(FrontDoor::Gateway, "first").into_ordered();
    let applied = applier.apply(&desired).await?;
    assert!(
        applied
            .iter()
            .any(|a| a.kind == "HTTPRoute" && a.outcome == Outcome::Created),
        "{applied:?}"
    );

    let selector = StoreResources::selector(fixtures::store_id());
    let pruned = applier
        .prune(&namespace(), &selector, &refs(&desired))
        .await?;

    let storefront = format!("{}/storefront", namespace());
    assert_eq!(
        pruned,
        [Pruned {
            kind: "Ingress".to_owned(),
            name: storefront.clone()
        }]
    );
    let routes: Api<HTTPRoute> = Api::namespaced(sim.client()?, &namespace());
    let route = routes.get("storefront").await?;
    assert_eq!(route.spec.hostnames, ["demo.127.0.0.1.nip.io"]);
    let ingresses: Api<Ingress> = Api::namespaced(sim.client()?, &namespace());
    assert!(ingresses.get_opt("storefront").await?.is_none());
    sim.shutdown().await;
    Ok(())
}

/// Answers every request for the Gateway API's group as a cluster without its CRDs does:
/// the API server's plain-text `404 page not found` (not a JSON Status), and passes the
/// rest on to the simulator.
#[derive(Clone)]
struct WithoutGatewayApi<S>(S);

type Response = http::Response<Box<kube::client::DynBody>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<http::Request<B>> for WithoutGatewayApi<S>
where
    S: tower::Service<http::Request<B>, Response = Response, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = BoxError;
    type Future = futures::future::BoxFuture<'static, Result<Response, BoxError>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !request
            .uri()
            .path()
            .starts_with("/apis/gateway.networking.k8s.io/")
        {
            return Box::pin(self.0.call(request));
        }
        let body = http_body_util::BodyExt::map_err(
            kube::client::Body::from(b"404 page not found\n".to_vec()),
            |e| Box::new(e) as BoxError,
        );
        let response = http::Response::builder()
            .status(http::StatusCode::NOT_FOUND)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Box::new(body) as Box<kube::client::DynBody>)
            .expect("a response");
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[tokio::test]
async fn prune_on_a_cluster_without_the_gateway_api_finds_no_routes_rather_than_failing()
-> anyhow::Result<()> {
    let sim = kube_sim::SimHandle::start(kube_sim::SimConfig::default()).await?;
    let applier = storeplane_kube::Applier::new(without_gateway_api(&sim)?);
    let desired: Vec<Resource> = store_behind(FrontDoor::Ingress, "first").into_ordered();
    applier.apply(&desired).await?;
    let without_ingress: Vec<Resource> = desired
        .into_iter()
        .filter(|r| r.kind() != "Ingress")
        .collect();

    let selector = StoreResources::selector(fixtures::store_id());
    let pruned = applier
        .prune(&namespace(), &selector, &refs(&without_ingress))
        .await?;

    assert_eq!(
        pruned,
        [Pruned {
            kind: "Ingress".to_owned(),
            name: format!("{}/storefront", namespace())
        }],
        "the other kinds are still pruned"
    );
    // What the client saw for the route kind on this cluster: a plain-text 404.
    let routes: Api<HTTPRoute> = Api::namespaced(without_gateway_api(&sim)?, &namespace());
    let error = routes.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 404 && status.message.contains("page not found")),
        "{error}"
    );
    sim.shutdown().await;
    Ok(())
}

/// A client of `sim` for which the Gateway API is not installed.
fn without_gateway_api(sim: &kube_sim::SimHandle) -> anyhow::Result<kube::Client> {
    Ok(kube::client::ClientBuilder::try_from(sim.kube_config())?
        .with_layer(&tower::layer::layer_fn(WithoutGatewayApi))
        .build())
}

#[tokio::test]
async fn applying_a_route_on_a_cluster_without_the_gateway_api_says_the_kind_is_not_served()
-> anyhow::Result<()> {
    let sim = kube_sim::SimHandle::start(kube_sim::SimConfig::default()).await?;
    let applier = storeplane_kube::Applier::new(without_gateway_api(&sim)?);

    let error = applier
        .apply(&store_behind(FrontDoor::Gateway, "first").into_ordered())
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "failed to apply HTTPRoute {}/storefront: the cluster does not serve \
             gateway.networking.k8s.io/v1 HTTPRoute (are its CRDs installed?)",
            namespace()
        )
    );
    assert!(!error.is_transient());
    sim.shutdown().await;
    Ok(())
}

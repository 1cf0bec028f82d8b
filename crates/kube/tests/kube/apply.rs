//! Ordered server-side apply, create-if-absent Secrets, and pruning.

use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::DeleteParams;
use storeplane_blueprint::{Resource, StoreResources};
use storeplane_kube::{Outcome, Pruned};

use super::fixtures::{self, namespace, refs, store, store_with};

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
async fn an_object_dropped_from_the_desired_set_is_pruned() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
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

//! Namespace teardown, and a namespace held by a finalizer.

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{Patch, PatchParams};
use storeplane_kube::{TeardownError, TeardownOutcome};

use super::fixtures::{self, namespace, store};

#[tokio::test]
async fn teardown_leaves_the_namespace_gone() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().into_ordered()).await?;

    let outcome = applier
        .delete_namespace(&namespace(), Duration::from_secs(30))
        .await?;

    assert_eq!(outcome, TeardownOutcome::Deleted);
    let again = applier
        .delete_namespace(&namespace(), Duration::from_secs(30))
        .await?;
    assert_eq!(again, TeardownOutcome::AlreadyGone);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_finalizer_inside_makes_teardown_report_it_instead_of_hanging() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().into_ordered()).await?;
    let services: Api<Service> = Api::namespaced(sim.client()?, &namespace());
    let hold = serde_json::json!({"metadata": {"finalizers": ["example.com/hold"]}});
    services
        .patch("wordpress", &PatchParams::default(), &Patch::Merge(&hold))
        .await?;

    let outcome = applier
        .delete_namespace(&namespace(), Duration::from_millis(500))
        .await;

    let Err(error @ TeardownError::Stuck { .. }) = outcome else {
        anyhow::bail!("expected a stuck namespace, got {outcome:?}");
    };
    assert!(error.to_string().contains("example.com/hold"), "{error}");
    sim.shutdown().await;
    Ok(())
}

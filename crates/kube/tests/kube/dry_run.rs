//! Dry runs: a revision's objects validated by the API server without a change to the
//! store, and without a trace in what the applier remembers.

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use storeplane_kube::Outcome;

use super::fixtures::{self, namespace, store, store_titled};

#[tokio::test]
async fn a_dry_run_of_a_changed_store_reports_what_would_change_and_changes_nothing()
-> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().ordered()).await?;
    let jobs: Api<Job> = Api::namespaced(sim.client()?, &namespace());
    let setup_before = jobs.list(&Default::default()).await?.items;

    let answered = applier
        .dry_run(&store_titled("Another shop").ordered())
        .await?;

    assert!(
        answered
            .iter()
            .any(|a| a.kind == "Job" && a.outcome == Outcome::Recreated),
        "the setup Job's new template would re-create it: {answered:?}"
    );
    let setup_after = jobs.list(&Default::default()).await?.items;
    assert_eq!(
        setup_before
            .iter()
            .map(|j| j.metadata.uid.clone())
            .collect::<Vec<_>>(),
        setup_after
            .iter()
            .map(|j| j.metadata.uid.clone())
            .collect::<Vec<_>>(),
        "no Job was deleted or re-created"
    );
    let again = applier.apply(&store().ordered()).await?;
    assert!(
        again.iter().all(|a| a.outcome == Outcome::Unchanged),
        "the live store is as it was: {again:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_dry_run_of_an_unchanged_store_reports_every_object_unchanged() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    applier.apply(&store().ordered()).await?;
    // Past the second the apply stamped, so "unchanged" is not guessed from a timestamp.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let answered = applier.dry_run(&store().ordered()).await?;

    let changed: Vec<_> = answered
        .iter()
        .filter(|a| a.outcome != Outcome::Unchanged)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    sim.shutdown().await;
    Ok(())
}

//! Watch-based readiness, and the reasons given when a store does not become ready.

use std::time::Duration;

use storeplane_kube::NotReadyCause;

use super::fixtures::{self, namespace, store};

#[tokio::test]
async fn a_store_becomes_ready() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let resources = store();
    applier.apply(&resources.ordered()).await?;

    applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(30))
        .await?;

    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn in_a_never_ready_namespace_the_wait_fails_with_image_pull_back_off() -> anyhow::Result<()>
{
    let (sim, applier) = fixtures::sim().await?;
    sim.faults().update(|f| {
        f.never_ready_namespaces.insert(namespace());
    });
    let resources = store();
    applier.apply(&resources.ordered()).await?;

    let waited = applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(2))
        .await;

    let error = waited.expect_err("pods never become ready");
    assert_eq!(error.cause, NotReadyCause::TimedOut);
    assert!(error.reason.starts_with("ImagePullBackOff: "), "{error}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_failing_job_fails_the_wait_with_the_jobs_reason() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    sim.faults().update(|f| {
        f.failing_jobs.insert(format!("{}/*", namespace()));
    });
    let resources = store();
    applier.apply(&resources.ordered()).await?;

    let waited = applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(30))
        .await;

    let error = waited.expect_err("the setup job fails");
    assert_eq!(error.cause, NotReadyCause::Failed);
    assert!(error.reason.starts_with("BackoffLimitExceeded"), "{error}");
    assert!(!error.is_transient());
    sim.shutdown().await;
    Ok(())
}

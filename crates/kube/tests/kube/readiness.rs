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
async fn with_an_image_that_cannot_be_pulled_the_wait_names_the_image() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let resources = store();
    let image = wordpress_image(&resources.ordered());
    sim.faults().update(|f| {
        f.never_ready_images.insert(image.clone());
    });
    applier.apply(&resources.ordered()).await?;

    let waited = applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(2))
        .await;

    let error = waited.expect_err("the WordPress pod never becomes ready");
    assert_eq!(error.cause, NotReadyCause::TimedOut);
    let expected = format!("ImagePullBackOff: Back-off pulling image \"{image}\"");
    assert!(error.reason.starts_with(&expected), "{error}");
    sim.shutdown().await;
    Ok(())
}

/// The image of the store's Deployment (WordPress).
fn wordpress_image(resources: &[storeplane_blueprint::Resource]) -> String {
    resources
        .iter()
        .find_map(|resource| match resource {
            storeplane_blueprint::Resource::Deployment(deployment) => deployment
                .spec
                .as_ref()?
                .template
                .spec
                .as_ref()?
                .containers
                .first()?
                .image
                .clone(),
            _ => None,
        })
        .expect("the store has a Deployment with an image")
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

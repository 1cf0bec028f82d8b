//! The apply engine under injected API faults.

use kube_sim::{ErrorRule, Verb};
use storeplane_kube::Outcome;

use super::fixtures::{self, store};

#[tokio::test]
async fn with_30_percent_503_and_429_errors_apply_still_succeeds() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    sim.faults().update(|f| {
        for code in [503, 429] {
            f.errors.push(ErrorRule {
                verbs: vec![Verb::Patch, Verb::Create],
                rate: 0.15,
                code,
            });
        }
    });

    let applied = applier.apply(&store().into_ordered()).await?;

    assert!(
        applied.iter().all(|a| a.outcome == Outcome::Created),
        "{applied:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_lasting_server_error_is_transient_and_names_the_secret_but_not_its_values()
-> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    sim.faults().update(|f| {
        f.errors.push(ErrorRule {
            verbs: vec![Verb::Create],
            rate: 1.0,
            code: 500,
        });
    });

    let error = applier
        .apply(&store().into_ordered())
        .await
        .expect_err("every create fails");

    let message = error.to_string();
    let secret = format!("failed to apply Secret {}/mariadb: ", fixtures::namespace());
    assert!(message.starts_with(&secret), "{message}");
    assert!(!message.contains("first-"), "{message}");
    assert!(error.is_transient());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_invalid_object_is_a_permanent_error_naming_it() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let mut resources = store();
    resources.default_deny.metadata.name = Some("Not_A_Name".to_owned());

    let error = applier
        .apply(&resources.into_ordered())
        .await
        .expect_err("the name is invalid");

    let expected = format!(
        "failed to apply NetworkPolicy {}/Not_A_Name: ",
        fixtures::namespace()
    );
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert!(!error.is_transient());
    sim.shutdown().await;
    Ok(())
}

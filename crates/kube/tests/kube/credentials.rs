//! Reading a store's initial admin credentials.

use super::fixtures::{self, namespace, secrets, store};

#[tokio::test]
async fn credentials_are_read_back_from_the_secret() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let cref = store().credentials;
    assert_eq!(
        applier.read_admin_credentials(&namespace(), &cref).await?,
        None
    );
    applier.apply(&store().into_ordered()).await?;

    let credentials = applier.read_admin_credentials(&namespace(), &cref).await?;

    let expected = secrets("first");
    let expected = (
        expected
            .get(cref.username_key)
            .unwrap_or_default()
            .to_owned(),
        expected
            .get(cref.password_key)
            .unwrap_or_default()
            .to_owned(),
    );
    assert_eq!(credentials, Some(expected));
    sim.shutdown().await;
    Ok(())
}

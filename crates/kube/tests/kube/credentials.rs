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

#[tokio::test]
async fn a_new_password_is_written_once_per_generation() -> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let cref = store().credentials;
    applier.apply(&store().into_ordered()).await?;
    let set = |value: &'static str, generation| {
        let applier = applier.clone();
        async move {
            applier
                .set_secret_value(
                    &namespace(),
                    cref.secret,
                    cref.password_key,
                    value,
                    generation,
                )
                .await
        }
    };

    assert!(set("second-password", 1).await?, "generation 1 is written");
    assert!(
        !set("a-password-nobody-saw", 1).await?,
        "a repeated generation 1 writes nothing"
    );
    let (_, password) = applier
        .read_admin_credentials(&namespace(), &cref)
        .await?
        .expect("the Secret exists");
    assert_eq!(password, "second-password");
    assert!(
        set("third-password", 2).await?,
        "the next generation is written"
    );

    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(sim.client()?, &namespace());
    let secret = secrets.get(cref.secret).await?;
    let annotations = secret.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations
            .get(storeplane_kube::ADMIN_PASSWORD_GENERATION)
            .map(String::as_str),
        Some("2")
    );
    let username = secret
        .data
        .unwrap_or_default()
        .get(cref.username_key)
        .map(|v| v.0.clone());
    assert_eq!(
        username.as_deref(),
        secrets_value(cref.username_key)
            .as_deref()
            .map(str::as_bytes),
        "the other keys are left as they were"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn setting_a_value_in_a_missing_secret_names_the_secret_and_not_the_value()
-> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let cref = store().credentials;

    let error = applier
        .set_secret_value(
            &namespace(),
            cref.secret,
            cref.password_key,
            "s3cret-value",
            1,
        )
        .await
        .expect_err("there is no Secret");

    let shown = format!("{error} {error:?}");
    assert!(shown.contains(cref.secret), "{shown}");
    assert!(!shown.contains("s3cret-value"), "{shown}");
    sim.shutdown().await;
    Ok(())
}

fn secrets_value(key: &str) -> Option<String> {
    secrets("first").get(key).map(str::to_owned)
}

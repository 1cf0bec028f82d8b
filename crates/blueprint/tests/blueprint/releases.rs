//! Stores are built from their release: a store pinned to a release keeps its images
//! whatever the catalog's default becomes, a release the catalog lacks is refused saying
//! which, and the title reaches the setup Job.

use storeplane_blueprint::{
    Blueprint, BuildError, Engine, Plan, PlatformSettings, ReleaseCatalog, ReleaseName, Resource,
    StoreResources, StoreSpec, StoreTitle, WooCommerceRelease,
};

use crate::fixtures;

fn release(name: &str) -> ReleaseName {
    ReleaseName::parse(name).unwrap()
}

/// The built-in release and a newer one, `newer`, with `default` the default.
fn two_releases(default: &str) -> PlatformSettings {
    let mut catalog = ReleaseCatalog::default();
    let old = catalog.woocommerce.available[0].clone();
    catalog.woocommerce.available.push(WooCommerceRelease {
        name: release("newer"),
        wordpress: "docker.io/library/wordpress:6.9.0-php8.3-apache".to_owned(),
        mariadb: "docker.io/library/mariadb:12.0.2".to_owned(),
        woocommerce_version: "10.0.0".to_owned(),
        ..old
    });
    catalog.woocommerce.default = release(default);
    PlatformSettings {
        releases: Some(catalog),
        ..PlatformSettings::default()
    }
}

fn build(settings: PlatformSettings, spec: &StoreSpec) -> Result<StoreResources, BuildError> {
    Blueprint::new(settings)?.build(fixtures::store_id(), spec, &fixtures::secrets())
}

fn images(resources: &StoreResources) -> Vec<String> {
    resources
        .ordered()
        .iter()
        .filter_map(|o| {
            let pod = match o {
                Resource::Deployment(d) => d.spec.as_ref()?.template.spec.clone()?,
                Resource::StatefulSet(s) => s.spec.as_ref()?.template.spec.clone()?,
                Resource::Job(j) => j.spec.as_ref()?.template.spec.clone()?,
                _ => return None,
            };
            Some(
                pod.containers
                    .into_iter()
                    .chain(pod.init_containers.unwrap_or_default())
                    .filter_map(|c| c.image)
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect()
}

fn setup_env(resources: &StoreResources, name: &str) -> Option<String> {
    resources.ordered().iter().find_map(|o| match o {
        Resource::Job(job) => job.spec.as_ref()?.template.spec.as_ref()?.containers[0]
            .env
            .as_ref()?
            .iter()
            .find(|e| e.name == name)?
            .value
            .clone(),
        _ => None,
    })
}

fn pinned(name: &str) -> StoreSpec {
    StoreSpec {
        release: Some(release(name)),
        ..fixtures::spec("demo", Plan::Small)
    }
}

#[test]
fn moving_the_default_never_changes_a_store_pinned_to_another_release() {
    let spec = pinned("wp6.8-wc9.8");
    let before = build(two_releases("wp6.8-wc9.8"), &spec).unwrap();
    let after = build(two_releases("newer"), &spec).unwrap();
    assert_eq!(before, after);
    assert!(images(&after).contains(&"docker.io/library/mariadb:11.4.5".to_owned()));
}

#[test]
fn a_store_without_a_release_runs_the_default_and_one_pinned_runs_its_own() {
    let default = build(two_releases("newer"), &fixtures::spec("demo", Plan::Small)).unwrap();
    assert!(images(&default).contains(&"docker.io/library/mariadb:12.0.2".to_owned()));
    assert_eq!(
        setup_env(&default, "WOOCOMMERCE_VERSION").as_deref(),
        Some("10.0.0")
    );
    let old = build(two_releases("newer"), &pinned("wp6.8-wc9.8")).unwrap();
    assert!(!images(&old).iter().any(|i| i.contains("12.0.2")));
    assert_eq!(
        setup_env(&old, "WOOCOMMERCE_VERSION").as_deref(),
        Some("9.8.5")
    );
}

#[test]
fn a_store_whose_release_left_the_catalog_is_refused_naming_release_and_engine() {
    let error = build(PlatformSettings::default(), &pinned("wp5.0-wc8.0")).unwrap_err();
    assert!(
        matches!(&error, BuildError::UnknownRelease { engine: Engine::WooCommerce, release, .. } if release.as_str() == "wp5.0-wc8.0"),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("wp5.0-wc8.0"), "{message}");
    assert!(message.contains("woocommerce"), "{message}");
    assert!(message.contains("wp6.8-wc9.8"), "{message}");
}

#[test]
fn the_blueprint_names_the_release_a_store_resolves_to() {
    let blueprint = Blueprint::new(two_releases("newer")).unwrap();
    let spec = fixtures::spec("demo", Plan::Small);
    assert_eq!(blueprint.release(&spec).unwrap(), release("newer"));
    assert_eq!(
        blueprint.release(&pinned("wp6.8-wc9.8")).unwrap(),
        release("wp6.8-wc9.8")
    );
}

#[test]
fn the_title_reaches_the_setup_job_and_defaults_to_the_name() {
    let untitled = fixtures::build(Plan::Small);
    assert_eq!(setup_env(&untitled, "STORE_TITLE").as_deref(), Some("demo"));
    let spec = StoreSpec {
        title: Some(StoreTitle::parse("Acme Outfitters").unwrap()),
        ..fixtures::spec("demo", Plan::Small)
    };
    let titled = build(PlatformSettings::default(), &spec).unwrap();
    assert_eq!(
        setup_env(&titled, "STORE_TITLE").as_deref(),
        Some("Acme Outfitters")
    );
}

//! A revision's manifest and digests: the same inputs give the same text and digests,
//! secrets never show, a setting that changes what a store renders changes its platform
//! digest, and an edit to a release the store does not run changes nothing.

use storeplane_blueprint::{
    Blueprint, Engine, Manifest, Plan, PlatformSettings, ReleaseCatalog, ReleaseName,
    SECRET_PLACEHOLDER, StoreSecrets, StoreSpec, WooCommerceRelease, to_yaml,
};

use crate::fixtures;

fn blueprint(settings: PlatformSettings) -> Blueprint {
    Blueprint::new(settings).unwrap()
}

fn spec() -> StoreSpec {
    fixtures::spec("demo", Plan::Small)
}

fn platform_digest(settings: PlatformSettings) -> String {
    blueprint(settings).platform_digest(&spec()).unwrap()
}

/// The built-in catalog plus a release `other` (mariadb `other_mariadb`).
fn with_other_release(other_mariadb: &str) -> PlatformSettings {
    let mut catalog = ReleaseCatalog::default();
    let builtin = catalog.woocommerce.available[0].clone();
    catalog.woocommerce.available.push(WooCommerceRelease {
        name: ReleaseName::parse("other").unwrap(),
        mariadb: other_mariadb.to_owned(),
        ..builtin
    });
    PlatformSettings {
        releases: Some(catalog),
        ..PlatformSettings::default()
    }
}

#[test]
fn rendering_twice_gives_the_same_manifest_and_digests() {
    let first = blueprint(PlatformSettings::default())
        .render(fixtures::store_id(), &spec())
        .unwrap();
    let second = blueprint(PlatformSettings::default())
        .render(fixtures::store_id(), &spec())
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(first.manifest.digest.len(), 64);
    assert_eq!(first.platform_digest.len(), 64);
    assert_eq!(first.release.as_str(), "wp6.8-wc9.8");
}

#[test]
fn the_manifest_hides_every_secret_value_and_does_not_depend_on_them() {
    let real = Manifest::of(&fixtures::build(Plan::Small)).unwrap();
    for value in fixtures::confidential_values(Engine::WooCommerce) {
        assert!(
            !real.text.contains(&value),
            "a secret value is in the manifest"
        );
    }
    let other_secrets = StoreSecrets::placeholders(
        Blueprint::secret_requirements(storeplane_blueprint::Engine::WooCommerce).unwrap(),
    );
    let other = blueprint(PlatformSettings::default())
        .build(fixtures::store_id(), &spec(), &other_secrets)
        .unwrap();
    assert_eq!(Manifest::of(&other).unwrap(), real);
    let rendered = blueprint(PlatformSettings::default())
        .render(fixtures::store_id(), &spec())
        .unwrap();
    assert_eq!(
        rendered.manifest, real,
        "the worker's manifest equals render's"
    );
}

#[test]
fn the_manifest_is_the_rendered_yaml_with_secret_data_as_placeholders() {
    let manifest = Manifest::of(&fixtures::build(Plan::Small)).unwrap();
    let yaml = to_yaml(&fixtures::build(Plan::Small)).unwrap();
    let documents: Vec<&str> = manifest.text.split("---\n").collect();
    let expected: Vec<&str> = yaml.split("---\n").collect();
    assert_eq!(documents.len(), expected.len());
    for (document, expected) in documents.iter().zip(&expected) {
        if expected.contains("\nkind: Secret\n") {
            assert_ne!(document, expected, "a Secret's data is replaced");
        } else {
            assert_eq!(document, expected, "every other object is as rendered");
        }
    }
    let placeholder = "Z2VuZXJhdGVkLWF0LXByb3Zpc2lvbmluZw=="; // base64 of "generated-at-provisioning"
    assert_eq!(SECRET_PLACEHOLDER, "generated-at-provisioning");
    assert!(manifest.text.contains(placeholder), "{}", manifest.text);
}

#[test]
fn a_change_of_anything_rendered_changes_the_manifest_digest() {
    let before = Manifest::of(&fixtures::build(Plan::Small)).unwrap();
    let bigger = Manifest::of(&fixtures::build(Plan::Medium)).unwrap();
    assert_ne!(before.digest, bigger.digest);
}

#[test]
fn an_ingress_setting_changes_the_platform_digest() {
    let before = platform_digest(fixtures::ingress());
    let after = platform_digest(PlatformSettings {
        ingress_class: "traefik".to_owned(),
        ..fixtures::ingress()
    });
    assert_ne!(before, after);
    let domain = platform_digest(PlatformSettings {
        base_domain: "shops.example.com".to_owned(),
        ..PlatformSettings::default()
    });
    assert_ne!(domain, platform_digest(PlatformSettings::default()));
}

#[test]
fn editing_a_release_the_store_does_not_run_leaves_its_platform_digest_alone() {
    let before = platform_digest(with_other_release("docker.io/library/mariadb:12.0.2"));
    let edited = platform_digest(with_other_release("docker.io/library/mariadb:12.1.1"));
    assert_eq!(before, edited);
    // The built-in catalog alone: the same store, the same digest.
    assert_eq!(before, platform_digest(PlatformSettings::default()));
    // Moving the default elsewhere does not change a pinned store's digest either.
    let mut moved = with_other_release("docker.io/library/mariadb:12.0.2");
    moved.releases.as_mut().unwrap().woocommerce.default = ReleaseName::parse("other").unwrap();
    let pinned = StoreSpec {
        release: Some(ReleaseName::parse("wp6.8-wc9.8").unwrap()),
        ..spec()
    };
    assert_eq!(blueprint(moved).platform_digest(&pinned).unwrap(), before);
}

#[test]
fn editing_the_release_the_store_runs_changes_its_platform_digest() {
    let before = platform_digest(PlatformSettings::default());
    let mut catalog = ReleaseCatalog::default();
    catalog.woocommerce.available[0].mariadb = "docker.io/library/mariadb:11.4.7".to_owned();
    let after = platform_digest(PlatformSettings {
        releases: Some(catalog),
        ..PlatformSettings::default()
    });
    assert_ne!(before, after);
}

#[test]
fn a_manifest_reads_back_into_the_objects_it_was_written_from() {
    for front_door in [
        storeplane_blueprint::FrontDoor::Gateway,
        storeplane_blueprint::FrontDoor::Ingress,
    ] {
        let settings = PlatformSettings {
            front_door,
            ..PlatformSettings::default()
        };
        let rendered = blueprint(settings)
            .render(fixtures::store_id(), &spec())
            .unwrap();
        let objects = Manifest::resources(&rendered.manifest.text).unwrap();
        assert!(objects.len() > 10);
        assert_eq!(
            storeplane_blueprint::objects_to_yaml(&objects).unwrap(),
            rendered.manifest.text,
            "{front_door}"
        );
    }
}

#[test]
fn a_manifest_with_a_kind_no_blueprint_makes_is_refused_naming_it() {
    let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    let error = Manifest::resources(text).unwrap_err();
    assert!(error.to_string().contains("ConfigMap"), "{error}");
    assert!(Manifest::resources("---\nmetadata: {}\n").is_err());
}

#[test]
fn how_revisions_are_carried_out_is_not_part_of_the_platform_digest() {
    let mut settings = PlatformSettings::default();
    settings.revisions.auto_rollback = false;
    settings.revisions.deadline_seconds = 60;
    settings.revisions.keep_manifests = 3;
    assert_eq!(
        platform_digest(settings),
        platform_digest(PlatformSettings::default())
    );
}

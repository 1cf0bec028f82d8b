//! Bad settings and secrets are refused with an error that names what to fix.

use storeplane_blueprint::quantity::Cpu;
use storeplane_blueprint::{Blueprint, BuildError, Engine, Plan, PlatformSettings, StoreSecrets};

use crate::fixtures;

fn error_building(settings: PlatformSettings, plan: Plan) -> BuildError {
    Blueprint::new(settings)
        .and_then(|b| {
            b.build(
                fixtures::store_id(),
                &fixtures::spec("demo", plan),
                &fixtures::secrets(),
            )
        })
        .unwrap_err()
}

#[test]
fn an_empty_base_domain_names_the_field() {
    let settings = PlatformSettings {
        base_domain: String::new(),
        ..PlatformSettings::default()
    };
    let err = error_building(settings, Plan::Small);
    assert!(
        matches!(&err, BuildError::InvalidSetting { field, .. } if field == "base_domain"),
        "{err}"
    );
}

#[test]
fn a_plan_whose_pods_exceed_its_quota_names_the_quota_field() {
    let mut settings = PlatformSettings::default();
    settings.plans.small.quota.limits.cpu = Cpu::millis(900);
    let err = error_building(settings, Plan::Small);
    assert!(
        matches!(&err, BuildError::PlanDoesNotFit { field, .. } if field == "plans.small.quota.limits.cpu"),
        "{err}"
    );
    assert!(
        err.to_string().contains("plans.small.quota.limits.cpu"),
        "{err}"
    );
}

#[test]
fn a_plan_with_too_few_claims_is_refused() {
    let mut settings = PlatformSettings::default();
    settings.plans.large.quota.persistent_volume_claims = 1;
    let err = error_building(settings, Plan::Large);
    assert!(
        matches!(&err, BuildError::PlanDoesNotFit { field, .. } if field == "plans.large.quota.persistent_volume_claims"),
        "{err}"
    );
}

#[test]
fn a_missing_secret_is_named() {
    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    let err = blueprint
        .build(
            fixtures::store_id(),
            &fixtures::spec("demo", Plan::Small),
            &StoreSecrets::new(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::MissingSecret {
            key: "mariadb-root-password"
        }
    );
}

#[test]
fn an_engine_without_a_blueprint_is_refused() {
    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    let mut spec = fixtures::spec("demo", Plan::Small);
    spec.engine = Engine::Medusa;
    let err = blueprint
        .build(fixtures::store_id(), &spec, &fixtures::secrets())
        .unwrap_err();
    assert_eq!(err, BuildError::UnsupportedEngine(Engine::Medusa));
}

#[test]
fn the_admin_credentials_are_found_by_secret_name_and_keys() {
    let credentials = Blueprint::credentials(Engine::WooCommerce).unwrap();
    let resources = fixtures::build(Plan::Small);
    let secret = resources
        .engine
        .secrets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(credentials.secret))
        .unwrap();
    let data = secret.data.as_ref().unwrap();
    assert_eq!(data[credentials.username_key].0, b"admin");
    assert!(data.contains_key(credentials.password_key));
}

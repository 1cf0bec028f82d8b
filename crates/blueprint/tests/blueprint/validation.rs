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
fn a_medusa_store_needs_medusa_s_secrets_not_woocommerce_s() {
    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    let spec = fixtures::spec_of(Engine::Medusa, "demo", Plan::Small);
    let err = blueprint
        .build(fixtures::store_id(), &spec, &fixtures::secrets())
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::MissingSecret {
            key: "postgres-password"
        }
    );
    assert!(
        blueprint
            .build(
                fixtures::store_id(),
                &spec,
                &fixtures::secrets_of(Engine::Medusa)
            )
            .is_ok()
    );
}

#[test]
fn a_medusa_plan_without_a_worker_is_named() {
    let mut settings = PlatformSettings::default();
    settings.medusa_plans.medium.worker = None;
    let BuildError::InvalidSetting { field, reason } = settings.validate().unwrap_err() else {
        panic!("not a setting error");
    };
    assert_eq!(field, "medusa_plans.medium.worker");
    assert!(reason.contains("Medusa"), "{reason}");
}

#[test]
fn medusa_plans_left_out_of_a_settings_file_keep_medusa_s_sizes() {
    let small = serde_saphyr::to_string(&PlatformSettings::default().medusa_plans.small).unwrap();
    let indented: String = small.lines().map(|l| format!("    {l}\n")).collect();
    let yaml = format!("medusa_plans:\n  small:\n{indented}");
    let settings: PlatformSettings = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(
        settings.medusa_plans,
        PlatformSettings::default().medusa_plans
    );
    assert_ne!(settings.medusa_plans.large, settings.plans.large);
}

#[test]
fn medusa_admin_credentials_are_its_email_and_password() {
    let credentials = Blueprint::credentials(Engine::Medusa).unwrap();
    let resources = fixtures::build_engine(
        PlatformSettings::default(),
        Engine::Medusa,
        "demo",
        Plan::Small,
    );
    let secret = resources
        .engine
        .secrets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(credentials.secret))
        .unwrap();
    let data = secret.data.as_ref().unwrap();
    assert_eq!(data[credentials.username_key].0, b"admin@example.com");
    assert!(data.contains_key(credentials.password_key));
    assert_eq!(resources.urls.admin, "http://demo.127.0.0.1.nip.io/app");
    let outputs = Blueprint::outputs(Engine::Medusa).unwrap().unwrap();
    assert_eq!(outputs.keys, ["publishable_key"]);
    assert!(Blueprint::outputs(Engine::WooCommerce).unwrap().is_none());
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

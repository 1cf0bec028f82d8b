//! Fixed inputs: one store id, deterministic secrets, and builders for specs and settings.

use storeplane_blueprint::{
    Blueprint, Engine, Plan, PlatformSettings, SecretKind, StoreId, StoreResources, StoreSecrets,
    StoreSpec,
};

pub const STORE_ID: &str = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";

pub fn store_id() -> StoreId {
    STORE_ID.parse().unwrap()
}

pub fn spec(name: &str, plan: Plan) -> StoreSpec {
    StoreSpec {
        name: name.parse().unwrap(),
        engine: Engine::WooCommerce,
        plan,
    }
}

/// Every secret a WooCommerce store needs, each recognisable and distinct
/// (`test-mariadb-password-000…`), so a leak is easy to spot.
pub fn secrets() -> StoreSecrets {
    let requirements = Blueprint::secret_requirements(Engine::WooCommerce).unwrap();
    StoreSecrets::generate(requirements, |requirement| match requirement.kind {
        SecretKind::Random { length } => {
            format!("{:0<length$}", format!("test-{}-", requirement.key))
        }
        SecretKind::Login { default } => default.to_owned(),
    })
}

/// The values that must never leave a Secret object.
pub fn confidential_values() -> Vec<String> {
    let secrets = secrets();
    Blueprint::secret_requirements(Engine::WooCommerce)
        .unwrap()
        .iter()
        .filter(|r| r.kind.is_confidential())
        .map(|r| secrets.get(r.key).unwrap().to_owned())
        .collect()
}

pub fn build_with(settings: PlatformSettings, name: &str, plan: Plan) -> StoreResources {
    Blueprint::new(settings)
        .unwrap()
        .build(store_id(), &spec(name, plan), &secrets())
        .unwrap()
}

pub fn build(plan: Plan) -> StoreResources {
    build_with(PlatformSettings::default(), "demo", plan)
}

/// Settings with every optional feature switched on.
pub fn everything_on() -> PlatformSettings {
    let mut settings = PlatformSettings {
        base_domain: "shops.example.com".to_owned(),
        storage_class: Some("fast-ssd".to_owned()),
        tls: true,
        cluster_issuer: Some("letsencrypt".to_owned()),
        allow_internet_egress: true,
        ..PlatformSettings::default()
    };
    settings.images.wordpress_woo = Some("ghcr.io/storeplane/wordpress-woo:6.8.1-9.8.5".to_owned());
    settings
}

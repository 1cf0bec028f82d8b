//! Fixed inputs: one store id, deterministic secrets, and builders for specs and settings.

use storeplane_blueprint::{
    Blueprint, Engine, FrontDoor, Plan, PlatformSettings, ReleaseCatalog, SecretKind, StoreId,
    StoreResources, StoreSecrets, StoreSpec,
};

pub const STORE_ID: &str = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";

pub fn store_id() -> StoreId {
    STORE_ID.parse().unwrap()
}

/// A WooCommerce store's spec.
pub fn spec(name: &str, plan: Plan) -> StoreSpec {
    spec_of(Engine::WooCommerce, name, plan)
}

pub fn spec_of(engine: Engine, name: &str, plan: Plan) -> StoreSpec {
    StoreSpec {
        name: name.parse().unwrap(),
        engine,
        plan,
        release: None,
        title: None,
    }
}

/// Every secret a WooCommerce store needs (see [`secrets_of`]).
pub fn secrets() -> StoreSecrets {
    secrets_of(Engine::WooCommerce)
}

/// Every secret a store of `engine` needs, each recognisable and distinct
/// (`test-mariadb-password-000…`), so a leak is easy to spot.
pub fn secrets_of(engine: Engine) -> StoreSecrets {
    let requirements = Blueprint::secret_requirements(engine).unwrap();
    StoreSecrets::generate(requirements, |requirement| match requirement.kind {
        SecretKind::Random { length } => {
            format!("{:0<length$}", format!("test-{}-", requirement.key))
        }
        SecretKind::Login { default } => default.to_owned(),
    })
}

/// The values of a store of `engine` that must never leave a Secret object.
pub fn confidential_values(engine: Engine) -> Vec<String> {
    let secrets = secrets_of(engine);
    Blueprint::secret_requirements(engine)
        .unwrap()
        .iter()
        .filter(|r| r.kind.is_confidential())
        .map(|r| secrets.get(r.key).unwrap().to_owned())
        .collect()
}

/// A WooCommerce store built with `settings`.
pub fn build_with(settings: PlatformSettings, name: &str, plan: Plan) -> StoreResources {
    build_engine(settings, Engine::WooCommerce, name, plan)
}

pub fn build_engine(
    settings: PlatformSettings,
    engine: Engine,
    name: &str,
    plan: Plan,
) -> StoreResources {
    Blueprint::new(settings)
        .unwrap()
        .build(
            store_id(),
            &spec_of(engine, name, plan),
            &secrets_of(engine),
        )
        .unwrap()
}

pub fn build(plan: Plan) -> StoreResources {
    build_with(PlatformSettings::default(), "demo", plan)
}

/// The default settings with the Ingress as the front door.
pub fn ingress() -> PlatformSettings {
    PlatformSettings {
        front_door: FrontDoor::Ingress,
        ..PlatformSettings::default()
    }
}

/// Settings with every optional feature of the Ingress front door switched on (a
/// cert-manager issuer needs the Ingress).
pub fn everything_on() -> PlatformSettings {
    let mut settings = PlatformSettings {
        front_door: FrontDoor::Ingress,
        base_domain: "shops.example.com".to_owned(),
        storage_class: Some("fast-ssd".to_owned()),
        tls: true,
        cluster_issuer: Some("letsencrypt".to_owned()),
        allow_internet_egress: true,
        ..PlatformSettings::default()
    };
    with_wordpress_woo(
        &mut settings,
        "ghcr.io/storeplane/wordpress-woo:6.8.1-9.8.5",
    );
    settings
}

/// Makes the default release run `image` (WooCommerce and wp-cli baked in).
pub fn with_wordpress_woo(settings: &mut PlatformSettings, image: &str) {
    let mut catalog = ReleaseCatalog::default();
    catalog.woocommerce.available[0].wordpress_woo = Some(image.to_owned());
    settings.releases = Some(catalog);
}

/// Makes the default release's WordPress containers run as `uid`.
pub fn with_wordpress_user(settings: &mut PlatformSettings, uid: i64) {
    let mut catalog = settings.releases.clone().unwrap_or_default();
    catalog.woocommerce.available[0].wordpress_user = Some(uid);
    settings.releases = Some(catalog);
}

/// Settings with every optional feature of the Gateway front door switched on: HTTPS at a
/// named listener of a Gateway elsewhere, proxies in kube-system (k3s's Traefik).
pub fn everything_on_gateway() -> PlatformSettings {
    let mut settings = PlatformSettings {
        front_door: FrontDoor::Gateway,
        cluster_issuer: None,
        ..everything_on()
    };
    settings.gateway.name = "public".to_owned();
    settings.gateway.namespace = "infra".to_owned();
    settings.gateway.listener = Some("https".to_owned());
    settings.gateway.data_plane_namespace = "kube-system".to_owned();
    settings
}

/// What a backup step is given: a fixed repository key, and S3 credentials.
pub fn backup_secrets() -> storeplane_blueprint::BackupSecrets {
    storeplane_blueprint::BackupSecrets {
        key: "backup-key-fixture-0123456789abcdef".to_owned(),
        s3: Some(storeplane_blueprint::S3Credentials {
            access_key_id: "AKIAFIXTURE".to_owned(),
            secret_access_key: "s3-secret-fixture-0123456789".to_owned(),
        }),
    }
}

/// A manual backup of revision 2, `backup-4f1c2a9b`, with [`backup_secrets`].
pub fn backup_request(
    secrets: &storeplane_blueprint::BackupSecrets,
) -> storeplane_blueprint::BackupRequest<'_> {
    storeplane_blueprint::BackupRequest {
        name: "backup-4f1c2a9b",
        kind: storeplane_domain::BackupKind::Manual,
        revision: Some(2),
        secrets,
    }
}

/// Backups to an S3 bucket of a MinIO running in the cluster.
pub fn s3_backups() -> PlatformSettings {
    let mut settings = PlatformSettings::default();
    settings.backups.repository =
        storeplane_blueprint::Repository::S3(storeplane_blueprint::S3Repository {
            endpoint: "http://minio.backups.svc:9000".to_owned(),
            bucket: "shops".to_owned(),
            prefix: "storeplane".to_owned(),
            region: Some("eu-west-1".to_owned()),
            namespace: Some("backups".to_owned()),
        });
    settings
}

/// A restore of snapshot `4f1c2a9b…` for revision 3, with [`backup_secrets`].
pub fn restore_request(
    secrets: &storeplane_blueprint::BackupSecrets,
) -> storeplane_blueprint::RestoreRequest<'_> {
    storeplane_blueprint::RestoreRequest {
        revision: 3,
        snapshot: "4f1c2a9b0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
        source: store_id(),
        source_key: &secrets.key,
        secrets,
    }
}

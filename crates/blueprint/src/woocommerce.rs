//! WooCommerce: WordPress with the WooCommerce plugin, on MariaDB.
//!
//! A store is a MariaDB StatefulSet, a WordPress Deployment whose `wp-content` lives on a
//! claim, and a setup Job that runs wp-cli against both to install WordPress and
//! WooCommerce and make the shop sellable. One Kubernetes kind per file below, and one
//! file per engine step (checkpoint, upgrade, restore, password reset), each with its
//! script beside it.

mod checkpoint;
mod deployment;
mod job;
mod maintenance;
mod network_policy;
mod persistent_volume_claim;
mod rehome;
mod reset_admin_password;
mod restore;
mod secret;
mod service;
mod stateful_set;
mod upgrade;

use k8s_openapi::api::core::v1::EnvVar;

use crate::engine::{
    Checkpoint, CredentialsRef, EngineBlueprint, EnginePaths, EngineResources, ReadinessCheck,
    ReadinessKind, StepResources, StoreContext, StoreFiles,
};
use crate::labels::Component;
use crate::pod::{env, secret_env};
use crate::secrets::{SecretRequirement, StoreSecrets};
use crate::settings::WooCommerceRelease;
use crate::{BuildError, parts};
use storeplane_domain::Engine;

pub use secret::{ADMIN_PASSWORD, ADMIN_SECRET, ADMIN_USER, REQUIREMENTS};

/// Names of the objects, fixed so every reconcile addresses the same ones.
const MARIADB: &str = "mariadb";
const WORDPRESS: &str = "wordpress";
const SETUP: &str = "woocommerce-setup";
/// The database and user WordPress uses (not secret: only the password is).
const DATABASE: &str = "wordpress";
const WEB_PORT: i32 = 80;
const DB_PORT: i32 = 3306;
/// `mysql` in the official MariaDB image.
const MYSQL: i64 = 999;

/// The WooCommerce engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct WooCommerce;

impl EngineBlueprint for WooCommerce {
    fn engine(&self) -> Engine {
        Engine::WooCommerce
    }

    fn secret_requirements(&self) -> &'static [SecretRequirement] {
        REQUIREMENTS
    }

    fn build(
        &self,
        store: &StoreContext<'_>,
        secrets: &StoreSecrets,
    ) -> Result<EngineResources, BuildError> {
        let release = release(store)?;
        Ok(EngineResources {
            network_policies: network_policy::network_policies(store, release),
            secrets: secret::secrets(store, secrets),
            database: vec![
                persistent_volume_claim::mariadb_data(store).into(),
                service::mariadb(store).into(),
                stateful_set::mariadb(store, release).into(),
            ],
            app: vec![
                persistent_volume_claim::wordpress_content(store).into(),
                deployment::wordpress(store, release).into(),
                service::wordpress(store).into(),
            ],
            setup: vec![job::setup(store, release).into()],
            front_door: vec![parts::front_door(store, WORDPRESS, WEB_PORT)],
        })
    }

    fn readiness(&self, _store: &StoreContext<'_>) -> Vec<ReadinessCheck> {
        [
            (ReadinessKind::StatefulSet, MARIADB),
            (ReadinessKind::Deployment, WORDPRESS),
            (ReadinessKind::Job, SETUP),
        ]
        .into_iter()
        .map(|(kind, name)| ReadinessCheck {
            kind,
            name: name.to_owned(),
        })
        .collect()
    }

    fn paths(&self) -> EnginePaths {
        EnginePaths {
            storefront: "/",
            admin: "/wp-admin/",
            probe: "/",
        }
    }

    fn credentials(&self) -> CredentialsRef {
        CredentialsRef {
            secret: ADMIN_SECRET,
            username_key: ADMIN_USER,
            password_key: ADMIN_PASSWORD,
        }
    }

    fn web_port(&self) -> (&'static str, i32) {
        ("http", WEB_PORT)
    }

    fn files(&self, store: &StoreContext<'_>) -> Result<StoreFiles, BuildError> {
        Ok(StoreFiles {
            claim: persistent_volume_claim::WORDPRESS_CONTENT,
            path: "/var/www/html/wp-content",
            uid: release(store)?.wordpress_uid(),
            component: Component::Web,
        })
    }

    fn rehome(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
        from_url: &str,
    ) -> Result<Option<StepResources>, BuildError> {
        Ok(Some(rehome::rehome(
            store,
            release(store)?,
            revision,
            from_url,
        )))
    }

    fn checkpoint(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(checkpoint::checkpoint(store, release(store)?, revision))
    }

    fn upgrade(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(upgrade::upgrade(store, release(store)?, revision))
    }

    fn restore(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
        checkpoint: &Checkpoint,
    ) -> Result<StepResources, BuildError> {
        Ok(restore::restore(
            store,
            release(store)?,
            revision,
            checkpoint,
        ))
    }

    fn reset_admin_password(
        &self,
        store: &StoreContext<'_>,
        generation: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(reset_admin_password::reset_admin_password(
            store,
            release(store)?,
            generation,
        ))
    }
}

/// The store's release in the WooCommerce catalog.
fn release<'a>(store: &StoreContext<'a>) -> Result<&'a WooCommerceRelease, BuildError> {
    store
        .settings
        .catalog()
        .woocommerce
        .lookup(Engine::WooCommerce, store.release)
}

/// How WordPress (and wp-cli, through the same `wp-config.php`) reaches its database.
/// The official image's `wp-config-docker.php` reads these variables at run time.
fn database_env() -> Vec<EnvVar> {
    vec![
        env("WORDPRESS_DB_HOST", format!("{MARIADB}:{DB_PORT}")),
        env("WORDPRESS_DB_NAME", DATABASE),
        env("WORDPRESS_DB_USER", DATABASE),
        secret_env(
            "WORDPRESS_DB_PASSWORD",
            secret::DATABASE_SECRET,
            secret::DB_PASSWORD,
        ),
    ]
}

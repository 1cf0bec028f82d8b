//! Medusa: a MedusaJS v2 application (the image built from `images/medusa`) on PostgreSQL,
//! with Redis for its event bus, workflow engine, locks and cache.
//!
//! A store is a PostgreSQL StatefulSet, a Redis StatefulSet, the Medusa server (the HTTP
//! API at `/store` and `/admin`, and the admin UI at `/app`) and the Medusa worker
//! (background jobs, subscribers, scheduled jobs) as two Deployments of the same image,
//! and a setup Job that migrates the database and bootstraps a sellable shop (`setup.sh`,
//! idempotent). The setup publishes the shop's publishable API key (public: every Store API
//! request carries it) in its termination message, which storeplane reads from the pod's
//! status ([`OutputsRef`]). There is no storefront: the Store API is the store's public
//! face (docs/stores.md says why). One Kubernetes kind per file below, and the engine
//! steps (checkpoint with `pg_dump`, restore, upgrade with `medusa db:migrate`, password
//! reset) in `steps.rs`, each with its script beside it.
//!
//! What follows is the contract with that image (its working directory, the environment
//! its `medusa-config.ts` reads, the scripts `medusa exec` runs), which
//! `scripts/test-medusa-app.sh` holds the application to by running it with these same
//! scripts and variables.

mod deployment;
mod job;
mod maintenance;
mod network_policy;
mod secret;
mod stateful_set;
mod steps;

use k8s_openapi::api::core::v1::EnvVar;

use crate::engine::{
    Checkpoint, CredentialsRef, EngineBlueprint, EnginePaths, EngineResources, OutputsRef,
    ReadinessCheck, ReadinessKind, StepResources, StoreContext, StoreFiles,
};
use crate::labels::Component;
use crate::parts::{claim, service};
use crate::pod::{env, secret_env};
use crate::secrets::{SecretRequirement, StoreSecrets};
use crate::settings::MedusaRelease;
use crate::{BuildError, parts};
use storeplane_domain::Engine;

pub use secret::{ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_SECRET, REQUIREMENTS};

/// Names of the objects, fixed so every reconcile addresses the same ones.
const POSTGRES: &str = "postgres";
const REDIS: &str = "redis";
const SERVER: &str = "medusa-server";
const WORKER: &str = "medusa-worker";
const SETUP: &str = "medusa-setup";
/// The setup Job's container, whose termination message holds the publishable key.
const SETUP_CONTAINER: &str = "setup";
const POSTGRES_DATA: &str = "postgres-data";
const REDIS_DATA: &str = "redis-data";
const UPLOADS: &str = "medusa-uploads";
/// The database and its owner (not secret: only the password is).
const DATABASE: &str = "medusa";
/// Medusa's port, server and worker alike (the worker answers `/health` on it too).
const MEDUSA_PORT: i32 = 9000;
const POSTGRES_PORT: i32 = 5432;
const REDIS_PORT: i32 = 6379;
/// `postgres` in the official PostgreSQL image and `redis` in the official Redis image
/// (both Debian-based).
const POSTGRES_UID: i64 = 999;
const REDIS_UID: i64 = 999;
/// Where `images/medusa` keeps the built application, and where the file module keeps
/// uploads below it. Not `/app`: the admin UI is served at that path.
const APP_DIR: &str = "/srv/medusa";
const UPLOADS_DIR: &str = "/srv/medusa/static";

/// What the setup publishes, by key, in its termination message.
const OUTPUT_KEYS: &[&str] = &["publishable_key"];

/// The Medusa engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Medusa;

impl EngineBlueprint for Medusa {
    fn engine(&self) -> Engine {
        Engine::Medusa
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
        let plan = store.plan();
        Ok(EngineResources {
            network_policies: network_policy::network_policies(store),
            secrets: secret::secrets(store, secrets),
            database: vec![
                claim(
                    store,
                    POSTGRES_DATA,
                    Component::Database,
                    plan.database_storage,
                )
                .into(),
                service(
                    store,
                    POSTGRES,
                    Component::Database,
                    ("postgres", POSTGRES_PORT),
                    true,
                )
                .into(),
                stateful_set::postgres(store, release).into(),
                claim(
                    store,
                    REDIS_DATA,
                    Component::Cache,
                    plan.cache_storage.unwrap_or(plan.database_storage),
                )
                .into(),
                service(store, REDIS, Component::Cache, ("redis", REDIS_PORT), true).into(),
                stateful_set::redis(store, release).into(),
            ],
            app: vec![
                claim(store, UPLOADS, Component::Web, plan.web_storage).into(),
                deployment::server(store, release).into(),
                service(store, SERVER, Component::Web, ("http", MEDUSA_PORT), false).into(),
                deployment::worker(store, release).into(),
            ],
            setup: vec![job::setup(store, release).into()],
            front_door: vec![parts::front_door(store, SERVER, MEDUSA_PORT)],
        })
    }

    fn readiness(&self, _store: &StoreContext<'_>) -> Vec<ReadinessCheck> {
        // The setup before the server and worker: they answer `/health` once started, but
        // serve nothing useful before the database is migrated.
        [
            (ReadinessKind::StatefulSet, POSTGRES),
            (ReadinessKind::StatefulSet, REDIS),
            (ReadinessKind::Job, SETUP),
            (ReadinessKind::Deployment, SERVER),
            (ReadinessKind::Deployment, WORKER),
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
            storefront: "/store",
            admin: "/app",
            probe: "/health",
        }
    }

    fn credentials(&self) -> CredentialsRef {
        CredentialsRef {
            secret: ADMIN_SECRET,
            username_key: ADMIN_EMAIL,
            password_key: ADMIN_PASSWORD,
        }
    }

    fn outputs(&self) -> Option<OutputsRef> {
        Some(OutputsRef {
            job: SETUP,
            container: SETUP_CONTAINER,
            keys: OUTPUT_KEYS,
        })
    }

    fn web_port(&self) -> (&'static str, i32) {
        ("http", MEDUSA_PORT)
    }

    fn files(&self, store: &StoreContext<'_>) -> Result<StoreFiles, BuildError> {
        Ok(StoreFiles {
            claim: UPLOADS,
            path: UPLOADS_DIR,
            uid: release(store)?.medusa_uid(),
            component: Component::Web,
        })
    }

    fn checkpoint(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(steps::checkpoint(store, release(store)?, revision))
    }

    fn upgrade(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(steps::upgrade(store, release(store)?, revision))
    }

    fn restore(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
        checkpoint: &Checkpoint,
    ) -> Result<StepResources, BuildError> {
        Ok(steps::restore(store, release(store)?, revision, checkpoint))
    }

    fn reset_admin_password(
        &self,
        store: &StoreContext<'_>,
        generation: u32,
    ) -> Result<StepResources, BuildError> {
        Ok(steps::reset_admin_password(
            store,
            release(store)?,
            generation,
        ))
    }
}

/// The store's release in the Medusa catalog.
fn release<'a>(store: &StoreContext<'a>) -> Result<&'a MedusaRelease, BuildError> {
    store
        .settings
        .catalog()
        .medusa
        .lookup(Engine::Medusa, store.release)
}

/// What every Medusa process reads (server, worker, setup and step Jobs):
/// `images/medusa/medusa-config.ts` builds its database and Redis URLs from these, and
/// every secret comes from a Secret. The origins are exact: the store's own URL.
fn medusa_env(store: &StoreContext<'_>) -> Vec<EnvVar> {
    let origin = store.base_url();
    vec![
        env("NODE_ENV", "production"),
        env("MEDUSA_DISABLE_TELEMETRY", "true"),
        env("PORT", MEDUSA_PORT.to_string()),
        // Node.js and npm keep caches under $HOME; the root filesystem is read-only.
        env("HOME", "/tmp"),
        env("DATABASE_HOST", POSTGRES),
        env("DATABASE_PORT", POSTGRES_PORT.to_string()),
        env("DATABASE_NAME", DATABASE),
        env("DATABASE_USER", DATABASE),
        secret_env(
            "DATABASE_PASSWORD",
            secret::DATABASE_SECRET,
            secret::DB_PASSWORD,
        ),
        env("REDIS_HOST", REDIS),
        env("REDIS_PORT", REDIS_PORT.to_string()),
        secret_env(
            "REDIS_PASSWORD",
            secret::REDIS_SECRET,
            secret::REDIS_PASSWORD,
        ),
        secret_env("JWT_SECRET", secret::KEYS_SECRET, secret::JWT_SECRET),
        secret_env("COOKIE_SECRET", secret::KEYS_SECRET, secret::COOKIE_SECRET),
        env("STORE_CORS", origin.clone()),
        env("ADMIN_CORS", origin.clone()),
        env("AUTH_CORS", origin.clone()),
        env("MEDUSA_BACKEND_URL", origin),
        // Session cookies are `Secure` only where the platform serves HTTPS: a browser
        // drops a Secure cookie sent over plain HTTP, as on a laptop cluster.
        env("COOKIE_SECURE", store.settings.tls.to_string()),
    ]
}

/// The admin's login, for the setup and password-reset Jobs.
fn admin_env() -> Vec<EnvVar> {
    vec![
        secret_env("MEDUSA_ADMIN_EMAIL", ADMIN_SECRET, ADMIN_EMAIL),
        secret_env("MEDUSA_ADMIN_PASSWORD", ADMIN_SECRET, ADMIN_PASSWORD),
    ]
}

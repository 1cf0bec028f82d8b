//! PostgreSQL and Redis: one replica each, with their data on their own claims.
//!
//! **PostgreSQL** (the official image) starts as `postgres` (uid 999): its entrypoint then
//! skips only its chowns, and `initdb` runs as that user on first start. `PGDATA` is a
//! directory below the claim's root, which may hold `lost+found`. It writes its data (the
//! claim), its socket in `/var/run/postgresql` and temporary files in `/tmp` (emptyDirs).
//!
//! **Redis** (the official image) starts as `redis` (uid 999) from `redis.sh`: the
//! append-only file on, so queued jobs survive a restart, and `noeviction`, which BullMQ
//! (Medusa's queues) requires. Its memory is capped at three quarters of the container's
//! limit, so a full Redis refuses writes instead of being killed. Both run with no
//! capability and a read-only root filesystem.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, PodTemplateSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::secret::{DATABASE_SECRET, DB_PASSWORD, REDIS_PASSWORD, REDIS_SECRET};
use super::{
    DATABASE, POSTGRES, POSTGRES_DATA, POSTGRES_PORT, POSTGRES_UID, REDIS, REDIS_DATA, REDIS_PORT,
    REDIS_UID,
};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::plan_size::ContainerSize;
use crate::pod::{
    Timing, claim, container_security, env, exec_probe, mount, pod_security, resources, scratch,
    secret_env, tcp_probe,
};
use crate::settings::MedusaRelease;

const REDIS_SCRIPT: &str = include_str!("redis.sh");
/// Accepting connections on TCP, as Medusa connects.
const PG_READY: &[&str] = &[
    "pg_isready",
    "--host=127.0.0.1",
    "--port=5432",
    "--username=medusa",
    "--dbname=medusa",
];
/// The password comes from `REDISCLI_AUTH`; an error reply (loading, no auth) is no PONG.
const REDIS_PING: &[&str] = &["/bin/sh", "-c", "redis-cli ping | grep -q PONG"];

struct Single<'a> {
    name: &'a str,
    component: Component,
    uid: i64,
    container: Container,
    volumes: Vec<Volume>,
}

fn single(store: &StoreContext<'_>, single: Single<'_>) -> StatefulSet {
    StatefulSet {
        metadata: store.metadata(single.name, single.component),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(single.name.to_owned()),
            selector: LabelSelector {
                match_labels: Some(labels::component_selector(single.component)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(store.labels(single.component)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![single.container],
                    security_context: Some(pod_security(single.uid, single.uid)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(single.volumes),
                    ..PodSpec::default()
                }),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn port(name: &str, number: i32) -> Vec<ContainerPort> {
    vec![ContainerPort {
        name: Some(name.to_owned()),
        container_port: number,
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }]
}

pub fn postgres(store: &StoreContext<'_>, release: &MedusaRelease) -> StatefulSet {
    let container = Container {
        name: POSTGRES.to_owned(),
        image: Some(release.postgres.clone()),
        env: Some(vec![
            env("POSTGRES_USER", DATABASE),
            env("POSTGRES_DB", DATABASE),
            secret_env("POSTGRES_PASSWORD", DATABASE_SECRET, DB_PASSWORD),
            env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ]),
        ports: Some(port("postgres", POSTGRES_PORT)),
        resources: Some(resources(&store.plan().database)),
        startup_probe: Some(exec_probe(PG_READY, Timing::STARTUP)),
        readiness_probe: Some(exec_probe(PG_READY, Timing::READINESS)),
        // Only whether it listens: a busy database should not be restarted.
        liveness_probe: Some(tcp_probe("postgres", Timing::LIVENESS)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![
            mount("data", "/var/lib/postgresql/data"),
            mount("run", "/var/run/postgresql"),
            mount("tmp", "/tmp"),
        ]),
        ..Container::default()
    };
    single(
        store,
        Single {
            name: POSTGRES,
            component: Component::Database,
            uid: POSTGRES_UID,
            container,
            volumes: vec![claim("data", POSTGRES_DATA), scratch("run"), scratch("tmp")],
        },
    )
}

/// Redis's `maxmemory`: three quarters of the container's memory limit, in bytes.
fn max_memory(size: &ContainerSize) -> String {
    (size.limits.memory.0 / 4 * 3).to_string()
}

pub fn redis(store: &StoreContext<'_>, release: &MedusaRelease) -> StatefulSet {
    let plan = store.plan();
    let size = plan.cache.unwrap_or(plan.database);
    let container = Container {
        name: REDIS.to_owned(),
        image: Some(release.redis.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            REDIS_SCRIPT.to_owned(),
        ]),
        env: Some(vec![
            secret_env("REDIS_PASSWORD", REDIS_SECRET, REDIS_PASSWORD),
            // redis-cli (the probes) reads its password here.
            secret_env("REDISCLI_AUTH", REDIS_SECRET, REDIS_PASSWORD),
            env("REDIS_MAXMEMORY", max_memory(&size)),
        ]),
        ports: Some(port("redis", REDIS_PORT)),
        resources: Some(resources(&size)),
        startup_probe: Some(exec_probe(REDIS_PING, Timing::STARTUP)),
        readiness_probe: Some(exec_probe(REDIS_PING, Timing::READINESS)),
        liveness_probe: Some(tcp_probe("redis", Timing::LIVENESS)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![mount("data", "/data"), mount("tmp", "/tmp")]),
        ..Container::default()
    };
    single(
        store,
        Single {
            name: REDIS,
            component: Component::Cache,
            uid: REDIS_UID,
            container,
            volumes: vec![claim("data", REDIS_DATA), scratch("tmp")],
        },
    )
}

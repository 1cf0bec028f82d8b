//! MariaDB: one replica with its data on the `mariadb-data` claim.
//!
//! The official image's entrypoint drops from root to `mysql` (uid 999) by itself, and
//! started as 999 it skips only its chowns of the data and socket directories (which
//! `fsGroup` and an emptyDir make writable), so it runs under `restricted` unchanged:
//! no capability, read-only root filesystem. What it writes: the data directory (the
//! claim), the server's socket and pid file in `/run/mysqld` (the client of the
//! entrypoint's first-start initialisation and of `healthcheck.sh` connects there), and
//! temporary tables and files in `/tmp` (both emptyDirs).

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::persistent_volume_claim::MARIADB_DATA;
use super::secret::{DATABASE_SECRET, DB_PASSWORD, ROOT_PASSWORD};
use super::{DATABASE, DB_PORT, MARIADB, MYSQL};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::pod::{
    Timing, claim, container_security, env, exec_probe, mount, pod_security, resources, scratch,
    secret_env, tcp_probe,
};
use crate::settings::WooCommerceRelease;

/// The image's own check: connected and InnoDB initialised, with the health-check user
/// the entrypoint creates on first start
/// (<https://mariadb.com/kb/en/using-healthcheck-sh/>).
const HEALTHCHECK: &[&str] = &["healthcheck.sh", "--connect", "--innodb_initialized"];

pub fn mariadb(store: &StoreContext<'_>, release: &WooCommerceRelease) -> StatefulSet {
    let container = Container {
        name: MARIADB.to_owned(),
        image: Some(release.mariadb.clone()),
        env: Some(vec![
            secret_env("MARIADB_ROOT_PASSWORD", DATABASE_SECRET, ROOT_PASSWORD),
            env("MARIADB_DATABASE", DATABASE),
            env("MARIADB_USER", DATABASE),
            secret_env("MARIADB_PASSWORD", DATABASE_SECRET, DB_PASSWORD),
            // Upgrades the system tables when a newer image starts on older data.
            env("MARIADB_AUTO_UPGRADE", "1"),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("mysql".to_owned()),
            container_port: DB_PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        resources: Some(resources(&store.plan().database)),
        startup_probe: Some(exec_probe(HEALTHCHECK, Timing::STARTUP)),
        readiness_probe: Some(exec_probe(HEALTHCHECK, Timing::READINESS)),
        // Liveness asks only whether the server listens: a busy InnoDB should not get the
        // database restarted.
        liveness_probe: Some(tcp_probe("mysql", Timing::LIVENESS)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![
            mount("data", "/var/lib/mysql"),
            mount("run", "/run/mysqld"),
            mount("tmp", "/tmp"),
        ]),
        ..Container::default()
    };
    StatefulSet {
        metadata: store.metadata(MARIADB, Component::Database),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(MARIADB.to_owned()),
            selector: LabelSelector {
                match_labels: Some(labels::component_selector(Component::Database)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(store.labels(Component::Database)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(pod_security(MYSQL, MYSQL)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![
                        claim("data", MARIADB_DATA),
                        scratch("run"),
                        scratch("tmp"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

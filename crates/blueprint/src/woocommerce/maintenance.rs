//! What WooCommerce's engine steps share: the labels that keep their objects out of the
//! store's prune, the network policies that let their pods reach MariaDB and nothing
//! else, and the pod of the database steps (a MariaDB client, for checkpoint and restore).
//!
//! Step pods carry the `maintenance` component. The store's default deny covers them like
//! every pod of the namespace; these policies add MariaDB on 3306 (egress from the step,
//! ingress to MariaDB: with both directions denied a flow needs both) and nothing else.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::secret::{DATABASE_SECRET, DB_PASSWORD};
use super::{DATABASE, DB_PORT, MARIADB, MYSQL};
use crate::engine::StoreContext;
use crate::fence::{pod_peer, port};
use crate::labels::{self, Component};
use crate::parts::{shared_metadata, step_metadata};
use crate::pod::{
    claim, container_security, env, mount, pod_security, resources, scratch, secret_env,
};
use crate::settings::WooCommerceRelease;

/// The claim checkpoints are kept on, and where step pods mount it.
pub const CHECKPOINTS: &str = "checkpoints";
pub const CHECKPOINTS_DIR: &str = "/checkpoints";
fn selecting(component: Component) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_labels: Some(labels::component_selector(component)),
        ..LabelSelector::default()
    })
}

/// Step pods -> MariaDB on 3306, and MariaDB admitting them; the same two policies for
/// every step, so applying them again changes nothing.
pub fn network_policies(store: &StoreContext<'_>) -> Vec<NetworkPolicy> {
    vec![
        NetworkPolicy {
            metadata: shared_metadata(store, "maintenance-egress", Component::Isolation),
            spec: Some(NetworkPolicySpec {
                pod_selector: selecting(Component::Maintenance),
                policy_types: Some(vec!["Egress".to_owned()]),
                egress: Some(vec![NetworkPolicyEgressRule {
                    to: Some(vec![pod_peer(Component::Database)]),
                    ports: Some(vec![port("TCP", DB_PORT)]),
                }]),
                ..NetworkPolicySpec::default()
            }),
        },
        NetworkPolicy {
            metadata: shared_metadata(store, "mariadb-ingress-maintenance", Component::Isolation),
            spec: Some(NetworkPolicySpec {
                pod_selector: selecting(Component::Database),
                policy_types: Some(vec!["Ingress".to_owned()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![pod_peer(Component::Maintenance)]),
                    ports: Some(vec![port("TCP", DB_PORT)]),
                }]),
                ..NetworkPolicySpec::default()
            }),
        },
    ]
}

/// The path of revision `revision`'s checkpoint.
pub fn checkpoint_path(revision: u32) -> String {
    format!("{CHECKPOINTS_DIR}/r{revision}.sql.gz")
}

/// A database step's Job: `script` under bash in the release's MariaDB image (its
/// `mariadb-dump` and `mariadb` match the server's version), as `mysql`, with the
/// checkpoints claim at `/checkpoints`. It connects as WordPress's own database user (all
/// a dump and a restore of its database need), the password in `MYSQL_PWD`.
pub struct DatabaseJob<'a> {
    pub name: &'a str,
    pub step: &'a str,
    pub script: &'a str,
    pub env: Vec<EnvVar>,
    pub backoff_limit: i32,
    pub deadline_seconds: i64,
}

pub fn database_job(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    job: DatabaseJob<'_>,
) -> Job {
    let mut env_vars = vec![
        env("DB_HOST", MARIADB),
        env("DB_PORT", DB_PORT.to_string()),
        env("DB_USER", DATABASE),
        env("DB_NAME", DATABASE),
        secret_env("MYSQL_PWD", DATABASE_SECRET, DB_PASSWORD),
    ];
    env_vars.extend(job.env);
    env_vars.push(env("HOME", "/tmp"));
    let container = Container {
        name: job.step.to_owned(),
        image: Some(release.mariadb.clone()),
        command: Some(vec![
            "/bin/bash".to_owned(),
            "-c".to_owned(),
            job.script.to_owned(),
        ]),
        env: Some(env_vars),
        resources: Some(resources(&store.plan().setup)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![
            mount("checkpoints", CHECKPOINTS_DIR),
            mount("tmp", "/tmp"),
        ]),
        ..Container::default()
    };
    let metadata = step_metadata(store, job.name, Component::Maintenance, job.step);
    Job {
        metadata: metadata.clone(),
        spec: Some(JobSpec {
            backoff_limit: Some(job.backoff_limit),
            active_deadline_seconds: Some(job.deadline_seconds),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: metadata.labels,
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    containers: vec![container],
                    security_context: Some(pod_security(MYSQL, MYSQL)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![claim("checkpoints", CHECKPOINTS), scratch("tmp")]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

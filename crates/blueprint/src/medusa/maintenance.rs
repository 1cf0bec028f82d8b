//! What Medusa's engine steps share: the network policies that let their pods reach
//! PostgreSQL and Redis and nothing else (the upgrade and password-reset steps start the
//! Medusa application, which connects to both), the checkpoints claim, and the pod of the
//! database steps (a PostgreSQL client, for checkpoint and restore).

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, PersistentVolumeClaim, PodSpec, PodTemplateSpec,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::secret::{DATABASE_SECRET, DB_PASSWORD};
use super::{DATABASE, POSTGRES, POSTGRES_PORT, POSTGRES_UID, REDIS_PORT};
use crate::engine::StoreContext;
use crate::fence::pod_peer;
use crate::labels::Component;
use crate::parts::{self, allow, from, shared_metadata, step_metadata, to};
use crate::pod::{
    claim, container_security, env, mount, pod_security, resources, scratch, secret_env,
};
use crate::settings::MedusaRelease;

/// The claim checkpoints are kept on, and where step pods mount it.
pub const CHECKPOINTS: &str = "checkpoints";
pub const CHECKPOINTS_DIR: &str = "/checkpoints";

fn shared(store: &StoreContext<'_>, mut policy: NetworkPolicy) -> NetworkPolicy {
    let name = policy.metadata.name.clone().unwrap_or_default();
    policy.metadata = shared_metadata(store, &name, Component::Isolation);
    policy
}

/// Step pods -> PostgreSQL and Redis, and both admitting them; the same policies for every
/// step, so applying them again changes nothing.
pub fn network_policies(store: &StoreContext<'_>) -> Vec<NetworkPolicy> {
    let steps = || vec![pod_peer(Component::Maintenance)];
    [
        allow(
            store,
            "maintenance-egress",
            Component::Maintenance,
            Vec::new(),
            vec![
                to(vec![pod_peer(Component::Database)], &[POSTGRES_PORT]),
                to(vec![pod_peer(Component::Cache)], &[REDIS_PORT]),
            ],
        ),
        allow(
            store,
            "postgres-ingress-maintenance",
            Component::Database,
            vec![from(steps(), POSTGRES_PORT)],
            Vec::new(),
        ),
        allow(
            store,
            "redis-ingress-maintenance",
            Component::Cache,
            vec![from(steps(), REDIS_PORT)],
            Vec::new(),
        ),
    ]
    .into_iter()
    .map(|policy| shared(store, policy))
    .collect()
}

/// The checkpoints claim, sized by the plan's `checkpoint_storage`.
pub fn checkpoints_claim(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let mut claim = parts::claim(
        store,
        CHECKPOINTS,
        Component::Database,
        store.plan().checkpoint_storage(),
    );
    claim.metadata = shared_metadata(store, CHECKPOINTS, Component::Database);
    claim
}

/// The path of revision `revision`'s checkpoint: a `pg_dump` archive (custom format,
/// compressed).
pub fn checkpoint_path(revision: u32) -> String {
    format!("{CHECKPOINTS_DIR}/r{revision}.dump")
}

/// A database step's Job: `script` under bash in the release's PostgreSQL image (its
/// `pg_dump` and `pg_restore` match the server's version), as `postgres`, with the
/// checkpoints claim at `/checkpoints`. It connects as Medusa's database user, the
/// password in `PGPASSWORD`.
pub struct DatabaseJob<'a> {
    pub name: &'a str,
    pub step: &'a str,
    pub script: &'a str,
    pub env: Vec<EnvVar>,
    pub deadline_seconds: i64,
}

pub fn database_job(
    store: &StoreContext<'_>,
    release: &MedusaRelease,
    job: DatabaseJob<'_>,
) -> Job {
    let mut env_vars = vec![
        env("PGHOST", POSTGRES),
        env("PGPORT", POSTGRES_PORT.to_string()),
        env("PGUSER", DATABASE),
        env("PGDATABASE", DATABASE),
        secret_env("PGPASSWORD", DATABASE_SECRET, DB_PASSWORD),
    ];
    env_vars.extend(job.env);
    env_vars.push(env("HOME", "/tmp"));
    let container = Container {
        name: job.step.to_owned(),
        image: Some(release.postgres.clone()),
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
            backoff_limit: Some(2),
            active_deadline_seconds: Some(job.deadline_seconds),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: metadata.labels,
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    containers: vec![container],
                    security_context: Some(pod_security(POSTGRES_UID, POSTGRES_UID)),
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

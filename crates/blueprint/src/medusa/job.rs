//! The setup Job (`setup.sh`): `medusa db:migrate --execute-safe-links`, then a bootstrap
//! under `medusa exec` that checks before it creates (region, tax region, sales channel,
//! stock location and shipping, publishable key, a sample product, the admin), so it is
//! safe to run again at any point. Its last act is to write the publishable key to the
//! container's termination message, where storeplane reads it.
//!
//! No `ttlSecondsAfterFinished`: the completed Job is how the next reconcile knows setup
//! is done. The same pod (the release's Medusa image, its environment) runs the upgrade
//! and password-reset steps, built here with their own name, labels and script.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{APP_DIR, SETUP, SETUP_CONTAINER, admin_env, medusa_env};
use crate::engine::StoreContext;
use crate::labels::Component;
use crate::pod::{container_security, env, mount, pod_security, resources, scratch};
use crate::settings::MedusaRelease;

const SETUP_SCRIPT: &str = include_str!("setup.sh");

/// A Job whose one container runs `script` in the release's Medusa image, with the
/// environment every Medusa process gets plus `env`.
pub struct MedusaJob<'a> {
    pub name: &'a str,
    pub container: &'a str,
    pub component: Component,
    /// Extra labels of the Job and its pod (an engine step's).
    pub labels: BTreeMap<String, String>,
    pub script: &'a str,
    pub env: Vec<EnvVar>,
    pub backoff_limit: i32,
    pub deadline_seconds: i64,
}

pub fn setup(store: &StoreContext<'_>, release: &MedusaRelease) -> Job {
    let mut env_vars = admin_env();
    env_vars.push(env("MEDUSA_STORE_NAME", store.title()));
    medusa_job(
        store,
        release,
        MedusaJob {
            name: SETUP,
            container: SETUP_CONTAINER,
            component: Component::Setup,
            labels: BTreeMap::new(),
            script: SETUP_SCRIPT,
            env: env_vars,
            // Retries while PostgreSQL or Redis are still starting.
            backoff_limit: 4,
            // All attempts together; a setup that takes longer is stuck.
            deadline_seconds: 900,
        },
    )
}

pub fn medusa_job(store: &StoreContext<'_>, release: &MedusaRelease, job: MedusaJob<'_>) -> Job {
    let mut env_vars = medusa_env(store);
    env_vars.extend(job.env);
    let container = Container {
        name: job.container.to_owned(),
        image: Some(release.medusa.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            job.script.to_owned(),
        ]),
        working_dir: Some(APP_DIR.to_owned()),
        env: Some(env_vars),
        resources: Some(resources(&store.plan().setup)),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![mount("tmp", "/tmp")]),
        ..Container::default()
    };
    let mut labels = store.labels(job.component);
    labels.extend(job.labels);
    let mut metadata = store.metadata(job.name, job.component);
    metadata.labels = Some(labels.clone());
    Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(job.backoff_limit),
            active_deadline_seconds: Some(job.deadline_seconds),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    containers: vec![container],
                    security_context: Some(pod_security(
                        release.medusa_uid(),
                        release.medusa_uid(),
                    )),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![scratch("tmp")]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

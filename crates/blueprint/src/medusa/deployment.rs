//! The Medusa server and worker: two Deployments of the release's Medusa image, one
//! process each, told apart by `MEDUSA_WORKER_MODE`.
//!
//! - **Server** (`server`): the HTTP API (`/store`, `/admin`, `/auth`) and the admin UI at
//!   `/app`, behind the front door; uploads on the `medusa-uploads` claim. `Recreate`,
//!   because a `ReadWriteOnce` claim cannot be mounted by a second pod on another node
//!   during a rolling update.
//! - **Worker** (`worker`, admin disabled): subscribers, scheduled jobs and workflow steps,
//!   fed through Redis. Nothing reaches it; it answers `/health` for its own probes.
//!
//! Both run as the release's Medusa user (`node`, 1000) with no capability and a read-only
//! root filesystem; `/tmp` is an emptyDir. Probes: startup and readiness on `GET /health`,
//! liveness on the port only (a database outage must not restart them).

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{APP_DIR, MEDUSA_PORT, SERVER, UPLOADS, UPLOADS_DIR, WORKER, medusa_env};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::plan_size::ContainerSize;
use crate::pod::{
    Timing, claim, container_security, env, http_probe, mount, pod_security, resources, scratch,
    tcp_probe,
};
use crate::settings::MedusaRelease;

/// What sets the two apart.
struct Process<'a> {
    name: &'a str,
    component: Component,
    mode: &'a str,
    admin: bool,
    size: ContainerSize,
    /// The uploads directory: the claim for the server, an emptyDir for the worker.
    uploads: Volume,
    strategy: &'a str,
}

fn process(store: &StoreContext<'_>, release: &MedusaRelease, process: Process<'_>) -> Deployment {
    let mut env_vars = medusa_env(store);
    env_vars.push(env("MEDUSA_WORKER_MODE", process.mode));
    env_vars.push(env("DISABLE_MEDUSA_ADMIN", (!process.admin).to_string()));
    let mounts: Vec<VolumeMount> = vec![mount("uploads", UPLOADS_DIR), mount("tmp", "/tmp")];
    let container = Container {
        name: "medusa".to_owned(),
        image: Some(release.medusa.clone()),
        command: Some(vec!["medusa".to_owned(), "start".to_owned()]),
        working_dir: Some(APP_DIR.to_owned()),
        env: Some(env_vars),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: MEDUSA_PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        resources: Some(resources(&process.size)),
        startup_probe: Some(http_probe("/health", "http", Timing::STARTUP)),
        readiness_probe: Some(http_probe("/health", "http", Timing::READINESS)),
        liveness_probe: Some(tcp_probe("http", Timing::LIVENESS)),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    Deployment {
        metadata: store.metadata(process.name, process.component),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            strategy: Some(DeploymentStrategy {
                type_: Some(process.strategy.to_owned()),
                ..DeploymentStrategy::default()
            }),
            selector: LabelSelector {
                match_labels: Some(labels::component_selector(process.component)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(store.labels(process.component)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(pod_security(
                        release.medusa_uid(),
                        release.medusa_uid(),
                    )),
                    automount_service_account_token: Some(false),
                    // Services named `medusa-server`, `postgres` and `redis` would otherwise
                    // inject MEDUSA_SERVER_*, POSTGRES_* and REDIS_* variables beside ours.
                    enable_service_links: Some(false),
                    volumes: Some(vec![process.uploads, scratch("tmp")]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

pub fn server(store: &StoreContext<'_>, release: &MedusaRelease) -> Deployment {
    process(
        store,
        release,
        Process {
            name: SERVER,
            component: Component::Web,
            mode: "server",
            admin: true,
            size: store.plan().web,
            uploads: claim("uploads", UPLOADS),
            strategy: "Recreate",
        },
    )
}

pub fn worker(store: &StoreContext<'_>, release: &MedusaRelease) -> Deployment {
    let plan = store.plan();
    process(
        store,
        release,
        Process {
            name: WORKER,
            component: Component::Worker,
            mode: "worker",
            admin: false,
            size: plan.worker.unwrap_or(plan.web),
            uploads: scratch("uploads"),
            strategy: "RollingUpdate",
        },
    )
}

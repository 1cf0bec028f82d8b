//! The setup Job: wp-cli installs WordPress and WooCommerce and prepares the shop
//! (`setup.sh`, idempotent), after an init container has laid out WordPress for it
//! (`copy-wordpress.sh`).
//!
//! It mounts the same `ReadWriteOnce` `wp-content` claim as the WordPress pod, so it is
//! scheduled on that pod's node (a `ReadWriteOnce` volume may be used by several pods of
//! one node: <https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes>).
//! It runs as the release's WordPress user (`www-data`, uid 33, unless the catalog says
//! otherwise), the owner of `wp-content`, with no capability and a read-only root
//! filesystem: WordPress is laid out in an emptyDir at `/var/www/html`, and wp-cli's
//! `HOME` and PHP's temporary files are in an emptyDir at `/tmp`.
//!
//! No `ttlSecondsAfterFinished`: the completed Job is how the next reconcile knows setup
//! is done, and a Job's pod template is immutable, so the apply engine replaces rather
//! than patches it if it ever changes.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, PodAffinity, PodAffinityTerm, PodSpec, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::persistent_volume_claim::WORDPRESS_CONTENT;
use super::secret::{ADMIN_PASSWORD, ADMIN_SECRET, ADMIN_USER};
use super::{SETUP, database_env};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::pod::{
    claim, container_security, env, mount, pod_security, resources, scratch, secret_env,
};
use crate::settings::WooCommerceRelease;

const SETUP_SCRIPT: &str = include_str!("setup.sh");
const COPY_SCRIPT: &str = include_str!("copy-wordpress.sh");
/// Retries after a failed attempt (a database still starting, a download that failed).
const BACKOFF_LIMIT: i32 = 4;
/// All attempts together; a setup that takes longer is stuck, and the store fails with it.
const DEADLINE_SECONDS: i64 = 900;

pub fn shell(script: &str) -> Vec<String> {
    vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()]
}

/// A Job whose one container runs `script` with wp-cli against the store's WordPress and
/// database, after an init container has laid WordPress out for it: the setup Job, and
/// the upgrade and password-reset steps.
pub struct WpCliJob<'a> {
    pub name: &'a str,
    /// The label of the Job and its pod (the network policies select on it).
    pub component: Component,
    /// Extra labels of the Job and its pod (an engine step's).
    pub labels: BTreeMap<String, String>,
    pub script: &'a str,
    /// Beside the database's; wp-cli needs a writable `HOME` (the root filesystem is
    /// read-only: `/tmp`).
    pub env: Vec<EnvVar>,
    pub backoff_limit: i32,
    pub deadline_seconds: i64,
}

pub fn setup(store: &StoreContext<'_>, release: &WooCommerceRelease) -> Job {
    let mut env_vars = vec![
        secret_env("WORDPRESS_ADMIN_USER", ADMIN_SECRET, ADMIN_USER),
        secret_env("WORDPRESS_ADMIN_PASSWORD", ADMIN_SECRET, ADMIN_PASSWORD),
        env("WORDPRESS_ADMIN_EMAIL", format!("admin@{}", store.host())),
        env("STORE_URL", store.base_url()),
        env("STORE_TITLE", store.title()),
        // wp-cli keeps its cache under $HOME; the root filesystem is read-only.
        env("HOME", "/tmp"),
    ];
    if !release.woocommerce_baked() {
        env_vars.push(env(
            "WOOCOMMERCE_VERSION",
            release.woocommerce_version.clone(),
        ));
    }
    wp_cli_job(
        store,
        release,
        WpCliJob {
            name: SETUP,
            component: Component::Setup,
            labels: BTreeMap::new(),
            script: SETUP_SCRIPT,
            env: env_vars,
            backoff_limit: BACKOFF_LIMIT,
            deadline_seconds: DEADLINE_SECONDS,
        },
    )
}

pub fn wp_cli_job(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    job: WpCliJob<'_>,
) -> Job {
    let size = resources(&store.plan().setup);
    let mounts = vec![
        mount("wordpress", "/var/www/html"),
        mount("content", "/var/www/html/wp-content"),
        mount("tmp", "/tmp"),
    ];
    let copy = Container {
        name: "copy-wordpress".to_owned(),
        image: Some(release.web().to_owned()),
        command: Some(shell(COPY_SCRIPT)),
        resources: Some(size.clone()),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts.clone()),
        ..Container::default()
    };
    let mut env_vars = database_env();
    env_vars.extend(job.env);
    let wp_cli = Container {
        name: "wp-cli".to_owned(),
        image: Some(release.cli().to_owned()),
        command: Some(shell(job.script)),
        working_dir: Some("/var/www/html".to_owned()),
        env: Some(env_vars),
        resources: Some(size),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let next_to_wordpress = PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(labels::component_selector(Component::Web)),
            ..LabelSelector::default()
        }),
        topology_key: "kubernetes.io/hostname".to_owned(),
        ..PodAffinityTerm::default()
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
                    annotations: Some(BTreeMap::from([(
                        "kubectl.kubernetes.io/default-container".to_owned(),
                        "wp-cli".to_owned(),
                    )])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    init_containers: Some(vec![copy]),
                    containers: vec![wp_cli],
                    security_context: Some(pod_security(
                        release.wordpress_uid(),
                        release.wordpress_uid(),
                    )),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    affinity: Some(Affinity {
                        pod_affinity: Some(PodAffinity {
                            required_during_scheduling_ignored_during_execution: Some(vec![
                                next_to_wordpress,
                            ]),
                            ..PodAffinity::default()
                        }),
                        ..Affinity::default()
                    }),
                    volumes: Some(vec![
                        scratch("wordpress"),
                        claim("content", WORDPRESS_CONTENT),
                        scratch("tmp"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

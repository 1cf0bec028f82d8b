//! WordPress: one Apache pod serving the storefront, `wp-content` on its claim.
//!
//! The official WordPress (Apache) image starts as root, binds port 80, copies WordPress
//! into place and hands requests to `www-data` workers. It therefore keeps a few
//! capabilities that `restricted` Pod Security would refuse (hence the namespace enforces
//! `baseline`): NET_BIND_SERVICE for port 80, SETUID/SETGID to drop to `www-data`, KILL
//! to signal those workers, CHOWN/FOWNER/DAC_OVERRIDE for the entrypoint's copy into
//! `wp-content`. Everything else is dropped.
//!
//! `Recreate`, because a `ReadWriteOnce` claim cannot be mounted by a second pod on
//! another node during a rolling update.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::persistent_volume_claim::WORDPRESS_CONTENT;
use super::secret::{SALTS, SALTS_SECRET};
use super::{WEB_PORT, WORDPRESS, WWW_DATA, database_env};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::pod::{
    Timing, container_security, http_probe, pod_security, resources, secret_env, tcp_probe,
};
use crate::settings::WooCommerceRelease;

const APACHE_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
];

pub fn wordpress(store: &StoreContext<'_>, release: &WooCommerceRelease) -> Deployment {
    let mut env = database_env();
    env.extend(
        SALTS
            .iter()
            .map(|(key, variable)| secret_env(variable, SALTS_SECRET, key)),
    );
    let container = Container {
        name: WORDPRESS.to_owned(),
        image: Some(release.web().to_owned()),
        env: Some(env),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: WEB_PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        resources: Some(resources(&store.plan().web)),
        startup_probe: Some(tcp_probe("http", Timing::STARTUP)),
        // Runs PHP and reaches the database; before installation it answers with a
        // redirect to the installer, which counts as ready.
        readiness_probe: Some(http_probe("/wp-login.php", "http", Timing::READINESS)),
        // Only whether Apache answers: a database outage must not restart the web pod.
        liveness_probe: Some(tcp_probe("http", Timing::LIVENESS)),
        security_context: Some(container_security(APACHE_CAPABILITIES, false)),
        volume_mounts: Some(vec![VolumeMount {
            name: "content".to_owned(),
            mount_path: "/var/www/html/wp-content".to_owned(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    Deployment {
        metadata: store.metadata(WORDPRESS, Component::Web),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".to_owned()),
                ..DeploymentStrategy::default()
            }),
            selector: LabelSelector {
                match_labels: Some(labels::component_selector(Component::Web)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(store.labels(Component::Web)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(pod_security(None, WWW_DATA)),
                    automount_service_account_token: Some(false),
                    // A Service named `wordpress` would otherwise inject WORDPRESS_* variables
                    // next to the ones the image reads:
                    // <https://kubernetes.io/docs/tutorials/services/connect-applications-service/#environment-variables>.
                    enable_service_links: Some(false),
                    volumes: Some(vec![Volume {
                        name: "content".to_owned(),
                        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                            claim_name: WORDPRESS_CONTENT.to_owned(),
                            read_only: Some(false),
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

//! WordPress: one Apache pod serving the storefront, `wp-content` on its claim.
//!
//! The official WordPress (Apache) image would start as root: to bind port 80, to copy
//! WordPress into `/var/www/html` owned by `www-data`, and to let Apache drop to
//! `www-data` for its workers. Here it starts as the release's WordPress user (`www-data`)
//! with no capability, which `restricted` Pod Security requires and its entrypoint
//! supports: not root, it copies WordPress as the current user and skips its chowns
//! (<https://github.com/docker-library/wordpress/blob/master/docker-entrypoint.sh>), and
//! Apache, not root, keeps running as that user instead of switching.
//!
//! Port 80 without root: the namespaced sysctl `net.ipv4.ip_unprivileged_port_start`
//! set to 80 for this pod's network namespace only, rather than moving Apache to 8080.
//! It is a "safe" sysctl every kubelet allows since Kubernetes 1.22 and every Pod
//! Security level admits, and it needs no change to the image: the official image and
//! `images/wordpress-woo` both keep their `Listen 80`, and the Service, the probes and
//! the network policies keep port 80. Moving the port would mean overriding Apache's
//! `ports.conf` and the site's `<VirtualHost *:80>` inside the official image, which is
//! not ours to edit (<https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/#safe-and-unsafe-sysctls>).
//!
//! The root filesystem is read-only; what the pod writes is on volumes: WordPress's code
//! in an emptyDir at `/var/www/html` (copied from the image by the entrypoint on every
//! start, so core files are never changed in place), `wp-content` on its claim, Apache's
//! pid file and mutexes in emptyDirs at `APACHE_RUN_DIR` and `APACHE_LOCK_DIR`, and PHP's
//! uploads and sessions in an emptyDir at `/tmp`. Apache's logs are links to the
//! container's stdout and stderr.
//!
//! `Recreate`, because a `ReadWriteOnce` claim cannot be mounted by a second pod on
//! another node during a rolling update.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSecurityContext, PodSpec, PodTemplateSpec, Sysctl,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::persistent_volume_claim::WORDPRESS_CONTENT;
use super::secret::{SALTS, SALTS_SECRET};
use super::{WEB_PORT, WORDPRESS, database_env};
use crate::engine::StoreContext;
use crate::labels::{self, Component};
use crate::pod::{
    Timing, claim, container_security, http_probe, mount, pod_security, resources, scratch,
    secret_env, tcp_probe,
};
use crate::settings::WooCommerceRelease;

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
        security_context: Some(container_security()),
        volume_mounts: Some(vec![
            mount("wordpress", "/var/www/html"),
            mount("content", "/var/www/html/wp-content"),
            // The official images' APACHE_RUN_DIR and APACHE_LOCK_DIR.
            mount("apache-run", "/var/run/apache2"),
            mount("apache-lock", "/var/lock/apache2"),
            mount("tmp", "/tmp"),
        ]),
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
                    security_context: Some(PodSecurityContext {
                        sysctls: Some(vec![Sysctl {
                            name: "net.ipv4.ip_unprivileged_port_start".to_owned(),
                            value: WEB_PORT.to_string(),
                        }]),
                        ..pod_security(release.wordpress_uid(), release.wordpress_uid())
                    }),
                    automount_service_account_token: Some(false),
                    // A Service named `wordpress` would otherwise inject WORDPRESS_* variables
                    // next to the ones the image reads:
                    // <https://kubernetes.io/docs/tutorials/services/connect-applications-service/#environment-variables>.
                    enable_service_links: Some(false),
                    volumes: Some(vec![
                        scratch("wordpress"),
                        claim("content", WORDPRESS_CONTENT),
                        scratch("apache-run"),
                        scratch("apache-lock"),
                        scratch("tmp"),
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

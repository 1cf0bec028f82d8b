//! The maintenance page a store shows while a backup is restored into it: a small nginx
//! that answers every request with `503 Service Unavailable`, `Retry-After` and a page
//! saying the shop is back in a few minutes, instead of the errors a half-restored shop
//! would give. Its pods carry the web component's labels, so the store's web Service, the
//! front door and the network policies reach them as they reach the web pods (which are
//! scaled to nothing meanwhile), on the same port number.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSecurityContext, PodSpec, PodTemplateSpec, Sysctl,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::parts::{step_labels, step_metadata};
use crate::pod::{
    Timing, container_security, env, http_probe, mount, pod_security, resources, scratch,
};
use crate::{ReadinessCheck, ReadinessKind, Resource};

/// The Deployment's and ConfigMap's name, and the step label of their objects.
pub const NAME: &str = "maintenance-page";
/// nginx-unprivileged runs as this user.
const NGINX_UID: i64 = 101;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// nginx's whole configuration (its temporary files and pid in /tmp, the only writable
/// place) for web pods that listen on `port`: every request answered 503 with the page.
fn nginx_conf(port: i32) -> String {
    format!(
        "pid /tmp/nginx.pid;\nerror_log stderr warn;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path /tmp/body;\n  \
         proxy_temp_path /tmp/proxy;\n  fastcgi_temp_path /tmp/fastcgi;\n  \
         uwsgi_temp_path /tmp/uwsgi;\n  scgi_temp_path /tmp/scgi;\n  \
         server {{\n    listen {port};\n    root /tmp/page;\n    \
         location = /maintenance-health {{ return 204; }}\n    \
         location / {{ return 503; }}\n    \
         error_page 503 /index.html;\n    \
         location = /index.html {{\n      internal;\n      default_type text/html;\n      \
         add_header Retry-After 120 always;\n      add_header Cache-Control no-store always;\n    }}\n  }}\n}}\n"
    )
}

/// The page, with the shop's title.
fn page(store: &StoreContext<'_>) -> String {
    let title = escape(store.title());
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}: back in a few minutes</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 20vh auto; padding: 0 1rem\">\
         <h1>{title} is down for maintenance</h1>\
         <p>The shop is being restored and will be back in a few minutes. Please try again shortly.</p>\
         </body></html>\n"
    )
}

/// Writes the configuration and the page from the environment into /tmp, then runs nginx
/// in the foreground (no ConfigMap: the step brings one object).
const START: &str = "mkdir -p /tmp/page && printf '%s' \"$NGINX_CONF\" >/tmp/nginx.conf \
     && printf '%s' \"$PAGE\" >/tmp/page/index.html \
     && exec nginx -c /tmp/nginx.conf -g 'daemon off;'";

fn deployment(store: &StoreContext<'_>, port: (&str, i32)) -> Deployment {
    let mut labels = store.labels(Component::Web);
    labels.extend(step_labels(NAME));
    let container = Container {
        name: "nginx".to_owned(),
        image: Some(store.settings.backups.maintenance_image.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            START.to_owned(),
        ]),
        env: Some(vec![
            env("NGINX_CONF", nginx_conf(port.1)),
            env("PAGE", page(store)),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some(port.0.to_owned()),
            container_port: port.1,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        resources: Some(resources(&store.plan().setup)),
        security_context: Some(container_security()),
        readiness_probe: Some(http_probe("/maintenance-health", port.0, Timing::READINESS)),
        liveness_probe: Some(http_probe("/maintenance-health", port.0, Timing::LIVENESS)),
        volume_mounts: Some(vec![mount("tmp", "/tmp")]),
        ..Container::default()
    };
    Deployment {
        metadata: step_metadata(store, NAME, Component::Web, NAME),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(PodSecurityContext {
                        // The web pods' port, below 1024 for WordPress, without root.
                        sysctls: Some(vec![Sysctl {
                            name: "net.ipv4.ip_unprivileged_port_start".to_owned(),
                            value: port.1.min(1024).to_string(),
                        }]),
                        ..pod_security(NGINX_UID, NGINX_UID)
                    }),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![scratch("tmp")]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The maintenance page's Deployment, for a store whose web Service port is `port` (its
/// name and number).
pub fn maintenance_page(store: &StoreContext<'_>, port: (&str, i32)) -> Resource {
    Resource::from(deployment(store, port))
}

/// What to wait for before the store's web pods go: the page serving.
pub fn readiness() -> ReadinessCheck {
    ReadinessCheck {
        kind: ReadinessKind::Deployment,
        name: NAME.to_owned(),
    }
}

//! The store's Services, both internal: MariaDB's headless Service (the StatefulSet's
//! governing Service, giving `mariadb-0.mariadb` a stable name) and WordPress's
//! ClusterIP Service behind the Ingress. Never NodePort or LoadBalancer: the quota
//! forbids those too.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{DB_PORT, MARIADB, WEB_PORT, WORDPRESS};
use crate::engine::StoreContext;
use crate::labels::{self, Component};

fn service(
    store: &StoreContext<'_>,
    name: &str,
    component: Component,
    port: (&str, i32),
    headless: bool,
) -> Service {
    Service {
        metadata: store.metadata(name, component),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(labels::component_selector(component)),
            ports: Some(vec![ServicePort {
                name: Some(port.0.to_owned()),
                port: port.1,
                target_port: Some(IntOrString::String(port.0.to_owned())),
                protocol: Some("TCP".to_owned()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

pub fn mariadb(store: &StoreContext<'_>) -> Service {
    service(
        store,
        MARIADB,
        Component::Database,
        ("mysql", DB_PORT),
        true,
    )
}

pub fn wordpress(store: &StoreContext<'_>) -> Service {
    service(store, WORDPRESS, Component::Web, ("http", WEB_PORT), false)
}

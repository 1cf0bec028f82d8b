//! A store's Services are all internal: ClusterIP (headless for a StatefulSet's governing
//! Service, giving `<name>-0.<name>` a stable name). Never NodePort or LoadBalancer: the
//! quota forbids those too.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::engine::StoreContext;
use crate::labels::{self, Component};

/// A Service `name` selecting the pods of `component`, with one TCP port `(name,
/// number)` targeting the container port of that name.
pub fn service(
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

//! The storefront's HTTPRoute: `<name>.<base domain>` through the platform Gateway (Gateway
//! API), to the WordPress Service. TLS, when on, ends at the Gateway's HTTPS listener,
//! whose own certificate serves every store, so the route carries none.

use super::{WEB_PORT, WORDPRESS};
use crate::engine::StoreContext;
use crate::http_route::{
    HTTPBackendRef, HTTPPathMatch, HTTPRoute, HTTPRouteMatch, HTTPRouteRule, HTTPRouteSpec,
    ParentReference,
};
use crate::labels::Component;

pub const NAME: &str = "storefront";

pub fn storefront(store: &StoreContext<'_>) -> HTTPRoute {
    let gateway = &store.settings.gateway;
    HTTPRoute {
        metadata: store.metadata(NAME, Component::Ingress),
        spec: HTTPRouteSpec {
            parent_refs: vec![ParentReference {
                group: Some("gateway.networking.k8s.io".to_owned()),
                kind: Some("Gateway".to_owned()),
                namespace: Some(gateway.namespace.clone()),
                name: gateway.name.clone(),
                section_name: gateway.listener.clone(),
            }],
            hostnames: vec![store.host()],
            rules: vec![HTTPRouteRule {
                matches: vec![HTTPRouteMatch {
                    path: Some(HTTPPathMatch {
                        type_: "PathPrefix".to_owned(),
                        value: "/".to_owned(),
                    }),
                }],
                backend_refs: vec![HTTPBackendRef {
                    name: WORDPRESS.to_owned(),
                    port: WEB_PORT,
                }],
            }],
        },
    }
}

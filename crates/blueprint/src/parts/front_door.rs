//! The store's front door, `<name>.<base domain>` to its web Service, in the form the
//! platform chose:
//!
//! - an HTTPRoute on the platform Gateway (Gateway API). TLS, when on, ends at the
//!   Gateway's HTTPS listener, whose own certificate serves every store, so the route
//!   carries none;
//! - an Ingress of the platform's ingress class, with TLS when enabled and a certificate
//!   from cert-manager when an issuer is set (<https://cert-manager.io/docs/usage/ingress/>).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use crate::Resource;
use crate::engine::StoreContext;
use crate::http_route::{
    HTTPBackendRef, HTTPPathMatch, HTTPRoute, HTTPRouteMatch, HTTPRouteRule, HTTPRouteSpec,
    ParentReference,
};
use crate::labels::Component;
use crate::settings::FrontDoor;

/// The front door's name, whichever kind it is.
const FRONT_DOOR: &str = "storefront";
const TLS_SECRET: &str = "storefront-tls";

/// The front door to Service `service`, whose port `port` is named `http`.
pub fn front_door(store: &StoreContext<'_>, service: &str, port: i32) -> Resource {
    match store.settings.front_door {
        FrontDoor::Gateway => route(store, service, port).into(),
        FrontDoor::Ingress => ingress(store, service).into(),
    }
}

fn route(store: &StoreContext<'_>, service: &str, port: i32) -> HTTPRoute {
    let gateway = &store.settings.gateway;
    HTTPRoute {
        metadata: store.metadata(FRONT_DOOR, Component::Ingress),
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
                    name: service.to_owned(),
                    port,
                }],
            }],
        },
    }
}

fn ingress(store: &StoreContext<'_>, service: &str) -> Ingress {
    let settings = store.settings;
    let host = store.host();
    let mut metadata = store.metadata(FRONT_DOOR, Component::Ingress);
    if let Some(issuer) = &settings.cluster_issuer {
        metadata.annotations = Some(BTreeMap::from([(
            "cert-manager.io/cluster-issuer".to_owned(),
            issuer.clone(),
        )]));
    }
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: service.to_owned(),
            port: Some(ServiceBackendPort {
                name: Some("http".to_owned()),
                ..ServiceBackendPort::default()
            }),
        }),
        ..IngressBackend::default()
    };
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(settings.ingress_class.clone()),
            tls: settings.tls.then(|| {
                vec![IngressTLS {
                    hosts: Some(vec![host.clone()]),
                    secret_name: Some(TLS_SECRET.to_owned()),
                }]
            }),
            rules: Some(vec![IngressRule {
                host: Some(host),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_owned()),
                        path_type: "Prefix".to_owned(),
                        backend,
                    }],
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

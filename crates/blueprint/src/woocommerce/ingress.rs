//! The storefront's Ingress: `<name>.<base domain>` through the platform's ingress class,
//! with TLS when enabled and a certificate from cert-manager when an issuer is set
//! (<https://cert-manager.io/docs/usage/ingress/>).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::WORDPRESS;
use crate::engine::StoreContext;
use crate::labels::Component;

pub const NAME: &str = "storefront";
const TLS_SECRET: &str = "storefront-tls";

pub fn storefront(store: &StoreContext<'_>) -> Ingress {
    let settings = store.settings;
    let host = store.host();
    let mut metadata = store.metadata(NAME, Component::Ingress);
    if let Some(issuer) = &settings.cluster_issuer {
        metadata.annotations = Some(BTreeMap::from([(
            "cert-manager.io/cluster-issuer".to_owned(),
            issuer.clone(),
        )]));
    }
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: WORDPRESS.to_owned(),
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

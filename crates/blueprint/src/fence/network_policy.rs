//! The network policies every store gets: deny all traffic to and from every pod, then
//! allow DNS lookups against kube-dns only, and, with a cert-manager issuer, the ingress
//! controller to cert-manager's HTTP-01 solver. Engines add their own allow rules with the
//! peer helpers here, which only ever name pods of the same namespace or one namespace by
//! its `kubernetes.io/metadata.name` label (set by Kubernetes itself, so a store cannot
//! forge it: <https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name>).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::engine::StoreContext;
use crate::labels::{self, Component};

pub const DEFAULT_DENY: &str = "default-deny";
pub const DNS: &str = "allow-dns";
pub const HTTP01_SOLVER: &str = "allow-acme-http01-solver";
/// The label cert-manager puts on its HTTP-01 solver pods, and the port they listen on
/// (<https://cert-manager.io/docs/configuration/acme/http01/>).
const SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";
const SOLVER_PORT: i32 = 8089;

/// Selects every pod of the namespace, those created later included.
fn all_pods() -> LabelSelector {
    LabelSelector::default()
}

/// Denies all ingress and egress of every pod in the store; every allowed flow is a
/// separate policy (policies are additive:
/// <https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-and-all-egress-traffic>).
pub fn default_deny(store: &StoreContext<'_>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: store.metadata(DEFAULT_DENY, Component::Isolation),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(all_pods()),
            policy_types: Some(vec!["Ingress".to_owned(), "Egress".to_owned()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// Lets every pod resolve names, through kube-dns in kube-system and nowhere else.
pub fn allow_dns(store: &StoreContext<'_>) -> NetworkPolicy {
    let kube_dns = NetworkPolicyPeer {
        namespace_selector: namespace_peer("kube-system").namespace_selector,
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "k8s-app".to_owned(),
                "kube-dns".to_owned(),
            )])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    };
    NetworkPolicy {
        metadata: store.metadata(DNS, Component::Isolation),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(all_pods()),
            policy_types: Some(vec!["Egress".to_owned()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![kube_dns]),
                ports: Some(vec![port("UDP", 53), port("TCP", 53)]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// With a cert-manager issuer, lets the ingress controller reach the HTTP-01 solver pod
/// that cert-manager starts in the store's namespace for each challenge, on its port only;
/// without this the default deny keeps every challenge pending. `None` without an issuer.
/// The issuer is only allowed with `front_door: ingress` (validated), so the ingress
/// controller's namespace is the only one admitted.
pub fn allow_http01_solver(store: &StoreContext<'_>) -> Option<NetworkPolicy> {
    store.settings.cluster_issuer.as_ref()?;
    let solver = LabelSelector {
        match_labels: Some(BTreeMap::from([(
            SOLVER_LABEL.to_owned(),
            "true".to_owned(),
        )])),
        ..LabelSelector::default()
    };
    Some(NetworkPolicy {
        metadata: store.metadata(HTTP01_SOLVER, Component::Isolation),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(solver),
            policy_types: Some(vec!["Ingress".to_owned()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![namespace_peer(&store.settings.ingress_namespace)]),
                ports: Some(vec![port("TCP", SOLVER_PORT)]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    })
}

/// The pods of `component` in the policy's own namespace.
pub fn pod_peer(component: Component) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(labels::component_selector(component)),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// Every pod of the namespace called `name`.
pub fn namespace_peer(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_owned(),
                name.to_owned(),
            )])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// Public addresses only: private, shared, link-local (cloud metadata) and loopback ranges
/// are excluded, which also keeps out every pod and node of the cluster.
pub fn internet_peer() -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: "0.0.0.0/0".to_owned(),
            except: Some(
                [
                    "10.0.0.0/8",
                    "100.64.0.0/10",
                    "127.0.0.0/8",
                    "169.254.0.0/16",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                ]
                .map(str::to_owned)
                .to_vec(),
            ),
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// A port of `protocol` (`TCP` or `UDP`).
pub fn port(protocol: &str, number: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.to_owned()),
        port: Some(IntOrString::Int(number)),
        ..NetworkPolicyPort::default()
    }
}

//! An engine's allow rules, on top of the store's default deny and DNS policies. A flow
//! between two pods of the store needs both an egress rule on one side and an ingress
//! rule on the other, since both directions are denied by default.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::engine::StoreContext;
use crate::fence::port;
use crate::labels::{self, Component};

/// A policy `name` for the pods of `pods`: these ingress and egress rules, and only the
/// directions that have rules.
pub fn allow(
    store: &StoreContext<'_>,
    name: &str,
    pods: Component,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    let mut types = Vec::new();
    if !ingress.is_empty() {
        types.push("Ingress".to_owned());
    }
    if !egress.is_empty() {
        types.push("Egress".to_owned());
    }
    NetworkPolicy {
        metadata: store.metadata(name, Component::Isolation),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(labels::component_selector(pods)),
                ..LabelSelector::default()
            }),
            policy_types: Some(types),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

/// Admits `peers` on TCP `tcp_port`.
pub fn from(peers: Vec<NetworkPolicyPeer>, tcp_port: i32) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule {
        from: Some(peers),
        ports: Some(vec![port("TCP", tcp_port)]),
    }
}

/// Lets the pods reach `peers` on TCP `tcp_ports`.
pub fn to(peers: Vec<NetworkPolicyPeer>, tcp_ports: &[i32]) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(peers),
        ports: Some(tcp_ports.iter().map(|p| port("TCP", *p)).collect()),
    }
}

//! The store's ResourceQuota: its share of the cluster, by plan. It also forbids
//! NodePort and LoadBalancer Services, so a store can only be reached through the
//! platform's ingress.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::engine::StoreContext;
use crate::labels::Component;

pub const NAME: &str = "store-quota";

pub fn resource_quota(store: &StoreContext<'_>) -> ResourceQuota {
    let quota = &store.plan().quota;
    let count = |n: u32| Quantity(n.to_string());
    let hard = BTreeMap::from([
        ("requests.cpu".to_owned(), quota.requests.cpu.quantity()),
        (
            "requests.memory".to_owned(),
            quota.requests.memory.quantity(),
        ),
        ("limits.cpu".to_owned(), quota.limits.cpu.quantity()),
        ("limits.memory".to_owned(), quota.limits.memory.quantity()),
        ("pods".to_owned(), count(quota.pods)),
        (
            "persistentvolumeclaims".to_owned(),
            count(quota.persistent_volume_claims),
        ),
        ("requests.storage".to_owned(), quota.storage.quantity()),
        ("services.nodeports".to_owned(), count(0)),
        ("services.loadbalancers".to_owned(), count(0)),
    ]);
    ResourceQuota {
        metadata: store.metadata(NAME, Component::Isolation),
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

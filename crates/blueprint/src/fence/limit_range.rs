//! The store's LimitRange: bounds on any one container, and defaults for a container that
//! states no resources (the quota rejects such a pod otherwise:
//! <https://kubernetes.io/docs/concepts/policy/resource-quotas/#requests-vs-limits>).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{LimitRange, LimitRangeItem, LimitRangeSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::plan_size::Compute;

pub const NAME: &str = "container-limits";

fn quantities(compute: &Compute) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), compute.cpu.quantity()),
        ("memory".to_owned(), compute.memory.quantity()),
    ])
}

pub fn limit_range(store: &StoreContext<'_>) -> LimitRange {
    let range = &store.plan().container;
    LimitRange {
        metadata: store.metadata(NAME, Component::Isolation),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_owned(),
                min: Some(quantities(&range.min)),
                max: Some(quantities(&range.max)),
                default_request: Some(quantities(&range.default_request)),
                default: Some(quantities(&range.default_limit)),
                ..LimitRangeItem::default()
            }],
        }),
    }
}

//! The engine-independent objects that fence a store in: its namespace, quota, limit
//! range, and the network policies every store gets whatever it runs.

mod limit_range;
mod namespace;
mod network_policy;
mod resource_quota;

pub use limit_range::limit_range;
pub use namespace::namespace;
pub use network_policy::{
    allow_dns, allow_http01_solver, default_deny, internet_peer, namespace_peer, pod_peer, port,
};
pub use resource_quota::resource_quota;

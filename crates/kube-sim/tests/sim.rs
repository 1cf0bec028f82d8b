//! kube-sim driven the way storeplane drives a cluster: through kube-rs with typed
//! k8s-openapi objects, and through the real kubectl. Every test starts its own simulator
//! on a free port.

#[path = "sim/fixtures.rs"]
mod fixtures;

#[path = "sim/controllers.rs"]
mod controllers;
#[path = "sim/crud.rs"]
mod crud;
#[path = "sim/defaults.rs"]
mod defaults;
#[path = "sim/dry_run.rs"]
mod dry_run;
#[path = "sim/errors.rs"]
mod errors;
#[path = "sim/faults.rs"]
mod faults;
#[path = "sim/gateway_api.rs"]
mod gateway_api;
#[path = "sim/immutable.rs"]
mod immutable;
#[path = "sim/kubectl.rs"]
mod kubectl;
#[path = "sim/limit_range.rs"]
mod limit_range;
#[path = "sim/namespaces.rs"]
mod namespaces;
#[path = "sim/patch.rs"]
mod patch;
#[path = "sim/pod_security.rs"]
mod pod_security;
#[path = "sim/quota.rs"]
mod quota;
#[path = "sim/rbac.rs"]
mod rbac;
#[path = "sim/validation.rs"]
mod validation;
#[path = "sim/watch.rs"]
mod watch;

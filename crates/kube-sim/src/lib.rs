//! kube-sim: a simulated Kubernetes API server — a test double, not a cluster.
//!
//! It keeps objects in memory and speaks enough of the Kubernetes API (discovery, CRUD,
//! selectors, watches, server-side apply, status subresources, namespace termination)
//! for kube-rs and kubectl to work against it unchanged. Small simulated controllers make
//! Deployments, StatefulSets, Jobs and PVCs progress, and faults can be injected at start
//! or at runtime. Requests carrying a ServiceAccount token (from the TokenRequest
//! subresource) are authorized by RBAC; requests without credentials are its admin.
//! Start one in-process with [`SimHandle::start`], or embed [`SimArgs`] and call [`run`]
//! from a binary.

mod admission;
mod api;
mod auth;
mod config;
mod controllers;
mod defaults;
mod error;
mod faults;
mod fields;
mod kinds;
mod kubeconfig;
mod limit_range;
mod managed;
mod patch;
pub mod pod_security;
mod programs;
mod quantity;
mod quota;
mod random;
mod route;
mod selector;
mod server;
mod store;
mod validation;

pub use config::{SimArgs, SimConfig};
pub use faults::{ErrorRule, FaultControl, Faults, Verb};
pub use kubeconfig::{CONTEXT, kubeconfig_yaml};
pub use programs::{Programs, TerminationMessage};
pub use server::{SimError, SimHandle, TEST_DOUBLE_NOTICE, run, serve};

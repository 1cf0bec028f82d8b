//! Pieces every pod template is made of: resources from a plan, environment from
//! Secrets, probes, and the security settings storeplane applies everywhere.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, EnvVar, EnvVarSource, ExecAction, HTTPGetAction, PodSecurityContext, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::plan_size::{Compute, ContainerSize};

fn quantities(compute: &Compute) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), compute.cpu.quantity()),
        ("memory".to_owned(), compute.memory.quantity()),
    ])
}

/// Requests and limits of a container of `size`.
pub fn resources(size: &ContainerSize) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(quantities(&size.requests)),
        limits: Some(quantities(&size.limits)),
        ..ResourceRequirements::default()
    }
}

/// A plain environment variable.
pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// An environment variable read from `key` of Secret `secret`, so the value never
/// appears in the pod spec or on a command line.
pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        ..SeccompProfile::default()
    }
}

/// Pod-level security: seccomp RuntimeDefault, and for a non-root pod its user, group and
/// the group that owns its volumes. `fsGroupChangePolicy: OnRootMismatch` skips the
/// recursive chown of a large volume on every start:
/// <https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods>.
pub fn pod_security(run_as: Option<i64>, fs_group: i64) -> PodSecurityContext {
    PodSecurityContext {
        seccomp_profile: Some(runtime_default()),
        run_as_non_root: run_as.map(|_| true),
        run_as_user: run_as,
        run_as_group: run_as,
        fs_group: Some(fs_group),
        fs_group_change_policy: Some("OnRootMismatch".to_owned()),
        ..PodSecurityContext::default()
    }
}

/// Container-level security: no privilege escalation, every capability dropped except
/// `add`, seccomp RuntimeDefault; non-root unless `add` is needed by a root process.
pub fn container_security(add: &[&str], read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: (!add.is_empty()).then(|| add.iter().map(|c| (*c).to_owned()).collect()),
        }),
        run_as_non_root: add.is_empty().then_some(true),
        read_only_root_filesystem: Some(read_only_root),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

/// Probe timing: how often, and how many failures in a row fail it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub period: i32,
    pub failures: i32,
    pub timeout: i32,
}

impl Timing {
    /// Startup: generous, so a slow first start (copying files, initialising a database)
    /// is not killed by the liveness probe.
    pub const STARTUP: Self = Self {
        period: 5,
        failures: 60,
        timeout: 5,
    };
    pub const READINESS: Self = Self {
        period: 10,
        failures: 3,
        timeout: 5,
    };
    pub const LIVENESS: Self = Self {
        period: 20,
        failures: 3,
        timeout: 5,
    };

    fn probe(self) -> Probe {
        Probe {
            period_seconds: Some(self.period),
            failure_threshold: Some(self.failures),
            timeout_seconds: Some(self.timeout),
            ..Probe::default()
        }
    }
}

/// Succeeds when `port` accepts a TCP connection.
pub fn tcp_probe(port: &str, timing: Timing) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.to_owned()),
            ..TCPSocketAction::default()
        }),
        ..timing.probe()
    }
}

/// Succeeds on an HTTP status from 200 to 399 for `path` on `port`.
pub fn http_probe(path: &str, port: &str, timing: Timing) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port.to_owned()),
            ..HTTPGetAction::default()
        }),
        ..timing.probe()
    }
}

/// Succeeds when `command` exits 0.
pub fn exec_probe(command: &[&str], timing: Timing) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|c| (*c).to_owned()).collect()),
        }),
        ..timing.probe()
    }
}

//! Pieces every pod template is made of: resources from a plan, environment from
//! Secrets, probes, and the security settings storeplane applies everywhere.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, EmptyDirVolumeSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, Probe, ResourceRequirements,
    SeccompProfile, SecretKeySelector, SecurityContext, TCPSocketAction, Volume, VolumeMount,
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

/// Pod-level security, the same for every pod of a store so that each passes the
/// `restricted` Pod Security level its namespace enforces: seccomp RuntimeDefault, user
/// and group `run_as`, and `fs_group` owning the volumes so that user can write them.
/// `runAsNonRoot` is always set, here and on every container: a release configured to run
/// as root (uid 0) is refused by admission (`runAsUser=0`), and by the kubelet where
/// admission is off.
/// `fsGroupChangePolicy: OnRootMismatch` skips the recursive chown of a large volume on
/// every start:
/// <https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods>.
pub fn pod_security(run_as: i64, fs_group: i64) -> PodSecurityContext {
    PodSecurityContext {
        seccomp_profile: Some(runtime_default()),
        run_as_non_root: Some(true),
        run_as_user: Some(run_as),
        run_as_group: Some(run_as),
        fs_group: Some(fs_group),
        fs_group_change_policy: Some("OnRootMismatch".to_owned()),
        ..PodSecurityContext::default()
    }
}

/// Container-level security, the same for every container: no privilege escalation,
/// every capability dropped, seccomp RuntimeDefault, and a read-only root filesystem
/// (every path a container writes is a volume of its pod, named in its pod's file).
pub fn container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: None,
        }),
        run_as_non_root: Some(true),
        read_only_root_filesystem: Some(true),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

/// A writable scratch directory of a pod, on the node's disk and gone with the pod.
pub fn scratch(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

/// `volume` mounted at `path`.
pub fn mount(volume: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    }
}

/// A pod's volume on the claim `claim`.
pub fn claim(name: &str, claim: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_owned(),
            read_only: Some(false),
        }),
        ..Volume::default()
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

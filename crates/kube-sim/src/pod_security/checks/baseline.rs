//! The baseline checks: what no pod may do, at `baseline` and at `restricted`.
//!
//! Wording, field lists and the version each revision starts at follow upstream's
//! `policy/check_*.go` in kubernetes/pod-security-admission; the links between a check's
//! revisions are the policy versions noted on each entry of [`CHECKS`].

use std::collections::BTreeSet;

use super::super::pod::{
    Container, Pod, containers_phrase, flag, go_quote, join_quote, pluralize, strings, text,
};
use super::{Check, Finding};

/// Sorted by ID (the order violations are reported in).
pub static CHECKS: &[Check] = &[
    baseline("appArmorProfile", &[(0, app_armor_profile)]),
    baseline("capabilities_baseline", &[(0, capabilities)]),
    baseline("hostNamespaces", &[(0, host_namespaces)]),
    baseline("hostPathVolumes", &[(0, host_path_volumes)]),
    baseline("hostPorts", &[(0, host_ports)]),
    baseline("hostProbesAndHostLifecycle", &[(34, probe_hosts)]),
    baseline("privileged", &[(0, privileged)]),
    // 1.35 lets a pod in a user namespace (`hostUsers: false`) use any procMount.
    baseline(
        "procMount_baseline",
        &[(0, proc_mount), (35, proc_mount_1_35)],
    ),
    baseline("seLinuxOptions", &[(0, se_linux_options)]),
    // Before 1.19 seccomp was set through annotations.
    baseline(
        "seccompProfile_baseline",
        &[(0, seccomp_annotations), (19, seccomp_profile)],
    ),
    baseline(
        "sysctls",
        &[
            (0, sysctls_1_0),
            (27, sysctls_1_27),
            (29, sysctls_1_29),
            (32, sysctls_1_32),
        ],
    ),
    baseline("windowsHostProcess", &[(0, windows_host_process)]),
];

const fn baseline(id: &'static str, versions: &'static [(u32, super::CheckFn)]) -> Check {
    Check {
        id,
        versions,
        overrides: &[],
    }
}

/// Names of the containers for which `bad` holds, in visiting order.
fn containers_where(pod: &Pod<'_>, mut bad: impl FnMut(&Container<'_>) -> bool) -> Vec<String> {
    pod.containers()
        .filter(|c| bad(c))
        .map(|c| c.name())
        .collect()
}

/// `pod`, `container "a"` joined by ` and `: who set a forbidden value.
fn setters(pod_bad: bool, containers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if pod_bad {
        out.push("pod".to_string());
    }
    if !containers.is_empty() {
        out.push(containers_phrase(containers));
    }
    out
}

fn app_armor_profile(pod: &Pod<'_>) -> Option<Finding> {
    let allowed_type = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let mut bad_values = BTreeSet::new();
    let mut pod_bad = false;
    if let Some(t) = text(pod.security_context(), "/appArmorProfile/type")
        && !allowed_type(t)
    {
        pod_bad = true;
        bad_values.insert(t.to_string());
    }
    let containers = containers_where(pod, |c| {
        let Some(t) = c.context("/appArmorProfile/type").and_then(|t| t.as_str()) else {
            return false;
        };
        !allowed_type(t)
    });
    for c in pod.containers() {
        if let Some(t) = c.context("/appArmorProfile/type").and_then(|t| t.as_str())
            && !allowed_type(t)
        {
            bad_values.insert(t.to_string());
        }
    }
    let allowed_annotation =
        |v: &str| v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
    let mut annotations: Vec<String> = pod
        .annotations_with_prefix("container.apparmor.security.beta.kubernetes.io/")
        .filter(|(_, v)| !allowed_annotation(v))
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    annotations.sort();
    let mut who = setters(pod_bad, &containers);
    if !annotations.is_empty() {
        who.push(pluralize("annotation", "annotations", annotations.len()).to_string());
    }
    if who.is_empty() {
        return None;
    }
    let values: Vec<String> = bad_values.into_iter().chain(annotations).collect();
    Some(Finding::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            who.join(" and "),
            join_quote(&values)
        ),
    ))
}

/// The capabilities a container runtime grants by default.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities(pod: &Pod<'_>) -> Option<Finding> {
    let mut added = BTreeSet::new();
    let containers = containers_where(pod, |c| {
        let extra: Vec<&str> = strings(c.security_context(), "/capabilities/add")
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(cap))
            .collect();
        added.extend(extra.iter().map(|s| s.to_string()));
        !extra.is_empty()
    });
    (!containers.is_empty()).then(|| {
        Finding::new(
            "non-default capabilities",
            format!(
                "{} must not include {} in securityContext.capabilities.add",
                containers_phrase(&containers),
                join_quote(&added)
            ),
        )
    })
}

fn host_namespaces(pod: &Pod<'_>) -> Option<Finding> {
    // Sorted, as upstream lists them.
    let shared: Vec<&str> = ["hostIPC", "hostNetwork", "hostPID"]
        .into_iter()
        .filter(|field| flag(pod.spec, &format!("/{field}")) == Some(true))
        .collect();
    (!shared.is_empty()).then(|| Finding::new("host namespaces", shared.join(", ")))
}

fn host_path_volumes(pod: &Pod<'_>) -> Option<Finding> {
    let names: Vec<String> = pod
        .volumes()
        .filter(|v| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(|v| text(v, "/name").unwrap_or_default().to_string())
        .collect();
    (!names.is_empty()).then(|| {
        Finding::new(
            "hostPath volumes",
            format!(
                "{} {}",
                pluralize("volume", "volumes", names.len()),
                join_quote(&names)
            ),
        )
    })
}

fn host_ports(pod: &Pod<'_>) -> Option<Finding> {
    let mut ports = BTreeSet::new();
    let containers = containers_where(pod, |c| {
        let used: Vec<i64> =
            c.0.get("ports")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("hostPort").and_then(|h| h.as_i64()))
                .filter(|p| *p != 0)
                .collect();
        ports.extend(used.iter().map(i64::to_string));
        !used.is_empty()
    });
    (!containers.is_empty()).then(|| {
        let ports: Vec<String> = ports.into_iter().collect();
        Finding::new(
            "hostPort",
            format!(
                "{} {} {} {}",
                containers_phrase(&containers),
                pluralize("uses", "use", containers.len()),
                pluralize("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        )
    })
}

fn probe_hosts(pod: &Pod<'_>) -> Option<Finding> {
    let mut containers = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for c in pod.containers() {
        for pointer in [
            "/livenessProbe/httpGet/host",
            "/livenessProbe/tcpSocket/host",
            "/readinessProbe/httpGet/host",
            "/readinessProbe/tcpSocket/host",
            "/startupProbe/httpGet/host",
            "/startupProbe/tcpSocket/host",
            "/lifecycle/postStart/httpGet/host",
            "/lifecycle/postStart/tcpSocket/host",
            "/lifecycle/preStop/httpGet/host",
            "/lifecycle/preStop/tcpSocket/host",
        ] {
            if let Some(host) = text(c.0, pointer).filter(|h| !h.is_empty()) {
                containers.insert(c.name());
                hosts.insert(host.to_string());
            }
        }
    }
    (!containers.is_empty()).then(|| {
        Finding::new(
            "probe or lifecycle host",
            format!(
                "{} {} {} {}",
                pluralize("container", "containers", containers.len()),
                join_quote(&containers),
                pluralize("uses", "use", containers.len()),
                format_args!(
                    "{} {}",
                    pluralize(
                        "probe or lifecycle host",
                        "probe or lifecycle hosts",
                        hosts.len()
                    ),
                    join_quote(&hosts)
                )
            ),
        )
    })
}

fn privileged(pod: &Pod<'_>) -> Option<Finding> {
    let containers = containers_where(pod, |c| {
        flag(c.security_context(), "/privileged") == Some(true)
    });
    (!containers.is_empty()).then(|| {
        Finding::new(
            "privileged",
            format!(
                "{} must not set securityContext.privileged=true",
                containers_phrase(&containers)
            ),
        )
    })
}

/// Any procMount but `Default` is refused (also the restricted rule from 1.35 on).
pub(super) fn proc_mount(pod: &Pod<'_>) -> Option<Finding> {
    let mut types = BTreeSet::new();
    let containers = containers_where(pod, |c| match text(c.security_context(), "/procMount") {
        Some(t) if t != "Default" => {
            types.insert(t.to_string());
            true
        }
        _ => false,
    });
    (!containers.is_empty()).then(|| {
        Finding::new(
            "procMount",
            format!(
                "{} must not set securityContext.procMount to {}",
                containers_phrase(&containers),
                join_quote(&types)
            ),
        )
    })
}

fn proc_mount_1_35(pod: &Pod<'_>) -> Option<Finding> {
    if pod.in_user_namespace() {
        return None;
    }
    proc_mount(pod)
}

fn se_linux_options(pod: &Pod<'_>) -> Option<Finding> {
    let mut bad_types = BTreeSet::new();
    let (mut set_user, mut set_role) = (false, false);
    let mut valid = |options: &serde_json::Value| {
        let mut ok = true;
        let t = text(options, "/type").unwrap_or_default();
        if !matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) {
            ok = false;
            bad_types.insert(t.to_string());
        }
        if !text(options, "/user").unwrap_or_default().is_empty() {
            ok = false;
            set_user = true;
        }
        if !text(options, "/role").unwrap_or_default().is_empty() {
            ok = false;
            set_role = true;
        }
        ok
    };
    let pod_bad = pod
        .security_context()
        .get("seLinuxOptions")
        .filter(|o| o.is_object())
        .is_some_and(|o| !valid(o));
    let mut containers = Vec::new();
    for c in pod.containers() {
        if let Some(options) = c.context("/seLinuxOptions").filter(|o| o.is_object())
            && !valid(options)
        {
            containers.push(c.name());
        }
    }
    let who = setters(pod_bad, &containers);
    if who.is_empty() {
        return None;
    }
    // Upstream only words the user and role findings when a type is also bad.
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
        if set_user {
            data.push("user may not be set".to_string());
        }
        if set_role {
            data.push("role may not be set".to_string());
        }
    }
    Some(Finding::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            who.join(" and "),
            data.join("; ")
        ),
    ))
}

fn seccomp_annotations(pod: &Pod<'_>) -> Option<Finding> {
    let allowed =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut forbidden = BTreeSet::new();
    let pod_key = "seccomp.security.alpha.kubernetes.io/pod";
    if let Some(v) = pod.annotation(pod_key).filter(|v| !allowed(v)) {
        forbidden.insert(format!("{pod_key}={}", go_quote(v)));
    }
    for c in pod.containers() {
        let key = format!(
            "container.seccomp.security.alpha.kubernetes.io/{}",
            c.name()
        );
        if let Some(v) = pod.annotation(&key).filter(|v| !allowed(v)) {
            forbidden.insert(format!("{key}={}", go_quote(v)));
        }
    }
    (!forbidden.is_empty()).then(|| {
        let list: Vec<String> = forbidden.into_iter().collect();
        Finding::new(
            "seccompProfile",
            format!(
                "forbidden {} {}",
                pluralize("annotation", "annotations", list.len()),
                list.join(", ")
            ),
        )
    })
}

/// `RuntimeDefault` and `Localhost` are the only seccomp profiles either level allows.
pub(super) fn valid_seccomp(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn seccomp_profile(pod: &Pod<'_>) -> Option<Finding> {
    let mut bad_values = BTreeSet::new();
    let mut pod_bad = false;
    if pod
        .security_context()
        .get("seccompProfile")
        .is_some_and(|p| !p.is_null())
    {
        let t = text(pod.security_context(), "/seccompProfile/type").unwrap_or_default();
        if !valid_seccomp(t) {
            pod_bad = true;
            bad_values.insert(t.to_string());
        }
    }
    let mut containers = Vec::new();
    for c in pod.containers() {
        if c.context("/seccompProfile").is_some() {
            let t = c
                .context("/seccompProfile/type")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            if !valid_seccomp(t) {
                containers.push(c.name());
                bad_values.insert(t.to_string());
            }
        }
    }
    let who = setters(pod_bad, &containers);
    (!who.is_empty()).then(|| {
        Finding::new(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                who.join(" and "),
                join_quote(&bad_values)
            ),
        )
    })
}

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

fn sysctls(pod: &Pod<'_>, allowed: &[&[&str]]) -> Option<Finding> {
    let forbidden: Vec<&str> = pod
        .security_context()
        .get("sysctls")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| text(s, "/name"))
        .filter(|name| !allowed.iter().any(|set| set.contains(name)))
        .collect();
    (!forbidden.is_empty()).then(|| Finding::new("forbidden sysctls", forbidden.join(", ")))
}

fn sysctls_1_0(pod: &Pod<'_>) -> Option<Finding> {
    sysctls(pod, &[SYSCTLS_1_0])
}

fn sysctls_1_27(pod: &Pod<'_>) -> Option<Finding> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27])
}

fn sysctls_1_29(pod: &Pod<'_>) -> Option<Finding> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}

fn sysctls_1_32(pod: &Pod<'_>) -> Option<Finding> {
    sysctls(
        pod,
        &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32],
    )
}

fn windows_host_process(pod: &Pod<'_>) -> Option<Finding> {
    let host_process =
        |context: &serde_json::Value| flag(context, "/windowsOptions/hostProcess") == Some(true);
    let containers = containers_where(pod, |c| host_process(c.security_context()));
    let who = setters(host_process(pod.security_context()), &containers);
    (!who.is_empty()).then(|| {
        Finding::new(
            "hostProcess",
            format!(
                "{} must not set securityContext.windowsOptions.hostProcess=true",
                who.join(" and ")
            ),
        )
    })
}

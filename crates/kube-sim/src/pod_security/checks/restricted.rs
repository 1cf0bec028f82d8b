//! The restricted checks: pod hardening on top of baseline.
//!
//! Wording and versions follow upstream's `policy/check_*.go` in
//! kubernetes/pod-security-admission. From 1.25 on, the privilege-escalation,
//! capabilities and seccomp checks exempt pods that declare `spec.os.name: windows`,
//! where those fields do not exist.

use std::collections::BTreeSet;

use super::super::pod::{Pod, containers_phrase, flag, join_quote, pluralize, strings, text};
use super::baseline::{proc_mount, valid_seccomp};
use super::{Check, CheckFn, Finding};

/// Sorted by ID (the order violations are reported in, after the baseline ones).
pub static CHECKS: &[Check] = &[
    restricted(
        "allowPrivilegeEscalation",
        &[
            (8, allow_privilege_escalation),
            (25, allow_privilege_escalation_1_25),
        ],
        &[],
    ),
    restricted(
        "capabilities_restricted",
        &[(22, capabilities), (25, capabilities_1_25)],
        &["capabilities_baseline"],
    ),
    // Unlike baseline from 1.35, no exception for user namespaces.
    restricted(
        "procMount_restricted",
        &[(35, proc_mount)],
        &["procMount_baseline"],
    ),
    restricted("restrictedVolumes", &[(0, volumes)], &["hostPathVolumes"]),
    restricted("runAsNonRoot", &[(0, run_as_non_root)], &[]),
    restricted("runAsUser", &[(23, run_as_user)], &[]),
    restricted(
        "seccompProfile_restricted",
        &[(19, seccomp_profile), (25, seccomp_profile_1_25)],
        &["seccompProfile_baseline"],
    ),
];

const fn restricted(
    id: &'static str,
    versions: &'static [(u32, CheckFn)],
    overrides: &'static [&'static str],
) -> Check {
    Check {
        id,
        versions,
        overrides,
    }
}

fn allow_privilege_escalation_1_25(pod: &Pod<'_>) -> Option<Finding> {
    (!pod.is_windows())
        .then(|| allow_privilege_escalation(pod))
        .flatten()
}

fn capabilities_1_25(pod: &Pod<'_>) -> Option<Finding> {
    (!pod.is_windows()).then(|| capabilities(pod)).flatten()
}

fn seccomp_profile_1_25(pod: &Pod<'_>) -> Option<Finding> {
    (!pod.is_windows()).then(|| seccomp_profile(pod)).flatten()
}

fn allow_privilege_escalation(pod: &Pod<'_>) -> Option<Finding> {
    let containers: Vec<String> = pod
        .containers()
        .filter(|c| flag(c.security_context(), "/allowPrivilegeEscalation") != Some(false))
        .map(|c| c.name())
        .collect();
    (!containers.is_empty()).then(|| {
        Finding::new(
            "allowPrivilegeEscalation != false",
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                containers_phrase(&containers)
            ),
        )
    })
}

fn capabilities(pod: &Pod<'_>) -> Option<Finding> {
    let mut missing_drop_all = Vec::new();
    let mut adding = Vec::new();
    let mut forbidden = BTreeSet::new();
    for c in pod.containers() {
        let Some(caps) = c.context("/capabilities") else {
            missing_drop_all.push(c.name());
            continue;
        };
        if !strings(caps, "/drop").any(|d| d == "ALL") {
            missing_drop_all.push(c.name());
        }
        let extra: Vec<&str> = strings(caps, "/add")
            .filter(|a| *a != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            adding.push(c.name());
            forbidden.extend(extra.into_iter().map(str::to_string));
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&forbidden)
        ));
    }
    (!details.is_empty()).then(|| Finding::new("unrestricted capabilities", details.join("; ")))
}

/// Volume sources allowed at `restricted` (`image` since upstream's 1.33 release).
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Restricted volume sources, in the order upstream tells them apart.
const RESTRICTED_VOLUMES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn volumes(pod: &Pod<'_>) -> Option<Finding> {
    let present = |volume: &serde_json::Value, field: &str| {
        volume.get(field).is_some_and(|source| !source.is_null())
    };
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    for volume in pod.volumes() {
        // A volume naming no source is defaulted to an emptyDir by the API server.
        let no_source = volume
            .as_object()
            .is_some_and(|v| v.iter().all(|(k, source)| k == "name" || source.is_null()));
        if no_source || ALLOWED_VOLUMES.iter().any(|field| present(volume, field)) {
            continue;
        }
        names.push(text(volume, "/name").unwrap_or_default().to_string());
        let kind = RESTRICTED_VOLUMES
            .iter()
            .find(|field| present(volume, field))
            .copied()
            .unwrap_or("unknown");
        types.insert(kind);
    }
    (!names.is_empty()).then(|| {
        Finding::new(
            "restricted volume types",
            format!(
                "{} {} {} {} {}",
                pluralize("volume", "volumes", names.len()),
                join_quote(&names),
                pluralize("uses", "use", names.len()),
                pluralize(
                    "restricted volume type",
                    "restricted volume types",
                    types.len()
                ),
                join_quote(&types)
            ),
        )
    })
}

fn run_as_non_root(pod: &Pod<'_>) -> Option<Finding> {
    let pod_setting = flag(pod.security_context(), "/runAsNonRoot");
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in pod.containers() {
        match flag(c.security_context(), "/runAsNonRoot") {
            Some(false) => explicitly_bad.push(c.name()),
            Some(true) => {}
            None if pod_setting != Some(true) => implicitly_bad.push(c.name()),
            None => {}
        }
    }
    let mut who = Vec::new();
    if pod_setting == Some(false) {
        who.push("pod".to_string());
    }
    if !explicitly_bad.is_empty() {
        who.push(containers_phrase(&explicitly_bad));
    }
    if !who.is_empty() {
        return Some(Finding::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                who.join(" and ")
            ),
        ));
    }
    (!implicitly_bad.is_empty()).then(|| {
        Finding::new(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
        )
    })
}

fn run_as_user(pod: &Pod<'_>) -> Option<Finding> {
    let root = |context: &serde_json::Value| {
        context.get("runAsUser").and_then(serde_json::Value::as_i64) == Some(0)
    };
    let mut who = Vec::new();
    if root(pod.security_context()) {
        who.push("pod".to_string());
    }
    let containers: Vec<String> = pod
        .containers()
        .filter(|c| root(c.security_context()))
        .map(|c| c.name())
        .collect();
    if !containers.is_empty() {
        who.push(containers_phrase(&containers));
    }
    (!who.is_empty()).then(|| {
        Finding::new(
            "runAsUser=0",
            format!("{} must not set runAsUser=0", who.join(" and ")),
        )
    })
}

fn seccomp_profile(pod: &Pod<'_>) -> Option<Finding> {
    let mut bad_values = BTreeSet::new();
    let mut who = Vec::new();
    let mut pod_set = false;
    if pod
        .security_context()
        .get("seccompProfile")
        .is_some_and(|p| !p.is_null())
    {
        let t = text(pod.security_context(), "/seccompProfile/type").unwrap_or_default();
        if valid_seccomp(t) {
            pod_set = true;
        } else {
            who.push("pod".to_string());
            bad_values.insert(t.to_string());
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in pod.containers() {
        if c.context("/seccompProfile").is_some() {
            let t = c
                .context("/seccompProfile/type")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            if !valid_seccomp(t) {
                explicitly_bad.push(c.name());
                bad_values.insert(t.to_string());
            }
        } else if !pod_set {
            implicitly_bad.push(c.name());
        }
    }
    if !explicitly_bad.is_empty() {
        who.push(containers_phrase(&explicitly_bad));
    }
    if !who.is_empty() {
        return Some(Finding::new(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                who.join(" and "),
                join_quote(&bad_values)
            ),
        ));
    }
    (!implicitly_bad.is_empty()).then(|| {
        Finding::new(
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" \
                 or \"Localhost\"",
                containers_phrase(&implicitly_bad)
            ),
        )
    })
}

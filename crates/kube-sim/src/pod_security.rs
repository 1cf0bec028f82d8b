//! The Pod Security Standards, evaluated as Kubernetes' Pod Security admission does.
//!
//! A pure function of a pod's metadata and spec (a Pod's own, or a workload's pod
//! template) and a [`LevelVersion`]: every violated check, worded as upstream words it,
//! in upstream's order. kube-sim enforces it on Pods and warns with it on workloads; other
//! crates' tests can call it to prove their manifests pass a level:
//!
//! ```
//! use kube_sim::pod_security::{self, Level, LevelVersion};
//! use serde_json::json;
//!
//! let pod = json!({
//!     "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
//!     "spec": {"containers": [{"name": "c", "image": "nginx"}]},
//! });
//! let violations = pod_security::evaluate_object(LevelVersion::latest(Level::Restricted), &pod)
//!     .expect("a Pod has a pod spec");
//! assert!(violations.to_string().starts_with(
//!     "allowPrivilegeEscalation != false (container \"c\" must set \
//!      securityContext.allowPrivilegeEscalation=false)"
//! ));
//! assert!(pod_security::evaluate_object(LevelVersion::latest(Level::Baseline), &pod)
//!     .expect("a Pod has a pod spec")
//!     .is_empty());
//! ```
//!
//! The checks, their wording and the version each applies from are learnt from
//! kubernetes/pod-security-admission (`policy/check_*.go`), for policy versions up to
//! v1.35 ([`NEWEST_KNOWN_MINOR`]); `latest` and newer versions evaluate as v1.35. The
//! optional relaxations an administrator can switch on upstream (user-namespace pods
//! under `runAsNonRoot`/`runAsUser`) are off, as they are by default.

mod checks;
mod level;
mod pod;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

pub use level::{
    AUDIT_LABEL, AUDIT_VERSION_LABEL, ENFORCE_LABEL, ENFORCE_VERSION_LABEL, LabelError, Level,
    LevelVersion, NEWEST_KNOWN_MINOR, ParseError, Policy, Version, WARN_LABEL, WARN_VERSION_LABEL,
};

/// One violated check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Upstream's check ID, e.g. `runAsNonRoot` or `capabilities_restricted`.
    pub check: &'static str,
    /// The short reason, e.g. `runAsNonRoot != true`.
    pub reason: String,
    /// What is wrong and what to set, e.g. `pod or container "c" must set
    /// securityContext.runAsNonRoot=true`.
    pub detail: String,
}

/// Every violated check of one evaluation, in upstream's order (empty: the pod passes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Whether the pod passes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// The reasons only, comma-separated (how upstream summarises existing pods when a
    /// namespace's level changes).
    pub fn reasons(&self) -> String {
        let reasons: Vec<&str> = self.0.iter().map(|v| v.reason.as_str()).collect();
        reasons.join(", ")
    }
}

impl fmt::Display for Violations {
    /// `reason (detail), reason (detail)`: the text after `violates PodSecurity "...": `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&v.reason)?;
            if !v.detail.is_empty() {
                write!(f, " ({})", v.detail)?;
            }
        }
        Ok(())
    }
}

/// Evaluates a pod's `metadata` and `spec` at `policy`. Missing fields read as unset.
pub fn evaluate(policy: LevelVersion, metadata: &Value, spec: &Value) -> Violations {
    let pod = pod::Pod::new(metadata, spec);
    Violations(
        checks::run(policy, &pod)
            .into_iter()
            .map(|(check, finding)| Violation {
                check,
                reason: finding.reason,
                detail: finding.detail,
            })
            .collect(),
    )
}

/// The pod template (`metadata`, `spec`) of a Pod or of any kind upstream's admission
/// looks into: Pod itself, PodTemplate, ReplicationController, ReplicaSet, Deployment,
/// StatefulSet, DaemonSet, Job and CronJob, told apart by `kind`. `None` for other kinds
/// and for a workload with no template.
pub fn pod_template_of(object: &Value) -> Option<(&Value, &Value)> {
    static EMPTY: Value = Value::Null;
    let template = match object.get("kind")?.as_str()? {
        "Pod" => object,
        "PodTemplate" => object.get("template")?,
        "ReplicationController"
        | "ReplicaSet"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "Job" => object.pointer("/spec/template")?,
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template")?,
        _ => return None,
    };
    Some((
        template.get("metadata").unwrap_or(&EMPTY),
        template.get("spec").unwrap_or(&EMPTY),
    ))
}

/// Evaluates a Pod, or the pod template of a workload (see [`pod_template_of`]), given as
/// JSON with its `kind`. `None` when the object has no pod spec to evaluate.
pub fn evaluate_object(policy: LevelVersion, object: &Value) -> Option<Violations> {
    let (metadata, spec) = pod_template_of(object)?;
    Some(evaluate(policy, metadata, spec))
}

/// Evaluates a typed object (a k8s-openapi `Pod`, `Deployment`, `StatefulSet`, `Job`,
/// ...), which serializes with its `kind`. `None` when it has no pod spec, or does not
/// serialize to JSON.
pub fn evaluate_resource<K: Serialize>(policy: LevelVersion, object: &K) -> Option<Violations> {
    let value = serde_json::to_value(object).ok()?;
    evaluate_object(policy, &value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn restricted() -> LevelVersion {
        LevelVersion::latest(Level::Restricted)
    }

    #[test]
    fn a_bare_pod_violates_restricted_with_upstreams_full_message() {
        let spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
        let violations = evaluate(restricted(), &json!({}), &spec);
        assert_eq!(
            violations.to_string(),
            "allowPrivilegeEscalation != false (container \"c\" must set \
             securityContext.allowPrivilegeEscalation=false), unrestricted capabilities \
             (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), \
             runAsNonRoot != true (pod or container \"c\" must set \
             securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must \
             set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
    }

    #[test]
    fn privileged_admits_anything() {
        let spec = json!({"hostNetwork": true, "containers": [
            {"name": "c", "securityContext": {"privileged": true}}]});
        assert!(evaluate(LevelVersion::latest(Level::Privileged), &json!({}), &spec).is_empty());
    }

    #[test]
    fn baseline_reports_baseline_checks_in_id_order() {
        let spec = json!({"hostPID": true, "hostNetwork": true, "containers": [
            {"name": "c", "securityContext": {"privileged": true,
              "capabilities": {"add": ["NET_ADMIN", "CHOWN", "NET_RAW"]}}}]});
        let violations = evaluate(LevelVersion::latest(Level::Baseline), &json!({}), &spec);
        assert_eq!(
            violations.to_string(),
            "non-default capabilities (container \"c\" must not include \"NET_ADMIN\", \
             \"NET_RAW\" in securityContext.capabilities.add), host namespaces (hostNetwork, \
             hostPID), privileged (container \"c\" must not set securityContext.privileged=true)"
        );
    }

    #[test]
    fn restricted_words_added_capabilities_through_its_own_check_not_baselines() {
        let spec = json!({"securityContext": {"runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "NET_BIND_SERVICE"]}}}]});
        let violations = evaluate(restricted(), &json!({}), &spec);
        let checks: Vec<&str> = violations.iter().map(|v| v.check).collect();
        assert_eq!(checks, ["capabilities_restricted"]);
        assert_eq!(
            violations.0[0].detail,
            "container \"c\" must not include \"CHOWN\" in securityContext.capabilities.add"
        );
    }

    #[test]
    fn host_probes_are_checked_from_v1_34_only() {
        let spec = json!({"containers": [{"name": "c",
            "readinessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]});
        let at = |minor| {
            evaluate(
                LevelVersion::new(Level::Baseline, Version::Minor(minor)),
                &json!({}),
                &spec,
            )
        };
        assert!(at(33).is_empty());
        assert_eq!(
            at(34).to_string(),
            "probe or lifecycle host (container \"c\" uses probe or lifecycle host \"10.0.0.1\")"
        );
    }

    #[test]
    fn workload_templates_are_found_by_kind() {
        let deployment = json!({"kind": "Deployment", "spec": {"template": {
            "spec": {"containers": [{"name": "c", "securityContext": {"privileged": true}}]}}}});
        let violations = evaluate_object(LevelVersion::latest(Level::Baseline), &deployment);
        assert_eq!(violations.map(|v| v.reasons()), Some("privileged".into()));
        assert!(evaluate_object(restricted(), &json!({"kind": "ConfigMap"})).is_none());
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
            "spec": {"hostIPC": true, "containers": []}}}}}});
        assert_eq!(
            evaluate_object(LevelVersion::latest(Level::Baseline), &cron).map(|v| v.to_string()),
            Some("host namespaces (hostIPC)".into())
        );
    }
}

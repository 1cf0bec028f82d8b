//! API defaults: the fields a real API server (1.33) fills into an object a client
//! leaves them out of, so objects read back in the shape a real server returns them.
//!
//! Upstream applies defaults when it decodes a request body, so they land on every
//! create, update, patch and server-side apply, before validation and admission. kube-sim
//! does the same: [`fill`] runs on each write of an object (never on status writes), is
//! idempotent, and never changes a field the client set. Defaults recorded by a create or
//! update belong to that write's field manager (they were in the object it sent, as
//! upstream decodes it); a server-side apply owns only what it applied, so a later apply
//! neither conflicts with nor removes a defaulted field.
//!
//! Sources: `pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go`,
//! `pkg/apis/batch/v1/defaults.go`, `pkg/apis/networking/v1/defaults.go`. Custom resources
//! (the Gateway API kinds, ServiceMonitor) get no defaults: their CRDs' schema defaults
//! are not modelled.

pub mod pod;

use serde_json::{Map, Value, json};

use crate::kinds::{self, KindId};

/// Fills the API defaults of `kind` into `object`.
pub fn fill(kind: KindId, object: &mut Value) {
    let k = kinds::get(kind);
    let Some(object) = object.as_object_mut() else {
        return;
    };
    match (k.group, k.kind) {
        ("", "Pod") => {
            if let Some(spec) = spec_of(object) {
                pod::spec(spec);
                pod::pod_only(spec);
            }
        }
        ("", "Service") => service(object),
        ("", "Secret") => or_insert(object, "type", json!("Opaque")),
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = spec_of(object) {
                or_insert(spec, "volumeMode", json!("Filesystem"));
            }
        }
        ("apps", "Deployment") => deployment(object),
        ("apps", "StatefulSet") => statefulset(object),
        ("apps", "ReplicaSet") => {
            if let Some(spec) = spec_of(object) {
                or_insert(spec, "replicas", json!(1));
                template(spec);
            }
        }
        ("batch", "Job") => job(object),
        ("networking.k8s.io", "NetworkPolicy") => network_policy(object),
        _ => {}
    }
}

/// Inserts `value` at `key` unless the client set it (an explicit `null` counts as unset:
/// upstream's typed decoding cannot tell the two apart).
pub(crate) fn or_insert(map: &mut Map<String, Value>, key: &str, value: Value) {
    or_insert_with(map, key, || value);
}

pub(crate) fn or_insert_with<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    value: impl FnOnce() -> Value,
) -> &'a mut Value {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = value();
    }
    slot
}

/// `spec` when it is an object (a client may send anything; validation refuses it).
fn spec_of(object: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    object.get_mut("spec").and_then(Value::as_object_mut)
}

/// A pod template's spec defaults (templates get no Pod-only defaults).
fn template(spec: &mut Map<String, Value>) {
    if let Some(pod_spec) = spec
        .get_mut("template")
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        pod::spec(pod_spec);
    }
}

fn deployment(object: &mut Map<String, Value>) {
    let Some(spec) = spec_of(object) else { return };
    or_insert(spec, "replicas", json!(1));
    or_insert(spec, "revisionHistoryLimit", json!(10));
    or_insert(spec, "progressDeadlineSeconds", json!(600));
    let strategy = or_insert_with(spec, "strategy", || json!({}));
    if let Some(strategy) = strategy.as_object_mut() {
        or_insert(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate")) {
            let rolling = or_insert_with(strategy, "rollingUpdate", || json!({}));
            if let Some(rolling) = rolling.as_object_mut() {
                or_insert(rolling, "maxUnavailable", json!("25%"));
                or_insert(rolling, "maxSurge", json!("25%"));
            }
        }
    }
    template(spec);
}

fn statefulset(object: &mut Map<String, Value>) {
    let Some(spec) = spec_of(object) else { return };
    or_insert(spec, "replicas", json!(1));
    or_insert(spec, "revisionHistoryLimit", json!(10));
    or_insert(spec, "podManagementPolicy", json!("OrderedReady"));
    let strategy = or_insert_with(spec, "updateStrategy", || json!({}));
    if let Some(strategy) = strategy.as_object_mut() {
        or_insert(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate")) {
            let rolling = or_insert_with(strategy, "rollingUpdate", || json!({}));
            if let Some(rolling) = rolling.as_object_mut() {
                or_insert(rolling, "partition", json!(0));
            }
        }
    }
    let retention = or_insert_with(spec, "persistentVolumeClaimRetentionPolicy", || json!({}));
    if let Some(retention) = retention.as_object_mut() {
        or_insert(retention, "whenDeleted", json!("Retain"));
        or_insert(retention, "whenScaled", json!("Retain"));
    }
    // Claim templates are embedded PersistentVolumeClaims and read back as such.
    for claim in pod::objects_in(spec, "volumeClaimTemplates") {
        or_insert(claim, "apiVersion", json!("v1"));
        or_insert(claim, "kind", json!("PersistentVolumeClaim"));
        if let Some(claim_spec) = spec_of(claim) {
            or_insert(claim_spec, "volumeMode", json!("Filesystem"));
        }
        or_insert(claim, "status", json!({"phase": "Pending"}));
    }
    template(spec);
}

fn job(object: &mut Map<String, Value>) {
    let Some(spec) = spec_of(object) else { return };
    let unset = |spec: &Map<String, Value>, key: &str| spec.get(key).is_none_or(Value::is_null);
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    or_insert(spec, "parallelism", json!(1));
    or_insert(spec, "backoffLimit", json!(6));
    or_insert(spec, "completionMode", json!("NonIndexed"));
    or_insert(spec, "suspend", json!(false));
    let replacement = if unset(spec, "podFailurePolicy") {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    or_insert(spec, "podReplacementPolicy", json!(replacement));
    template(spec);
}

fn service(object: &mut Map<String, Value>) {
    let spec = or_insert_with(object, "spec", || json!({}));
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    or_insert(spec, "type", json!("ClusterIP"));
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if service_type == "ExternalName" {
        return;
    }
    or_insert(spec, "sessionAffinity", json!("None"));
    or_insert(spec, "internalTrafficPolicy", json!("Cluster"));
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
        or_insert(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        or_insert(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    // Set by the IP allocator on create upstream; the simulated cluster is IPv4-only.
    or_insert(spec, "ipFamilyPolicy", json!("SingleStack"));
    or_insert(spec, "ipFamilies", json!(["IPv4"]));
    for port in pod::objects_in(spec, "ports") {
        or_insert(port, "protocol", json!("TCP"));
        if let Some(number) = port.get("port").cloned() {
            or_insert(port, "targetPort", number);
        }
    }
}

fn network_policy(object: &mut Map<String, Value>) {
    let Some(spec) = spec_of(object) else { return };
    let has_egress = spec
        .get("egress")
        .and_then(Value::as_array)
        .is_some_and(|rules| !rules.is_empty());
    let types = if has_egress {
        json!(["Ingress", "Egress"])
    } else {
        json!(["Ingress"])
    };
    or_insert(spec, "policyTypes", types);
    for direction in ["ingress", "egress"] {
        for rule in pod::objects_in(spec, direction) {
            for port in pod::objects_in(rule, "ports") {
                or_insert(port, "protocol", json!("TCP"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(group: &str, plural: &str) -> KindId {
        kinds::by_path(group, "v1", plural).expect("served")
    }

    fn filled(group: &str, plural: &str, mut object: Value) -> Value {
        fill(kind(group, plural), &mut object);
        object
    }

    #[test]
    fn a_deployment_reads_back_with_its_rolling_update_strategy() {
        let deployment = filled(
            "apps",
            "deployments",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
        );
        assert_eq!(
            deployment["spec"]["strategy"],
            json!({"type": "RollingUpdate",
                   "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(deployment["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(deployment["spec"]["progressDeadlineSeconds"], 600);
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["imagePullPolicy"], "Always");
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        assert!(
            deployment["spec"]["template"]["spec"]
                .get("enableServiceLinks")
                .is_none()
        );
    }

    #[test]
    fn a_recreate_strategy_gets_no_rolling_update_parameters() {
        let deployment = filled(
            "apps",
            "deployments",
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(deployment["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn filling_twice_changes_nothing_and_keeps_what_the_client_set() {
        let job = json!({"spec": {"backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "x:1"}]}}}});
        let once = filled("batch", "jobs", job);
        assert_eq!(once["spec"]["backoffLimit"], 2);
        assert_eq!(once["spec"]["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(once["spec"]["completions"], 1);
        assert_eq!(filled("batch", "jobs", once.clone()), once);
    }

    #[test]
    fn a_job_with_parallelism_only_gets_no_completions() {
        let job = filled("batch", "jobs", json!({"spec": {"parallelism": 3}}));
        assert!(job["spec"].get("completions").is_none());
    }

    #[test]
    fn a_service_port_targets_itself_over_tcp() {
        let service = filled(
            "",
            "services",
            json!({"spec": {"ports": [{"name": "http", "port": 80}]}}),
        );
        assert_eq!(
            service["spec"]["ports"][0],
            json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(service["spec"]["sessionAffinity"], "None");
        assert_eq!(service["spec"]["ipFamilyPolicy"], "SingleStack");
    }

    #[test]
    fn a_network_policy_with_egress_rules_has_both_policy_types() {
        let policy = filled(
            "networking.k8s.io",
            "networkpolicies",
            json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}}),
        );
        assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(policy["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    }
}

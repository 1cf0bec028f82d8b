//! ResourceQuota and LimitRange admission, and the usage a quota's status reports.
//!
//! On a create (and on the updates that can grow usage: a resized claim, a Service
//! turned into a NodePort), in the order the API server runs its plugins: LimitRanger
//! fills defaults into a new Pod and checks the namespace's ranges, then ResourceQuota
//! refuses what would take a quota's usage past its `hard` limits:
//!
//! - `pods "x" is forbidden: exceeded quota: NAME, requested: limits.cpu=2, used:
//!   limits.cpu=1, limited: limits.cpu=2` (only the resources that would exceed), and
//! - in a namespace whose quota constrains cpu or memory, a Pod whose containers do not
//!   each set it: `pods "x" is forbidden: failed quota: NAME: must specify limits.cpu for:
//!   web; requests.memory for: db,web`.
//!
//! Usage is counted from the objects in the store, under the store's lock, so two writes
//! cannot both take the last unit of a quota; the quota controller keeps `status.used`
//! current from the same counting ([`status`]). Pods that have finished (`Succeeded`,
//! `Failed`) count toward `count/pods` only, as upstream:
//! <https://kubernetes.io/docs/concepts/policy/resource-quotas/>.
//! Quota scopes and scope selectors are not simulated: a quota with them is counted as if
//! it had none.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ApiError, Subject};
use crate::kinds::{self, KINDS, KindId};
use crate::limit_range::{self, Resources, resources};
use crate::quantity::Quantity;
use crate::store::name_of;

/// The objects of one kind in the namespace being written to.
pub type Objects<'a> = &'a dyn Fn(KindId) -> Vec<Arc<Value>>;

/// Compute resources whose quota makes every container state them.
const CONSTRAINED: [&str; 6] = [
    "cpu",
    "memory",
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

fn kind_named(kind: &str) -> Option<KindId> {
    KINDS.iter().position(|k| k.kind == kind)
}

/// Runs LimitRanger and ResourceQuota admission on a write of `object` (`old`: the live
/// object, for an update) into the namespace whose objects `objects` lists. May fill
/// LimitRange defaults into a new Pod.
pub fn admit(
    kind: KindId,
    object: &mut Value,
    old: Option<&Value>,
    objects: Objects<'_>,
) -> Result<(), ApiError> {
    let k = kinds::get(kind);
    if !k.namespaced {
        return Ok(());
    }
    let name = name_of(object).to_string();
    let forbidden = |reason: String| ApiError::Forbidden {
        message: format!("{} \"{name}\" is forbidden: {reason}", qualified(kind)),
        subject: Subject {
            group: k.group.to_string(),
            kind: k.plural.to_string(),
            name: name.clone(),
        },
    };
    let ranges = || kind_named("LimitRange").map(objects).unwrap_or_default();
    match (k.kind, old) {
        ("Pod", None) => limit_range::admit_pod(object, &ranges()).map_err(forbidden)?,
        ("PersistentVolumeClaim", old) => {
            let storage = |c: &Value| c.pointer("/spec/resources/requests/storage").cloned();
            if old.is_none_or(|old| storage(old) != storage(object)) {
                limit_range::admit_claim(object, &ranges()).map_err(forbidden)?;
            }
        }
        _ => {}
    }
    let quotas = kind_named("ResourceQuota").map(objects).unwrap_or_default();
    if quotas.is_empty() {
        return Ok(());
    }
    let mut delta = usage(kind, object);
    if let Some(old) = old {
        let before = usage(kind, old);
        for (name, value) in &mut delta {
            *value = (*value - before.get(name).copied().unwrap_or_default()).non_negative();
        }
    }
    let mut live: Option<Resources> = None;
    for quota in &quotas {
        let hard = resources(quota.pointer("/spec/hard"));
        if k.kind == "Pod" && old.is_none() {
            let required: BTreeSet<&str> = CONSTRAINED
                .into_iter()
                .filter(|r| hard.contains_key(*r))
                .collect();
            if let Some(missing) = missing_compute(object, &required) {
                return Err(forbidden(format!(
                    "failed quota: {}: must specify {missing}",
                    name_of(quota)
                )));
            }
        }
        let requested: Resources = delta
            .iter()
            .filter(|(name, value)| hard.contains_key(*name) && !value.is_zero())
            .map(|(name, value)| (name.clone(), *value))
            .collect();
        if requested.is_empty() {
            continue;
        }
        let used = live.get_or_insert_with(|| total(kind, &objects(kind)));
        let exceeded: Vec<&String> = requested
            .iter()
            .filter(|(name, value)| {
                let now = used.get(*name).copied().unwrap_or_default();
                now + **value > hard[*name]
            })
            .map(|(name, _)| name)
            .collect();
        if !exceeded.is_empty() {
            let list = |values: &Resources| {
                exceeded
                    .iter()
                    .map(|name| {
                        let value = values.get(*name).copied().unwrap_or_default();
                        format!("{name}={value}")
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return Err(forbidden(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                name_of(quota),
                list(&requested),
                list(used),
                list(&hard)
            )));
        }
    }
    Ok(())
}

/// A quota's `status`: `hard` mirrored from the spec, `used` counted for each of its
/// resources from the objects in its namespace.
pub fn status(quota: &Value, objects: Objects<'_>) -> Value {
    let hard = resources(quota.pointer("/spec/hard"));
    let counted: BTreeSet<KindId> = hard.keys().filter_map(|name| counted_kind(name)).collect();
    let mut used = Resources::new();
    for kind in counted {
        for (name, value) in total(kind, &objects(kind)) {
            used.insert(name, value);
        }
    }
    let print = |values: &Resources, names: &Resources| -> Value {
        names
            .keys()
            .map(|name| {
                let value = values.get(name).copied().unwrap_or_default();
                (name.clone(), json!(value.to_string()))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    json!({"hard": print(&hard, &hard), "used": print(&used, &hard)})
}

/// Whether a change to an object of `kind` can change the usage `quota` reports.
pub fn counts(quota: &Value, kind: KindId) -> bool {
    quota
        .pointer("/spec/hard")
        .and_then(Value::as_object)
        .is_some_and(|hard| hard.keys().any(|name| counted_kind(name) == Some(kind)))
}

/// The kind whose objects a quota resource counts.
fn counted_kind(resource: &str) -> Option<KindId> {
    if let Some(counted) = resource.strip_prefix("count/") {
        let (plural, group) = counted.split_once('.').unwrap_or((counted, ""));
        return KINDS
            .iter()
            .position(|k| k.plural == plural && k.group == group && k.namespaced);
    }
    if resource.ends_with(".storageclass.storage.k8s.io/requests.storage")
        || resource.ends_with(".storageclass.storage.k8s.io/persistentvolumeclaims")
    {
        return kind_named("PersistentVolumeClaim");
    }
    let kind = match resource {
        "pods" | "cpu" | "memory" | "ephemeral-storage" => "Pod",
        r if r.starts_with("requests.") && r != "requests.storage" => "Pod",
        r if r.starts_with("limits.") => "Pod",
        "persistentvolumeclaims" | "requests.storage" => "PersistentVolumeClaim",
        "services" | "services.nodeports" | "services.loadbalancers" => "Service",
        "secrets" => "Secret",
        "configmaps" => "ConfigMap",
        "resourcequotas" => "ResourceQuota",
        _ => return None,
    };
    kind_named(kind)
}

fn total(kind: KindId, objects: &[Arc<Value>]) -> Resources {
    let mut sum = Resources::new();
    for object in objects {
        for (name, value) in usage(kind, object) {
            let before = sum.get(&name).copied().unwrap_or_default();
            sum.insert(name, before + value);
        }
    }
    sum
}

/// What one object takes from a quota, by resource name.
fn usage(kind: KindId, object: &Value) -> Resources {
    let k = kinds::get(kind);
    let one = Quantity::count(1);
    let count_name = if k.group.is_empty() {
        format!("count/{}", k.plural)
    } else {
        format!("count/{}.{}", k.plural, k.group)
    };
    let mut usage = Resources::from([(count_name, one)]);
    match k.kind {
        "Pod" => pod_usage(object, &mut usage),
        "PersistentVolumeClaim" => {
            usage.insert("persistentvolumeclaims".into(), one);
            let class = object
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty());
            if let Some(class) = class {
                usage.insert(
                    format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                    one,
                );
            }
            let requests = resources(object.pointer("/spec/resources/requests"));
            if let Some(storage) = requests.get("storage") {
                usage.insert("requests.storage".into(), *storage);
                if let Some(class) = class {
                    usage.insert(
                        format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                        *storage,
                    );
                }
            }
        }
        "Service" => {
            usage.insert("services".into(), one);
            let ports = object
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            match object.pointer("/spec/type").and_then(Value::as_str) {
                Some("NodePort") => {
                    usage.insert("services.nodeports".into(), Quantity::count(ports));
                }
                Some("LoadBalancer") => {
                    usage.insert("services.loadbalancers".into(), one);
                    usage.insert("services.nodeports".into(), Quantity::count(ports));
                }
                _ => {}
            }
        }
        "Secret" | "ConfigMap" | "ResourceQuota" => {
            usage.insert(k.plural.to_string(), one);
        }
        _ => {}
    }
    usage
}

/// A pod's compute usage: for each resource the larger of its containers' sum and its
/// largest init container, as the scheduler and quota charge it.
fn pod_usage(pod: &Value, usage: &mut Resources) {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return;
    }
    usage.insert("pods".into(), Quantity::count(1));
    for (field, names) in [
        ("requests", &["requests.", ""][..]),
        ("limits", &["limits."][..]),
    ] {
        let list = |key: &str| -> Vec<Resources> {
            pod.pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| resources(c.pointer(&format!("/resources/{field}"))))
                .collect()
        };
        let mut charged = Resources::new();
        for container in list("containers") {
            for (name, value) in container {
                let before = charged.get(&name).copied().unwrap_or_default();
                charged.insert(name, before + value);
            }
        }
        for init in list("initContainers") {
            for (name, value) in init {
                let before = charged.get(&name).copied().unwrap_or_default();
                if value > before {
                    charged.insert(name, value);
                }
            }
        }
        for (resource, value) in charged {
            if !matches!(resource.as_str(), "cpu" | "memory" | "ephemeral-storage") {
                continue;
            }
            for prefix in names {
                usage.insert(format!("{prefix}{resource}"), value);
            }
        }
    }
}

/// `limits.cpu for: web; requests.memory for: db,web` when some container (or init
/// container) does not state a resource the quota constrains.
fn missing_compute(pod: &Value, required: &BTreeSet<&str>) -> Option<String> {
    if required.is_empty() {
        return None;
    }
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for list in ["containers", "initContainers"] {
        let containers = pod
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array);
        for container in containers.into_iter().flatten() {
            let requests = resources(container.pointer("/resources/requests"));
            let limits = resources(container.pointer("/resources/limits"));
            let states = |name: &str| match name.split_once('.') {
                Some(("limits", r)) => limits.contains_key(r),
                Some((_, r)) => requests.contains_key(r),
                None => requests.contains_key(name),
            };
            for name in required.iter().filter(|name| !states(name)) {
                let container = container["name"].as_str().unwrap_or_default();
                missing
                    .entry(name)
                    .or_default()
                    .insert(container.to_string());
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(name, containers)| {
            let names: Vec<&str> = containers.iter().map(String::as_str).collect();
            format!("{name} for: {}", names.join(","))
        })
        .collect();
    Some(parts.join("; "))
}

fn qualified(kind: KindId) -> String {
    let k = kinds::get(kind);
    if k.group.is_empty() {
        k.plural.to_string()
    } else {
        format!("{}.{}", k.plural, k.group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> KindId {
        kind_named(name).expect("served")
    }

    fn quota(hard: Value) -> Arc<Value> {
        Arc::new(json!({"metadata": {"name": "store-quota"}, "spec": {"hard": hard}}))
    }

    fn pod(name: &str, requests: Value, limits: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "web",
            "resources": {"requests": requests, "limits": limits}}]}})
    }

    fn namespace(quotas: Vec<Arc<Value>>, pods: Vec<Value>) -> impl Fn(KindId) -> Vec<Arc<Value>> {
        move |k| match kinds::get(k).kind {
            "ResourceQuota" => quotas.clone(),
            "Pod" => pods.iter().cloned().map(Arc::new).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_pod_past_the_quota_is_forbidden_naming_only_what_it_exceeds() {
        let running = pod("a", json!({"cpu": "500m"}), json!({"cpu": "1"}));
        let ns = namespace(
            vec![quota(
                json!({"limits.cpu": "1500m", "requests.cpu": "2", "pods": "5"}),
            )],
            vec![running],
        );
        let mut new = pod("b", json!({"cpu": "500m"}), json!({"cpu": "1"}));
        let error = admit(kind("Pod"), &mut new, None, &ns).expect_err("refused");
        assert_eq!(error.code(), 403);
        assert_eq!(
            error.to_string(),
            "pods \"b\" is forbidden: exceeded quota: store-quota, requested: limits.cpu=1, \
             used: limits.cpu=1, limited: limits.cpu=1500m"
        );
    }

    #[test]
    fn finished_pods_do_not_count_toward_compute() {
        let mut done = pod("a", json!({"cpu": "1"}), json!({"cpu": "1"}));
        done["status"] = json!({"phase": "Succeeded"});
        let ns = namespace(
            vec![quota(json!({"limits.cpu": "1", "pods": "1"}))],
            vec![done],
        );
        let mut new = pod("b", json!({"cpu": "1"}), json!({"cpu": "1"}));
        assert!(admit(kind("Pod"), &mut new, None, &ns).is_ok());
    }

    #[test]
    fn a_pod_without_the_constrained_resources_is_told_what_to_specify() {
        let ns = namespace(
            vec![quota(json!({"limits.cpu": "2", "requests.memory": "1Gi"}))],
            vec![],
        );
        let mut new = pod("b", json!({}), json!({}));
        let error = admit(kind("Pod"), &mut new, None, &ns).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "pods \"b\" is forbidden: failed quota: store-quota: must specify limits.cpu for: \
             web; requests.memory for: web"
        );
    }

    #[test]
    fn status_reports_every_hard_resource_with_its_usage() {
        let running = pod("a", json!({"cpu": "250m", "memory": "256Mi"}), json!({}));
        let q = quota(
            json!({"requests.cpu": "1", "requests.memory": "1Gi", "pods": "4",
            "persistentvolumeclaims": "2"}),
        );
        let ns = namespace(vec![q.clone()], vec![running.clone(), running]);
        assert_eq!(
            status(&q, &ns),
            json!({
                "hard": {"persistentvolumeclaims": "2", "pods": "4", "requests.cpu": "1",
                         "requests.memory": "1Gi"},
                "used": {"persistentvolumeclaims": "0", "pods": "2", "requests.cpu": "500m",
                         "requests.memory": "512Mi"},
            })
        );
    }
}

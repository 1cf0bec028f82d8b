//! The Deployment and ReplicaSet controllers.
//!
//! A Deployment owns one ReplicaSet per pod template, named `<deployment>-<hash>` with a
//! `pod-template-hash` label; older ReplicaSets are scaled to zero. A ReplicaSet owns pods
//! named `<replicaset>-<5 random chars>`, the way the real controllers name them.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Cluster;
use super::helpers::{self, controlled_by, owner_reference, pod_ready, replicas};
use crate::kinds::{self, KindId};
use crate::random;
use crate::store::{Subresource, WriteContext, is_deleting, name_of, set, uid_of};

fn kind(name: &str) -> KindId {
    super::kind_named(name)
}

/// Brings a Deployment's ReplicaSets in line with its spec, then its status.
pub fn reconcile_deployment(cluster: &Cluster, ns: &str, name: &str) {
    let store = &cluster.store;
    let Ok(deployment) = store.get(kind("Deployment"), Some(ns), name) else {
        return;
    };
    if is_deleting(&deployment) {
        return;
    }
    let hash = template_hash(&deployment);
    let current = format!("{name}-{hash}");
    let want = replicas(&deployment);
    let system = WriteContext::system();
    let owned: Vec<Arc<Value>> = store
        .objects_named(kind("ReplicaSet"), ns, &format!("{name}-"))
        .into_iter()
        .filter(|rs| controlled_by(rs, uid_of(&deployment)))
        .collect();
    for rs in &owned {
        let rs_name = name_of(rs);
        let target = if rs_name == current { want } else { 0 };
        if replicas(rs) != target {
            let _ = store.modify(
                kind("ReplicaSet"),
                Some(ns),
                rs_name,
                Subresource::Main,
                &system,
                |live| {
                    let mut scaled = live.clone();
                    set(&mut scaled, &["spec", "replicas"], json!(target));
                    Ok(scaled)
                },
            );
        }
    }
    if !owned.iter().any(|rs| name_of(rs) == current) {
        let template = deployment
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let labels = helpers::template_labels(&template, &[("pod-template-hash", hash.clone())]);
        let mut selector = deployment
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or_else(|| json!({}));
        set(
            &mut selector,
            &["matchLabels", "pod-template-hash"],
            json!(hash),
        );
        let mut rs_template = template.clone();
        set(&mut rs_template, &["metadata", "labels"], labels.clone());
        let revision = owned.len() + 1;
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": current,
                "namespace": ns,
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": want.to_string(),
                    "deployment.kubernetes.io/revision": revision.to_string(),
                },
                "ownerReferences": [owner_reference(kinds::get(kind("Deployment")), &deployment)],
            },
            "spec": { "replicas": want, "selector": selector, "template": rs_template },
        });
        let _ = store.create(kind("ReplicaSet"), Some(ns), rs, &system);
    }
    deployment_status(cluster, ns, name);
}

/// Recomputes a Deployment's status from its ReplicaSets.
fn deployment_status(cluster: &Cluster, ns: &str, name: &str) {
    let store = &cluster.store;
    let Ok(deployment) = store.get(kind("Deployment"), Some(ns), name) else {
        return;
    };
    let current = format!("{name}-{}", template_hash(&deployment));
    let owned: Vec<Arc<Value>> = store
        .objects_named(kind("ReplicaSet"), ns, &format!("{name}-"))
        .into_iter()
        .filter(|rs| controlled_by(rs, uid_of(&deployment)))
        .collect();
    let sum = |field: &str| -> i64 {
        owned
            .iter()
            .filter_map(|rs| {
                rs.pointer(&format!("/status/{field}"))
                    .and_then(Value::as_i64)
            })
            .sum()
    };
    let updated = owned
        .iter()
        .find(|rs| name_of(rs) == current)
        .and_then(|rs| rs.pointer("/status/replicas").and_then(Value::as_i64))
        .unwrap_or(0);
    let want = replicas(&deployment);
    let (total, ready, available) = (
        sum("replicas"),
        sum("readyReplicas"),
        sum("availableReplicas"),
    );
    let previous = deployment.pointer("/status/conditions");
    let available_condition = if available >= want {
        helpers::condition(
            previous,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            true,
        )
    } else {
        helpers::condition(
            previous,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            true,
        )
    };
    let complete = updated == want && available == want && total == want;
    let progressing = if complete {
        helpers::condition(
            previous,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{current}\" has successfully progressed."),
            true,
        )
    } else {
        helpers::condition(
            previous,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{current}\" is progressing."),
            true,
        )
    };
    let mut status = json!({
        "observedGeneration": deployment.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "conditions": [available_condition, progressing],
    });
    if let Some(failure) = deployment_replica_failure(&owned, &current)
        && let Some(conditions) = status["conditions"].as_array_mut()
    {
        conditions.push(failure);
    }
    if want > available {
        status["unavailableReplicas"] = json!(want - available);
    }
    write_status(cluster, kind("Deployment"), ns, name, status);
}

/// Creates or deletes pods to match a ReplicaSet's replicas, then updates its status and
/// its Deployment's.
pub fn reconcile_replicaset(cluster: &Cluster, ns: &str, name: &str) {
    let store = &cluster.store;
    let Ok(rs) = store.get(kind("ReplicaSet"), Some(ns), name) else {
        return;
    };
    let system = WriteContext::system();
    let pods: Vec<Arc<Value>> = store
        .objects_named(kind("Pod"), ns, &format!("{name}-"))
        .into_iter()
        .filter(|p| controlled_by(p, uid_of(&rs)) && !is_deleting(p))
        .collect();
    let want = usize::try_from(replicas(&rs)).unwrap_or(0);
    let mut failure = None;
    if !is_deleting(&rs) {
        let empty = json!({});
        let template = rs.pointer("/spec/template").unwrap_or(&empty);
        for _ in pods.len()..want {
            let pod_name = format!("{name}-{}", random::suffix(5));
            let mut pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": helpers::template_labels(template, &[]),
                    "ownerReferences": [owner_reference(kinds::get(kind("ReplicaSet")), &rs)],
                },
                "spec": pod_spec(template),
            });
            helpers::copy_template_annotations(template, &mut pod);
            // As the real controller: stop at the first refusal, say why on the
            // ReplicaSet, and try again on the next sync.
            if let Err(error) = store.create(kind("Pod"), Some(ns), pod, &system) {
                let message = format!("Error creating: {error}");
                cluster.failed_create(&rs, "replicaset-controller", &message);
                failure = Some(error);
                break;
            }
        }
        for extra in pods.iter().skip(want) {
            let _ = store.delete(
                kind("Pod"),
                Some(ns),
                name_of(extra),
                Default::default(),
                &Default::default(),
            );
        }
    }
    let pods: Vec<Arc<Value>> = store
        .objects_named(kind("Pod"), ns, &format!("{name}-"))
        .into_iter()
        .filter(|p| controlled_by(p, uid_of(&rs)) && !is_deleting(p))
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let mut status = json!({
        "replicas": pods.len(),
        "fullyLabeledReplicas": pods.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
    });
    if let Some(condition) = replica_failure(&rs, failure.as_ref()) {
        status["conditions"] = json!([condition]);
    }
    write_status(cluster, kind("ReplicaSet"), ns, name, status);
    if let Some(("Deployment", owner)) = helpers::controller_of(&rs) {
        deployment_status(cluster, ns, owner);
    }
}

/// The ReplicaSet's `ReplicaFailure` condition after a sync that failed to create a pod
/// with `error` (or succeeded): set on the first failure and kept while failures go on,
/// removed once a sync succeeds, as the real controller's `calculateStatus` does.
fn replica_failure(rs: &Value, error: Option<&crate::error::ApiError>) -> Option<Value> {
    let error = error?;
    let existing = rs
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == "ReplicaFailure"));
    Some(existing.cloned().unwrap_or_else(|| {
        helpers::condition(
            None,
            "ReplicaFailure",
            "True",
            "FailedCreate",
            &error.to_string(),
            false,
        )
    }))
}

/// The Deployment's `ReplicaFailure` condition: its ReplicaSets' own, the newest
/// ReplicaSet's first, as the deployment controller surfaces it.
fn deployment_replica_failure(owned: &[Arc<Value>], current: &str) -> Option<Value> {
    let newest_first = owned
        .iter()
        .filter(|rs| name_of(rs) == current)
        .chain(owned.iter().filter(|rs| name_of(rs) != current));
    newest_first
        .filter_map(|rs| rs.pointer("/status/conditions").and_then(Value::as_array))
        .flatten()
        .find(|c| c["type"] == "ReplicaFailure")
        .map(|c| {
            json!({
                "type": "ReplicaFailure",
                "status": c["status"],
                "reason": c["reason"],
                "message": c["message"],
                "lastUpdateTime": c["lastTransitionTime"],
                "lastTransitionTime": c["lastTransitionTime"],
            })
        })
}

/// The `pod-template-hash` of a Deployment's pod template.
fn template_hash(deployment: &Value) -> String {
    let template = deployment.pointer("/spec/template");
    random::stable_hash(&template.map_or_else(|| "{}".to_owned(), Value::to_string))
}

/// A pod spec from a template, scheduled onto the simulator's one node.
pub fn pod_spec(template: &Value) -> Value {
    let mut spec = template
        .get("spec")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"containers": []}));
    spec["nodeName"] = json!("kube-sim-node");
    spec
}

/// Replaces `status` through the status subresource; a no-op when unchanged.
pub fn write_status(cluster: &Cluster, kind: KindId, ns: &str, name: &str, status: Value) {
    // Most reconciles find nothing new; checking first spares a copy of the object.
    let unchanged = cluster
        .store
        .get(kind, Some(ns), name)
        .is_ok_and(|live| live.get("status") == Some(&status));
    if unchanged {
        return;
    }
    let _ = cluster.store.modify(
        kind,
        Some(ns),
        name,
        Subresource::Status,
        &WriteContext::system(),
        |live| {
            // Through the status subresource only the status is taken from the write:
            // the rest of the object need not be copied to be thrown away.
            if kinds::get(kind).has_status {
                return Ok(json!({ "status": status }));
            }
            let mut next = live.clone();
            next["status"] = status;
            Ok(next)
        },
    );
}

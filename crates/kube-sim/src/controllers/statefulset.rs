//! The StatefulSet controller: pods `<name>-0..n` with stable identities, and one
//! PersistentVolumeClaim per volume claim template and ordinal (`<template>-<name>-<i>`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::Cluster;
use super::helpers::{self, controlled_by, owner_reference, pod_ready, replicas};
use super::kind_named;
use super::workloads::{pod_spec, write_status};
use crate::kinds;
use crate::random;
use crate::store::{WriteContext, is_deleting, name_of, set, uid_of};

/// Creates missing pods and claims, removes surplus pods, and updates the status.
pub fn reconcile(cluster: &Cluster, ns: &str, name: &str) {
    let store = &cluster.store;
    let pod_kind = kind_named("Pod");
    let Ok(sts) = store.get(kind_named("StatefulSet"), Some(ns), name) else {
        return;
    };
    let template = sts
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let revision = format!("{name}-{}", random::stable_hash(&template.to_string()));
    let want = replicas(&sts).max(0);
    let system = WriteContext::system();
    let owned = |store: &crate::store::Store| -> Vec<Arc<Value>> {
        store
            .objects_named(pod_kind, ns, &format!("{name}-"))
            .into_iter()
            .filter(|p| controlled_by(p, uid_of(&sts)) && !is_deleting(p))
            .collect()
    };
    if !is_deleting(&sts) {
        let existing = owned(store);
        for ordinal in 0..want {
            let pod_name = format!("{name}-{ordinal}");
            if existing.iter().any(|p| name_of(p) == pod_name) {
                continue;
            }
            let mut spec = pod_spec(&template);
            spec["hostname"] = json!(pod_name);
            if let Some(service) = sts.pointer("/spec/serviceName") {
                spec["subdomain"] = service.clone();
            }
            let claims = sts
                .pointer("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut claim_refused = false;
            for claim in &claims {
                let template_name = name_of(claim).to_string();
                let claim_name = format!("{template_name}-{pod_name}");
                let mut pvc = claim.clone();
                set(&mut pvc, &["apiVersion"], json!("v1"));
                set(&mut pvc, &["kind"], json!("PersistentVolumeClaim"));
                set(&mut pvc, &["metadata", "name"], json!(claim_name));
                set(&mut pvc, &["metadata", "namespace"], json!(ns));
                // A claim that exists already is the pod's from before; one refused (by
                // quota) stops the pod, as the real controller's FailedCreate does.
                let claim_kind = kind_named("PersistentVolumeClaim");
                let created = match store.get(claim_kind, Some(ns), &claim_name) {
                    Ok(_) => Ok(()),
                    Err(_) => store.create(claim_kind, Some(ns), pvc, &system).map(drop),
                };
                if let Err(error) = created {
                    let message = format!(
                        "create Claim {claim_name} for Pod {pod_name} in StatefulSet {name} \
                         failed error: {error}"
                    );
                    cluster.failed_create(&sts, "statefulset-controller", &message);
                    claim_refused = true;
                    break;
                }
                let volumes = spec["volumes"].as_array().cloned().unwrap_or_default();
                if !volumes.iter().any(|v| v["name"] == json!(template_name)) {
                    let mut volumes = volumes;
                    volumes.push(json!({
                        "name": template_name,
                        "persistentVolumeClaim": { "claimName": claim_name },
                    }));
                    spec["volumes"] = json!(volumes);
                }
            }
            if claim_refused {
                break;
            }
            let labels = helpers::template_labels(
                &template,
                &[
                    ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
                    ("apps.kubernetes.io/pod-index", ordinal.to_string()),
                    ("controller-revision-hash", revision.clone()),
                ],
            );
            let mut pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [owner_reference(kinds::get(kind_named("StatefulSet")), &sts)],
                },
                "spec": spec,
            });
            helpers::copy_template_annotations(&template, &mut pod);
            // The real controller creates pods in order and stops at the first refusal,
            // leaving a FailedCreate Event on the StatefulSet.
            if let Err(error) = store.create(pod_kind, Some(ns), pod, &system) {
                let message =
                    format!("create Pod {pod_name} in StatefulSet {name} failed error: {error}");
                cluster.failed_create(&sts, "statefulset-controller", &message);
                break;
            }
        }
        for pod in existing {
            let ordinal = name_of(&pod)
                .rsplit('-')
                .next()
                .and_then(|o| o.parse::<i64>().ok());
            if ordinal.is_none_or(|o| o >= want) {
                let _ = store.delete(
                    pod_kind,
                    Some(ns),
                    name_of(&pod),
                    Default::default(),
                    &Default::default(),
                );
            }
        }
    }
    let pods = owned(store);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let status = json!({
        "observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": pods.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": pods.len(),
        "updatedReplicas": pods.len(),
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    });
    write_status(cluster, kind_named("StatefulSet"), ns, name, status);
}

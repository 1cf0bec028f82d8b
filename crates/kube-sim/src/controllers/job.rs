//! The Job controller: one pod per job; the job completes when it succeeds and fails
//! (BackoffLimitExceeded) when it fails. Conditions follow Kubernetes 1.31+, which sets
//! `SuccessCriteriaMet`/`FailureTarget` before `Complete`/`Failed`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Cluster;
use super::helpers::{self, controlled_by, owner_reference, pod_ready};
use super::kind_named;
use super::workloads::{pod_spec, write_status};
use crate::kinds;
use crate::random;
use crate::store::{WriteContext, is_deleting, now, uid_of};

fn finished(job: &Value) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter().any(|c| {
                (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True"
            })
        })
}

/// Starts the job's pod if needed and reflects the pod's outcome in the job's status.
pub fn reconcile(cluster: &Cluster, ns: &str, name: &str) {
    let store = &cluster.store;
    let pod_kind = kind_named("Pod");
    let Ok(job) = store.get(kind_named("Job"), Some(ns), name) else {
        return;
    };
    if is_deleting(&job) || finished(&job) {
        return;
    }
    let pods: Vec<Arc<Value>> = store
        .objects_named(pod_kind, ns, &format!("{name}-"))
        .into_iter()
        .filter(|p| controlled_by(p, uid_of(&job)))
        .collect();
    let start_time = job
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or_else(|| json!(now()));
    if pods.is_empty() {
        let template = job
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let uid = uid_of(&job).to_string();
        let labels = helpers::template_labels(
            &template,
            &[
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("batch.kubernetes.io/job-name", name.to_string()),
                ("controller-uid", uid),
                ("job-name", name.to_string()),
            ],
        );
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": format!("{name}-{}", random::suffix(5)),
                "namespace": ns,
                "labels": labels,
                "ownerReferences": [owner_reference(kinds::get(kind_named("Job")), &job)],
            },
            "spec": pod_spec(&template),
        });
        helpers::copy_template_annotations(&template, &mut pod);
        // A refused pod leaves the job with nothing active and a FailedCreate Event, as
        // the real job controller leaves it (it retries on the next sync).
        let active = match store.create(pod_kind, Some(ns), pod, &WriteContext::system()) {
            Ok(_) => 1,
            Err(error) => {
                let message = format!("Error creating: {error}");
                cluster.failed_create(&job, "job-controller", &message);
                0
            }
        };
        write_status(
            cluster,
            kind_named("Job"),
            ns,
            name,
            json!({"active": active, "ready": 0, "startTime": start_time, "terminating": 0}),
        );
        return;
    }
    let phase =
        |p: &Arc<Value>| p.pointer("/status/phase").and_then(Value::as_str) == Some("Succeeded");
    let failed =
        |p: &Arc<Value>| p.pointer("/status/phase").and_then(Value::as_str) == Some("Failed");
    let previous = job.pointer("/status/conditions");
    let status = if pods.iter().any(phase) {
        json!({
            "succeeded": 1, "active": 0, "ready": 0, "terminating": 0,
            "startTime": start_time, "completionTime": now(),
            "conditions": [
                helpers::condition(previous, "SuccessCriteriaMet", "True", "CompletionsReached",
                    "Reached expected number of succeeded pods", false),
                helpers::condition(previous, "Complete", "True", "CompletionsReached",
                    "Reached expected number of succeeded pods", false),
            ],
        })
    } else if pods.iter().any(failed) {
        json!({
            "failed": 1, "active": 0, "ready": 0, "terminating": 0,
            "startTime": start_time,
            "conditions": [
                helpers::condition(previous, "FailureTarget", "True", "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit", false),
                helpers::condition(previous, "Failed", "True", "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit", false),
            ],
        })
    } else {
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        json!({"active": pods.len(), "ready": ready, "startTime": start_time, "terminating": 0})
    };
    write_status(cluster, kind_named("Job"), ns, name, status);
}

//! The simulated kubelet (pods start, become ready, or finish) and volume binding.
//!
//! Pods of a namespace listed in the never-ready fault, or with a container of an image
//! listed in the never-ready-images fault, stay Pending with their containers waiting in
//! `ImagePullBackOff`, reported the way kubelet reports it, until the fault is lifted. Pods owned by a Job
//! run to completion (or fail, if the job is listed in the failing-jobs fault).

use serde_json::{Value, json};

use super::Cluster;
use super::helpers::controller_of;
use super::kind_named;
use super::workloads::write_status;
use crate::faults::Faults;
use crate::store::{Subresource, WriteContext, now, set, uid_of};

/// Starts a new pod, after the configured delay.
pub fn start_pod(cluster: &Cluster, ns: &str, name: &str) {
    if cluster.ready_delay.is_zero() {
        run_pod(cluster, ns, name);
        return;
    }
    let cluster = cluster.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(cluster.ready_delay).await;
        run_pod(&cluster, &ns, &name);
    });
}

fn run_pod(cluster: &Cluster, ns: &str, name: &str) {
    let Ok(pod) = cluster.store.get(kind_named("Pod"), Some(ns), name) else {
        return;
    };
    if pod.pointer("/status/startTime").is_some() || crate::store::is_deleting(&pod) {
        return;
    }
    let faults = cluster.faults.get();
    if held_back(&faults, ns, &pod) {
        write_status(
            cluster,
            kind_named("Pod"),
            ns,
            name,
            image_pull_backoff(&faults, ns, &pod),
        );
        retry_pull(cluster, ns, name);
        return;
    }
    write_status(
        cluster,
        kind_named("Pod"),
        ns,
        name,
        started(cluster, ns, &pod),
    );
}

/// What a pod whose images are there becomes: a Job's pod finishes, any other runs.
fn started(cluster: &Cluster, ns: &str, pod: &Value) -> Value {
    match controller_of(pod) {
        Some(("Job", job)) => {
            finished(pod, !cluster.faults.get().job_fails(ns, job), |container| {
                cluster.programs.termination_message(job, container)
            })
        }
        _ => running(pod),
    }
}

/// How often a pod in `ImagePullBackOff` tries again (kubelet backs off up to 5 minutes;
/// a test double need not make anyone wait that long).
const PULL_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// Like kubelet, keeps pulling: once the never-ready fault is lifted, the pod starts.
fn retry_pull(cluster: &Cluster, ns: &str, name: &str) {
    let cluster = cluster.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PULL_RETRY).await;
            let Ok(pod) = cluster.store.get(kind_named("Pod"), Some(&ns), &name) else {
                return;
            };
            if crate::store::is_deleting(&pod) {
                return;
            }
            if !held_back(&cluster.faults.get(), &ns, &pod) {
                let status = started(&cluster, &ns, &pod);
                write_status(&cluster, kind_named("Pod"), &ns, &name, status);
                return;
            }
        }
    });
}

/// Whether the pull of some container's image fails under `faults`.
fn held_back(faults: &Faults, ns: &str, pod: &Value) -> bool {
    containers(pod).iter().any(|c| pull_fails(faults, ns, c))
}

fn pull_fails(faults: &Faults, ns: &str, container: &Value) -> bool {
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default();
    faults.pods_never_ready(ns) || faults.image_never_pulls(image)
}

fn containers(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn pod_ip(pod: &Value) -> String {
    let uid = uid_of(pod).as_bytes();
    let byte = |i: usize| uid.get(uid.len().saturating_sub(i)).copied().unwrap_or(1);
    format!("10.244.{}.{}", byte(2), byte(1).max(2))
}

fn conditions(ready: bool, reason: Option<&str>) -> Value {
    let t = now();
    let ready_status = if ready { "True" } else { "False" };
    let mut ready_condition =
        json!({"type": "Ready", "status": ready_status, "lastTransitionTime": t});
    let mut containers_ready =
        json!({"type": "ContainersReady", "status": ready_status, "lastTransitionTime": t});
    if let Some(reason) = reason {
        ready_condition["reason"] = json!(reason);
        containers_ready["reason"] = json!(reason);
    }
    json!([
        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": t},
        {"type": "Initialized", "status": "True", "lastTransitionTime": t},
        ready_condition,
        containers_ready,
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
    ])
}

fn base_status(pod: &Value, phase: &str, ready: bool, reason: Option<&str>) -> Value {
    json!({
        "phase": phase,
        "conditions": conditions(ready, reason),
        "hostIP": "10.0.0.10",
        "hostIPs": [{"ip": "10.0.0.10"}],
        "podIP": pod_ip(pod),
        "podIPs": [{"ip": pod_ip(pod)}],
        "startTime": now(),
        "qosClass": "BestEffort",
    })
}

fn container_status(container: &Value, ready: bool, state: Value) -> Value {
    let image = container.get("image").cloned().unwrap_or(json!(""));
    json!({
        "name": container.get("name").cloned().unwrap_or(json!("")),
        "image": image,
        "imageID": if ready { json!(format!("{}@sha256:0", image.as_str().unwrap_or_default())) } else { json!("") },
        "ready": ready,
        "started": ready,
        "restartCount": 0,
        "state": state,
        "lastState": {},
    })
}

fn running(pod: &Value) -> Value {
    let mut status = base_status(pod, "Running", true, None);
    status["containerStatuses"] = containers(pod)
        .iter()
        .map(|c| container_status(c, true, json!({"running": {"startedAt": now()}})))
        .collect();
    status
}

/// A pod whose failing containers wait in `ImagePullBackOff` while the others run, as
/// kubelet reports it: Pending, not ready, the waiting containers named in the conditions.
fn image_pull_backoff(faults: &Faults, ns: &str, pod: &Value) -> Value {
    let mut status = base_status(pod, "Pending", false, Some("ContainersNotReady"));
    let names: Vec<String> = containers(pod)
        .iter()
        .filter(|c| pull_fails(faults, ns, c))
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    let message = format!("containers with unready status: [{}]", names.join(" "));
    for index in [2, 3] {
        status["conditions"][index]["message"] = json!(message);
    }
    status["containerStatuses"] = containers(pod)
        .iter()
        .map(|c| {
            if !pull_fails(faults, ns, c) {
                return container_status(c, true, json!({"running": {"startedAt": now()}}));
            }
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            let waiting = json!({"waiting": {
                "reason": "ImagePullBackOff",
                "message": format!("Back-off pulling image \"{image}\""),
            }});
            container_status(c, false, waiting)
        })
        .collect();
    status
}

/// A finished pod; a container that succeeded leaves the message `message` gives for its
/// name, as the kubelet copies a program's termination-log file into the status.
fn finished(pod: &Value, succeeded: bool, message: impl Fn(&str) -> Option<String>) -> Value {
    let (phase, exit_code, reason) = if succeeded {
        ("Succeeded", 0, "Completed")
    } else {
        ("Failed", 1, "Error")
    };
    let mut status = base_status(pod, phase, false, Some("PodCompleted"));
    status["containerStatuses"] = containers(pod)
        .iter()
        .map(|c| {
            let mut terminated = json!({"terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": now(),
                "finishedAt": now(),
            }});
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(message) = succeeded.then(|| message(name)).flatten() {
                terminated["terminated"]["message"] = json!(message);
            }
            container_status(c, false, terminated)
        })
        .collect();
    status
}

/// Binds a pending claim to a (fictional) volume of the requested size.
pub fn bind_claim(cluster: &Cluster, ns: &str, name: &str) {
    let kind = kind_named("PersistentVolumeClaim");
    let Ok(claim) = cluster.store.get(kind, Some(ns), name) else {
        return;
    };
    if claim.pointer("/status/phase").and_then(Value::as_str) == Some("Bound")
        || crate::store::is_deleting(&claim)
    {
        return;
    }
    let volume = format!("pvc-{}", uid_of(&claim));
    let system = WriteContext::system();
    let _ = cluster
        .store
        .modify(kind, Some(ns), name, Subresource::Main, &system, |live| {
            let mut bound = live.clone();
            set(&mut bound, &["spec", "volumeName"], json!(volume));
            let annotation = ["metadata", "annotations", "pv.kubernetes.io/bind-completed"];
            set(&mut bound, &annotation, json!("yes"));
            Ok(bound)
        });
    let status = json!({
        "phase": "Bound",
        "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
        "capacity": {
            "storage": claim.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi")),
        },
    });
    write_status(cluster, kind, ns, name, status);
}

//! Simulated controllers and kubelet: what makes workloads progress in a cluster with no
//! nodes.
//!
//! One task follows the store's change feed and reconciles whatever an event touches,
//! writing through the same store API as clients. Reconciles compare before writing and
//! the store drops no-op writes, so the feedback loop (a write is itself an event)
//! settles. The feed drops nothing, so the task never has to reconcile everything to
//! catch up (which would cost a scan of every object in a cluster of thousands of
//! stores).

mod events;
mod helpers;
mod job;
mod kubelet;
mod resource_quota;
mod statefulset;
mod workloads;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::faults::FaultControl;
use crate::kinds::{self, KindId};
use crate::store::{Event, EventType, Store};

/// What every reconcile needs.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The objects.
    pub store: Arc<Store>,
    /// For the never-ready and failing-job faults.
    pub faults: FaultControl,
    /// Delay before pods become ready.
    pub ready_delay: Duration,
    /// What simulated programs leave behind.
    pub programs: Arc<crate::programs::Programs>,
    /// Namespaces where admission refused a controller's pod or claim since their last
    /// retry: only they have anything to retry when a quota, limit range or label changes.
    pub refused: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// Runs the controllers until `stopping` flips.
pub async fn run(
    store: Arc<Store>,
    faults: FaultControl,
    ready_delay: Duration,
    programs: crate::programs::Programs,
    mut stopping: watch::Receiver<bool>,
) {
    let mut events = store.follow();
    let cluster = Cluster {
        store,
        faults,
        ready_delay,
        programs: Arc::new(programs),
        refused: Arc::default(),
    };
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Some(event) => cluster.react(&event),
                None => return,
            },
            _ = stopping.changed() => return,
        }
    }
}

fn kind_named(name: &str) -> KindId {
    kinds::KINDS
        .iter()
        .position(|k| k.kind == name)
        .unwrap_or_else(kinds::namespace)
}

impl Cluster {
    fn react(&self, event: &Event) {
        let kind = kinds::get(event.kind).kind;
        let ns = event.namespace();
        let name = event.name();
        if kind == "Namespace" {
            if crate::store::is_deleting(&event.object) {
                self.store.finalize_namespace(name);
            } else if event.event_type == EventType::Modified {
                // New Pod Security labels may admit pods that were refused: real
                // controllers retry on a backoff; these retry when the namespace changes.
                self.retry_pod_creation(name);
            }
            return;
        }
        if self.namespace_terminating(ns) {
            self.store.finalize_namespace(ns);
            return;
        }
        if !ns.is_empty() {
            if resource_quota::may_change_usage(kind, event) {
                resource_quota::recount(self, event.kind, ns);
            }
            if matches!(kind, "ResourceQuota" | "LimitRange") {
                // More room (or new defaults) may admit pods that were refused: real
                // controllers retry on a backoff; these retry when quotas change.
                self.retry_pod_creation(ns);
            }
        }
        if event.event_type == EventType::Deleted && kind != "Pod" {
            return;
        }
        match kind {
            "Deployment" => workloads::reconcile_deployment(self, ns, name),
            "ReplicaSet" => workloads::reconcile_replicaset(self, ns, name),
            "StatefulSet" => statefulset::reconcile(self, ns, name),
            "Job" => job::reconcile(self, ns, name),
            "PersistentVolumeClaim" => kubelet::bind_claim(self, ns, name),
            "Pod" => {
                if event.event_type == EventType::Added {
                    kubelet::start_pod(self, ns, name);
                }
                self.reconcile_owner(&event.object);
            }
            _ => {}
        }
    }

    fn namespace_terminating(&self, ns: &str) -> bool {
        !ns.is_empty()
            && self
                .store
                .get(kinds::namespace(), None, ns)
                .is_ok_and(|n| crate::store::is_deleting(&n))
    }

    /// Reconciles the controller that owns `object`.
    fn reconcile_owner(&self, object: &serde_json::Value) {
        let ns = crate::store::namespace_of(object);
        match helpers::controller_of(object) {
            Some(("ReplicaSet", owner)) => workloads::reconcile_replicaset(self, ns, owner),
            Some(("StatefulSet", owner)) => statefulset::reconcile(self, ns, owner),
            Some(("Job", owner)) => job::reconcile(self, ns, owner),
            _ => {}
        }
    }

    /// Admission refused a pod or claim that `workload` creates: as the real controller,
    /// say so in a `FailedCreate` Event on the workload (reported by `component`), and
    /// mark its namespace as holding a workload to retry.
    pub fn failed_create(&self, workload: &serde_json::Value, component: &str, message: &str) {
        if let Ok(mut refused) = self.refused.lock() {
            refused.insert(crate::store::namespace_of(workload).to_owned());
        }
        events::warn(&self.store, workload, component, "FailedCreate", message);
    }

    /// Syncs again the workloads of `ns` if admission refused one of them (a refusal
    /// seen again marks the namespace again). Quotas change status with every pod that
    /// comes and goes, so retrying only where something was refused keeps that cheap.
    fn retry_pod_creation(&self, ns: &str) {
        let had_refusal = self
            .refused
            .lock()
            .is_ok_and(|mut refused| refused.remove(ns));
        if !had_refusal {
            return;
        }
        for kind in ["ReplicaSet", "StatefulSet", "Job"] {
            for object in self.store.objects_named(kind_named(kind), ns, "") {
                let name = crate::store::name_of(&object);
                match kind {
                    "ReplicaSet" => workloads::reconcile_replicaset(self, ns, name),
                    "StatefulSet" => statefulset::reconcile(self, ns, name),
                    _ => job::reconcile(self, ns, name),
                }
            }
        }
    }
}

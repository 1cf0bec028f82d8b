//! The wait step: watching a store's workloads until they are ready, and when they are
//! not, reading from the cluster why, in words a person can act on.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ListParams;
use kube::{Api, Resource as _};
use serde::de::DeserializeOwned;
use storeplane_blueprint::{ReadinessCheck, ReadinessKind};
use tokio::time::Instant;

use crate::apply::Applier;
use crate::watch::watch_until;

/// A workload did not become ready. `reason` is read from the cluster: a container's
/// waiting reason and message (`ImagePullBackOff: Back-off pulling image "..."`), a
/// Job's `Failed` condition, a Deployment's `ReplicaFailure` (a pod admission refused),
/// or what was last observed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {namespace}/{} is not ready: {reason}", kind_name(check.kind), check.name)]
pub struct NotReady {
    pub check: ReadinessCheck,
    pub namespace: String,
    pub reason: String,
    pub cause: NotReadyCause,
}

/// Why the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReadyCause {
    /// The workload failed for good (a Job's `Failed` condition).
    Failed,
    /// The timeout passed first.
    TimedOut,
    /// The watch itself failed (the API server was unreachable).
    Watch,
}

impl NotReady {
    /// True when waiting again may succeed: a timeout (pods may still come up) or a
    /// failed watch. A failed Job is permanent until the store is changed.
    pub fn is_transient(&self) -> bool {
        self.cause != NotReadyCause::Failed
    }
}

const fn kind_name(kind: ReadinessKind) -> &'static str {
    match kind {
        ReadinessKind::StatefulSet => "StatefulSet",
        ReadinessKind::Deployment => "Deployment",
        ReadinessKind::Job => "Job",
    }
}

impl Applier {
    /// Waits for every check in order, by watching each workload, within `timeout` for
    /// them all. A StatefulSet is ready when every replica is ready and updated, a
    /// Deployment when it is `Available` with its rollout observed, a Job when
    /// `Complete`; a Job's `Failed` condition ends the wait at once.
    ///
    /// Read-only; every await is a cancellation point.
    pub async fn wait_ready(
        &self,
        namespace: &str,
        checks: &[ReadinessCheck],
        timeout: Duration,
    ) -> Result<(), NotReady> {
        let deadline = Instant::now() + timeout;
        for check in checks {
            let not_ready = |cause, reason| NotReady {
                check: check.clone(),
                namespace: namespace.to_owned(),
                reason,
                cause,
            };
            let waited = match check.kind {
                ReadinessKind::StatefulSet => self
                    .watch_until::<StatefulSet>(namespace, &check.name, deadline, |s| {
                        stateful_set_ready(s)
                    })
                    .await
                    .map(|_| ()),
                ReadinessKind::Deployment => self
                    .watch_until::<Deployment>(namespace, &check.name, deadline, |d| {
                        deployment_ready(d)
                    })
                    .await
                    .map(|_| ()),
                ReadinessKind::Job => {
                    match self
                        .watch_until::<Job>(namespace, &check.name, deadline, |j| {
                            job_condition(j, "Complete").is_some()
                                || job_condition(j, "Failed").is_some()
                        })
                        .await
                    {
                        Ok(job) => match job.as_ref().and_then(|j| job_condition(j, "Failed")) {
                            Some(failed) => {
                                let reason = self.job_failure(namespace, &check.name, failed).await;
                                return Err(not_ready(NotReadyCause::Failed, reason));
                            }
                            None => Ok(()),
                        },
                        Err(error) => Err(error),
                    }
                }
            };
            match waited {
                Ok(()) => tracing::debug!(workload = %check.name, "ready"),
                Err(WaitFailed::TimedOut) => {
                    let reason = self.why_not_ready(namespace, check, timeout).await;
                    return Err(not_ready(NotReadyCause::TimedOut, reason));
                }
                Err(WaitFailed::Watch(error)) => {
                    return Err(not_ready(
                        NotReadyCause::Watch,
                        format!("failed to watch: {error}"),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn watch_until<K>(
        &self,
        namespace: &str,
        name: &str,
        deadline: Instant,
        ready: impl Fn(&K) -> bool,
    ) -> Result<Option<K>, WaitFailed>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug
            + Send
            + 'static,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        match tokio::time::timeout_at(deadline, watch_until(&api, name, ready)).await {
            Ok(Ok(object)) => Ok(Some(object)),
            Ok(Err(error)) => Err(WaitFailed::Watch(error.to_string())),
            Err(_elapsed) => Err(WaitFailed::TimedOut),
        }
    }

    /// The reason a workload is not ready, from its pods; best effort, since it runs
    /// after the wait has already failed.
    async fn why_not_ready(
        &self,
        namespace: &str,
        check: &ReadinessCheck,
        timeout: Duration,
    ) -> String {
        let waited = format!("not ready after {}s", timeout.as_secs());
        // A pod that admission refused (Pod Security, a quota) never exists; the
        // Deployment's controller says so in its `ReplicaFailure` condition.
        let mut replica_failure = None;
        let selector = match check.kind {
            ReadinessKind::StatefulSet => self
                .get::<StatefulSet>(namespace, &check.name)
                .await
                .map(|s| s.and_then(|s| s.spec.map(|spec| spec.selector))),
            ReadinessKind::Deployment => {
                self.get::<Deployment>(namespace, &check.name)
                    .await
                    .map(|d| {
                        d.and_then(|d| {
                            replica_failure = failed_create(&d);
                            d.spec.map(|spec| spec.selector)
                        })
                    })
            }
            ReadinessKind::Job => Ok(Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "batch.kubernetes.io/job-name".to_owned(),
                    check.name.clone(),
                )])),
                ..LabelSelector::default()
            })),
        };
        let selector = match selector {
            Ok(Some(selector)) => selector,
            Ok(None) => return format!("{} does not exist", check.name),
            Err(error) => return format!("{waited}; failed to read it: {error}"),
        };
        if let Some(problem) = self.pod_problem(namespace, &selector).await {
            return problem;
        }
        if let Some(failure) = replica_failure {
            return failure;
        }
        match self.failed_create_event(namespace, &check.name).await {
            Some(refusal) => refusal,
            None => waited,
        }
    }

    /// Why the workload's controller could not create its pods or claims (an admission
    /// refusal: Pod Security, quota, limit range), from the newest `FailedCreate` Event
    /// about it or its ReplicaSets (`<name>-<hash>`), as `kubectl describe` shows it.
    async fn failed_create_event(&self, namespace: &str, name: &str) -> Option<String> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let params = ListParams::default().fields("reason=FailedCreate");
        let events = events.list(&params).await.ok()?;
        let about = |e: &&Event| {
            e.involved_object.name.as_deref().is_some_and(|n| {
                n == name || n.strip_prefix(name).is_some_and(|r| r.starts_with('-'))
            })
        };
        events
            .items
            .iter()
            .filter(about)
            .max_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0))
            .map(|e| format!("FailedCreate: {}", e.message.as_deref().unwrap_or_default()))
    }

    async fn job_failure(&self, namespace: &str, name: &str, failed: JobCondition) -> String {
        let condition = format!(
            "{}: {}",
            failed.reason.unwrap_or_else(|| "Failed".to_owned()),
            failed.message.unwrap_or_default()
        );
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "batch.kubernetes.io/job-name".to_owned(),
                name.to_owned(),
            )])),
            ..LabelSelector::default()
        };
        match self.pod_problem(namespace, &selector).await {
            Some(problem) => format!("{condition} ({problem})"),
            None => condition,
        }
    }

    async fn get<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, kube::Error>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        Api::<K>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
    }

    /// The first container of the selected pods that is waiting, or terminated with a
    /// failure, as `pod/container: Reason: message`.
    async fn pod_problem(&self, namespace: &str, selector: &LabelSelector) -> Option<String> {
        let labels = selector
            .match_labels
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pods = pods
            .list(&ListParams::default().labels(&labels))
            .await
            .ok()?;
        pods.items.iter().find_map(|pod| {
            let status = pod.status.as_ref()?;
            let statuses = status
                .init_container_statuses
                .iter()
                .flatten()
                .chain(status.container_statuses.iter().flatten());
            for container in statuses {
                let state = container.state.as_ref();
                let (reason, message) =
                    if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
                        (waiting.reason.clone(), waiting.message.clone())
                    } else if let Some(done) = state
                        .and_then(|s| s.terminated.as_ref())
                        .filter(|t| t.exit_code != 0)
                    {
                        (done.reason.clone(), done.message.clone())
                    } else {
                        continue;
                    };
                let Some(reason) = reason else { continue };
                let pod_name = pod.meta().name.as_deref().unwrap_or_default();
                return Some(match message {
                    Some(message) => {
                        format!(
                            "{reason}: {message} (pod {pod_name}, container {})",
                            container.name
                        )
                    }
                    None => format!("{reason} (pod {pod_name}, container {})", container.name),
                });
            }
            // No container says why: a pod condition may (Unschedulable, for one).
            status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.status == "False" && c.reason.is_some())
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.reason.as_deref().unwrap_or_default(),
                        c.message.as_deref().unwrap_or_default()
                    )
                })
        })
    }
}

enum WaitFailed {
    TimedOut,
    Watch(String),
}

fn stateful_set_ready(set: &StatefulSet) -> bool {
    let (Some(spec), Some(status)) = (&set.spec, &set.status) else {
        return false;
    };
    let wanted = spec.replicas.unwrap_or(1);
    let observed = status.observed_generation.unwrap_or(0) >= set.metadata.generation.unwrap_or(0);
    let updated =
        status.update_revision.is_none() || status.current_revision == status.update_revision;
    observed && updated && status.ready_replicas.unwrap_or(0) >= wanted
}

fn deployment_ready(deployment: &Deployment) -> bool {
    let Some(status) = &deployment.status else {
        return false;
    };
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let observed =
        status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0);
    let available = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Available" && c.status == "True");
    observed && available && status.updated_replicas.unwrap_or(0) >= wanted
}

/// The Deployment's `ReplicaFailure` condition, as `Reason: message` (`FailedCreate: pods
/// "wordpress-..." is forbidden: violates PodSecurity ...`).
fn failed_create(deployment: &Deployment) -> Option<String> {
    let condition = deployment
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")?;
    Some(format!(
        "{}: {}",
        condition.reason.as_deref().unwrap_or("ReplicaFailure"),
        condition.message.as_deref().unwrap_or_default()
    ))
}

fn job_condition(job: &Job, type_: &str) -> Option<JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_ && c.status == "True")
        .cloned()
}

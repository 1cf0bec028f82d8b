//! Does a plan's quota hold the pods its engine builds? Computed from the built objects,
//! so it stays right whatever an engine adds.
//!
//! A pod is charged `max(sum of containers, largest init container)` for each resource,
//! as the scheduler and quota do:
//! <https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers>.

use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use storeplane_domain::Plan;

use crate::plan_size::{Compute, PlanSize};
use crate::quantity::{Bytes, Cpu};
use crate::{BuildError, Resource};

/// What a store's objects need from its quota at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footprint {
    pub requests: Compute,
    pub limits: Compute,
    pub pods: u32,
    pub persistent_volume_claims: u32,
    pub storage: Bytes,
}

impl Footprint {
    /// Adds up the pods and claims of `resources`.
    pub fn of<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> Self {
        let mut total = Self::default();
        for resource in resources {
            match resource {
                Resource::Deployment(d) => {
                    let spec = d.spec.as_ref();
                    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
                    total.add_pods(replicas, spec.and_then(|s| s.template.spec.as_ref()));
                }
                Resource::StatefulSet(s) => {
                    let spec = s.spec.as_ref();
                    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
                    total.add_pods(replicas, spec.and_then(|s| s.template.spec.as_ref()));
                    for claim in spec
                        .iter()
                        .flat_map(|s| s.volume_claim_templates.iter().flatten())
                    {
                        for _ in 0..replicas.max(0) {
                            total.add_claim(claim.spec.as_ref().and_then(|s| s.resources.as_ref()));
                        }
                    }
                }
                Resource::Job(j) => {
                    let spec = j.spec.as_ref();
                    let parallelism = spec.and_then(|s| s.parallelism).unwrap_or(1);
                    total.add_pods(parallelism, spec.and_then(|s| s.template.spec.as_ref()));
                }
                Resource::PersistentVolumeClaim(c) => {
                    total.add_claim(c.spec.as_ref().and_then(|s| s.resources.as_ref()));
                }
                _ => {}
            }
        }
        total
    }

    fn add_pods(&mut self, count: i32, pod: Option<&PodSpec>) {
        let count = u64::try_from(count).unwrap_or(0);
        let Some(pod) = pod else { return };
        let (requests, limits) = pod_charge(pod);
        self.pods += u32::try_from(count).unwrap_or(u32::MAX);
        self.requests.cpu.0 += requests.cpu.0 * count;
        self.requests.memory.0 += requests.memory.0 * count;
        self.limits.cpu.0 += limits.cpu.0 * count;
        self.limits.memory.0 += limits.memory.0 * count;
    }

    fn add_claim(
        &mut self,
        resources: Option<&k8s_openapi::api::core::v1::VolumeResourceRequirements>,
    ) {
        self.persistent_volume_claims += 1;
        let storage = resources
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(bytes)
            .unwrap_or_default();
        self.storage.0 += storage.0;
    }

    /// Fails with the first quota entry of `plan` that `self` exceeds.
    pub fn check_fits(&self, plan: Plan, size: &PlanSize) -> Result<(), BuildError> {
        let quota = &size.quota;
        let checks: [(&str, bool, String, String); 7] = [
            (
                "requests.cpu",
                self.requests.cpu <= quota.requests.cpu,
                self.requests.cpu.to_string(),
                quota.requests.cpu.to_string(),
            ),
            (
                "requests.memory",
                self.requests.memory <= quota.requests.memory,
                self.requests.memory.to_string(),
                quota.requests.memory.to_string(),
            ),
            (
                "limits.cpu",
                self.limits.cpu <= quota.limits.cpu,
                self.limits.cpu.to_string(),
                quota.limits.cpu.to_string(),
            ),
            (
                "limits.memory",
                self.limits.memory <= quota.limits.memory,
                self.limits.memory.to_string(),
                quota.limits.memory.to_string(),
            ),
            (
                "pods",
                self.pods <= quota.pods,
                self.pods.to_string(),
                quota.pods.to_string(),
            ),
            (
                "persistent_volume_claims",
                self.persistent_volume_claims <= quota.persistent_volume_claims,
                self.persistent_volume_claims.to_string(),
                quota.persistent_volume_claims.to_string(),
            ),
            (
                "storage",
                self.storage <= quota.storage,
                self.storage.to_string(),
                quota.storage.to_string(),
            ),
        ];
        match checks.into_iter().find(|(_, ok, _, _)| !ok) {
            Some((part, _, needed, allowed)) => Err(BuildError::PlanDoesNotFit {
                plan,
                field: format!("plans.{plan}.quota.{part}"),
                needed,
                allowed,
            }),
            None => Ok(()),
        }
    }
}

/// What one pod is charged: per resource, the larger of its containers' sum and its
/// largest init container.
pub fn pod_charge(pod: &PodSpec) -> (Compute, Compute) {
    let sum = |pick: fn(&ResourceRequirements) -> Compute| {
        pod.containers.iter().fold(Compute::default(), |acc, c| {
            let r = c.resources.as_ref().map(pick).unwrap_or_default();
            Compute::new(Cpu(acc.cpu.0 + r.cpu.0), Bytes(acc.memory.0 + r.memory.0))
        })
    };
    let init_max = |pick: fn(&ResourceRequirements) -> Compute| {
        pod.init_containers
            .iter()
            .flatten()
            .fold(Compute::default(), |acc, c| {
                let r = c.resources.as_ref().map(pick).unwrap_or_default();
                Compute::new(acc.cpu.max(r.cpu), acc.memory.max(r.memory))
            })
    };
    let charge = |pick: fn(&ResourceRequirements) -> Compute| {
        let (s, i) = (sum(pick), init_max(pick));
        Compute::new(s.cpu.max(i.cpu), s.memory.max(i.memory))
    };
    (charge(requests_of), charge(limits_of))
}

fn requests_of(r: &ResourceRequirements) -> Compute {
    compute(r.requests.as_ref())
}

fn limits_of(r: &ResourceRequirements) -> Compute {
    compute(r.limits.as_ref())
}

fn compute(map: Option<&std::collections::BTreeMap<String, Quantity>>) -> Compute {
    let get = |key: &str| map.and_then(|m| m.get(key));
    Compute::new(
        get("cpu")
            .and_then(|q| q.0.parse().ok())
            .unwrap_or_default(),
        get("memory").map(bytes).unwrap_or_default(),
    )
}

// Quantities here were written by this crate from `Cpu`/`Bytes`, so they always parse.
fn bytes(quantity: &Quantity) -> Bytes {
    quantity.0.parse().unwrap_or_default()
}

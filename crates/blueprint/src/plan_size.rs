//! How big each plan is: the quota and limit range of a store's namespace, and the size of
//! each container and volume a blueprint creates in it.
//!
//! Containers are sized by role (web, database, setup, and for engines that have them a
//! worker and a cache) rather than by engine, so a new engine reuses the table instead of
//! adding columns to it. Each engine has its own table of plans ([`PlanSizes::default`]
//! for WooCommerce, [`PlanSizes::medusa`] for Medusa): a Medusa store runs two Node.js
//! processes and needs more memory than WordPress.

use serde::{Deserialize, Serialize};
use storeplane_domain::Plan;

use crate::quantity::{Bytes, Cpu};

/// An amount of CPU and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compute {
    pub cpu: Cpu,
    pub memory: Bytes,
}

impl Compute {
    pub const fn new(cpu: Cpu, memory: Bytes) -> Self {
        Self { cpu, memory }
    }

    /// True when neither part exceeds `other`'s.
    pub fn fits_in(&self, other: &Compute) -> bool {
        self.cpu <= other.cpu && self.memory <= other.memory
    }
}

/// Requests and limits of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSize {
    pub requests: Compute,
    pub limits: Compute,
}

/// What the namespace's ResourceQuota allows in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSize {
    pub requests: Compute,
    pub limits: Compute,
    /// Pods in a non-terminal state (a finished setup Job's pod no longer counts).
    pub pods: u32,
    pub persistent_volume_claims: u32,
    /// Total storage requested by all claims.
    pub storage: Bytes,
}

/// What the namespace's LimitRange allows for any one container, and the defaults it
/// fills in for a container that states none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitRangeSize {
    pub min: Compute,
    pub max: Compute,
    pub default_request: Compute,
    pub default_limit: Compute,
}

/// Everything one plan decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSize {
    pub quota: QuotaSize,
    pub container: LimitRangeSize,
    /// The storefront's container (WordPress for WooCommerce, Medusa's server).
    pub web: ContainerSize,
    /// The database container (MariaDB for WooCommerce, PostgreSQL for Medusa).
    pub database: ContainerSize,
    /// The background worker (Medusa's); unset for an engine without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<ContainerSize>,
    /// The cache and queue (Redis for Medusa); unset for an engine without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<ContainerSize>,
    /// Every container of the one-off setup Job, init containers included.
    pub setup: ContainerSize,
    /// The storefront's volume (wp-content for WooCommerce, uploads for Medusa).
    pub web_storage: Bytes,
    pub database_storage: Bytes,
    /// The cache's volume (Redis's append-only file); unset for an engine without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_storage: Option<Bytes>,
    /// The claim that holds the store's checkpoints (compressed database dumps taken
    /// before a change that can migrate data); half of `database_storage` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_storage: Option<Bytes>,
}

impl PlanSize {
    /// The size of the checkpoints claim: `checkpoint_storage`, or half of
    /// `database_storage` (a gzip'd dump is a fraction of the data directory it comes
    /// from, so that holds several).
    pub fn checkpoint_storage(&self) -> Bytes {
        self.checkpoint_storage
            .unwrap_or(Bytes(self.database_storage.0 / 2))
    }
}

/// The size of every plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanSizes {
    pub small: PlanSize,
    pub medium: PlanSize,
    pub large: PlanSize,
}

impl PlanSizes {
    /// The size of `plan`.
    pub fn get(&self, plan: Plan) -> &PlanSize {
        match plan {
            Plan::Small => &self.small,
            Plan::Medium => &self.medium,
            Plan::Large => &self.large,
        }
    }

    /// The size of `plan`, to change it.
    pub fn get_mut(&mut self, plan: Plan) -> &mut PlanSize {
        match plan {
            Plan::Small => &mut self.small,
            Plan::Medium => &mut self.medium,
            Plan::Large => &mut self.large,
        }
    }
}

const fn compute(millicores: u64, mebibytes: u64) -> Compute {
    Compute::new(Cpu::millis(millicores), Bytes::mebi(mebibytes))
}

const fn container(requests: Compute, limits: Compute) -> ContainerSize {
    ContainerSize { requests, limits }
}

/// wp-cli loads WordPress and WooCommerce in one PHP process: it needs memory more than CPU.
const SETUP: ContainerSize = container(compute(100, 128), compute(500, 512));

impl Default for PlanSizes {
    fn default() -> Self {
        Self {
            small: PlanSize {
                quota: QuotaSize {
                    requests: compute(500, 1024),
                    limits: compute(2000, 2048),
                    pods: 6,
                    // Database, wp-content and checkpoints.
                    persistent_volume_claims: 3,
                    storage: Bytes::gibi(4),
                },
                container: LimitRangeSize {
                    min: compute(10, 32),
                    max: compute(1000, 1024),
                    default_request: compute(100, 128),
                    default_limit: compute(250, 256),
                },
                web: container(compute(100, 256), compute(500, 512)),
                database: container(compute(100, 256), compute(500, 512)),
                setup: SETUP,
                worker: None,
                cache: None,
                web_storage: Bytes::gibi(1),
                database_storage: Bytes::gibi(2),
                cache_storage: None,
                checkpoint_storage: None,
            },
            medium: PlanSize {
                quota: QuotaSize {
                    requests: compute(1000, 2048),
                    limits: compute(4000, 4096),
                    pods: 8,
                    // Database, wp-content and checkpoints.
                    persistent_volume_claims: 3,
                    storage: Bytes::gibi(20),
                },
                container: LimitRangeSize {
                    min: compute(10, 32),
                    max: compute(2000, 2048),
                    default_request: compute(100, 128),
                    default_limit: compute(500, 512),
                },
                web: container(compute(250, 512), compute(1000, 1024)),
                database: container(compute(250, 512), compute(1000, 1024)),
                setup: SETUP,
                worker: None,
                cache: None,
                web_storage: Bytes::gibi(5),
                database_storage: Bytes::gibi(10),
                cache_storage: None,
                checkpoint_storage: None,
            },
            large: PlanSize {
                quota: QuotaSize {
                    requests: compute(2000, 4096),
                    limits: compute(8000, 8192),
                    pods: 10,
                    // Database, wp-content and checkpoints.
                    persistent_volume_claims: 3,
                    storage: Bytes::gibi(100),
                },
                container: LimitRangeSize {
                    min: compute(10, 32),
                    max: compute(4000, 8192),
                    default_request: compute(100, 128),
                    default_limit: compute(500, 512),
                },
                web: container(compute(500, 1024), compute(2000, 2048)),
                database: container(compute(500, 1024), compute(2000, 4096)),
                setup: SETUP,
                worker: None,
                cache: None,
                web_storage: Bytes::gibi(20),
                database_storage: Bytes::gibi(50),
                cache_storage: None,
                checkpoint_storage: None,
            },
        }
    }
}

/// Medusa's setup runs `medusa db:migrate` and a bootstrap under `medusa exec`, each of
/// which loads the whole application (one Node.js process of about 300 MB).
const MEDUSA_SETUP: ContainerSize = container(compute(100, 512), compute(1000, 1024));

impl PlanSizes {
    /// Medusa's plans. Medusa runs as two Node.js processes (the HTTP server with the
    /// admin, and the worker), beside PostgreSQL and Redis; the server's and worker's sizes
    /// come from running them (the figures are in the README).
    pub fn medusa() -> Self {
        let plan = |scale: u64, pods: u32, storage: (u64, u64, u64)| {
            let (uploads, database, cache) = storage;
            PlanSize {
                quota: QuotaSize {
                    requests: compute(1000 * scale, 3072 * scale),
                    limits: compute(5000 * scale, 5120 * scale),
                    pods,
                    // PostgreSQL, Redis, uploads and checkpoints.
                    persistent_volume_claims: 4,
                    storage: Bytes::gibi(uploads + database + cache + database / 2 + 1),
                },
                container: LimitRangeSize {
                    min: compute(10, 32),
                    max: compute(1000 * scale, 1024 * scale),
                    default_request: compute(100, 128),
                    default_limit: compute(250, 256),
                },
                web: container(
                    compute(250 * scale, 512 * scale),
                    compute(1000 * scale, 1024 * scale),
                ),
                worker: Some(container(
                    compute(100 * scale, 384 * scale),
                    compute(500 * scale, 768 * scale),
                )),
                database: container(
                    compute(100 * scale, 256 * scale),
                    compute(500 * scale, 512 * scale),
                ),
                cache: Some(container(
                    compute(50, 64 * scale),
                    compute(250 * scale, 256 * scale),
                )),
                setup: MEDUSA_SETUP,
                web_storage: Bytes::gibi(uploads),
                database_storage: Bytes::gibi(database),
                cache_storage: Some(Bytes::gibi(cache)),
                checkpoint_storage: None,
            }
        };
        Self {
            small: plan(1, 8, (1, 2, 1)),
            medium: plan(2, 10, (5, 10, 2)),
            large: plan(4, 12, (20, 50, 4)),
        }
    }
}

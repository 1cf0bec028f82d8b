//! [`Blueprint`]: validated settings in, one store's complete and ordered objects out.

use std::fmt;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use storeplane_domain::{Engine, ReleaseName, StoreId, StoreSpec};

use crate::engine::{
    Checkpoint, CredentialsRef, EnginePaths, EngineResources, OutputsRef, ReadinessCheck,
    StepResources, StoreContext, StoreUrls, blueprint_for,
};
use crate::fit::Footprint;
use crate::secrets::{SecretRequirement, StoreSecrets};
use crate::settings::{PlatformSettings, ValidatedSettings};
use crate::{BuildError, Resource, fence};

/// Builds stores from settings validated once, at start-up.
#[derive(Debug, Clone)]
pub struct Blueprint {
    settings: ValidatedSettings,
}

/// Everything one store is: its objects, one field per object or group, and what the
/// worker needs to wait for it and hand it over. Secret data is hidden from `Debug`.
#[derive(Clone, PartialEq)]
pub struct StoreResources {
    pub namespace: Namespace,
    pub resource_quota: ResourceQuota,
    pub limit_range: LimitRange,
    pub default_deny: NetworkPolicy,
    pub allow_dns: NetworkPolicy,
    /// Admits the ingress controller to cert-manager's HTTP-01 solver pods, when an
    /// issuer is configured.
    pub allow_http01_solver: Option<NetworkPolicy>,
    pub engine: EngineResources,
    /// The workloads to wait for, in order, before the store is ready.
    pub readiness: Vec<ReadinessCheck>,
    pub urls: StoreUrls,
    pub credentials: CredentialsRef,
}

impl StoreResources {
    /// The objects in apply order: namespace; quota, limits and policies; secrets;
    /// database; app; setup job; front door (HTTPRoute or Ingress). Policies precede every
    /// pod so no pod ever runs unfenced, and the front door comes last so no traffic
    /// arrives before the shop exists.
    pub fn ordered(&self) -> Vec<Resource> {
        self.clone().into_ordered()
    }

    /// [`StoreResources::ordered`], consuming `self`.
    pub fn into_ordered(self) -> Vec<Resource> {
        // Destructured without `..`: an object added to the struct but not here fails to
        // compile rather than silently never being applied.
        let Self {
            namespace,
            resource_quota,
            limit_range,
            default_deny,
            allow_dns,
            allow_http01_solver,
            engine,
            readiness: _,
            urls: _,
            credentials: _,
        } = self;
        [
            Resource::from(namespace),
            resource_quota.into(),
            limit_range.into(),
            default_deny.into(),
            allow_dns.into(),
        ]
        .into_iter()
        .chain(allow_http01_solver.map(Resource::from))
        .chain(engine.ordered())
        .collect()
    }

    /// The label selector that finds every object of the store, for pruning.
    pub fn selector(store: StoreId) -> String {
        crate::labels::store_selector(store)
    }
}

impl fmt::Debug for StoreResources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreResources")
            .field("objects", &self.ordered())
            .field("readiness", &self.readiness)
            .field("urls", &self.urls)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Blueprint {
    /// Validates `settings`; the error names the setting at fault.
    pub fn new(settings: PlatformSettings) -> Result<Self, BuildError> {
        Ok(Self {
            settings: settings.validate()?,
        })
    }

    /// The settings every store is built with.
    pub fn settings(&self) -> &ValidatedSettings {
        &self.settings
    }

    /// The secret values a store of `engine` needs; the worker generates these once.
    pub fn secret_requirements(engine: Engine) -> Result<&'static [SecretRequirement], BuildError> {
        Ok(blueprint_for(engine)?.secret_requirements())
    }

    /// Where a store of `engine` keeps its initial admin credentials.
    pub fn credentials(engine: Engine) -> Result<CredentialsRef, BuildError> {
        Ok(blueprint_for(engine)?.credentials())
    }

    /// The release a store of `spec` runs: its own, or its engine's default. Fails with
    /// [`BuildError::UnknownRelease`] when the catalog has no such release.
    pub fn release(&self, spec: &StoreSpec) -> Result<ReleaseName, BuildError> {
        self.settings
            .catalog()
            .resolve(spec.engine, spec.release.as_ref())
    }

    /// Where the pages of a store of `engine` are, below its base URL.
    pub fn paths(engine: Engine) -> Result<EnginePaths, BuildError> {
        Ok(blueprint_for(engine)?.paths())
    }

    /// The public values a store of `engine` publishes from its setup, if any.
    pub fn outputs(engine: Engine) -> Result<Option<OutputsRef>, BuildError> {
        Ok(blueprint_for(engine)?.outputs())
    }

    /// Builds every object of store `id`. Pure: the same inputs give the same objects.
    ///
    /// The images and versions come from the store's release (`spec.release`, or the
    /// catalog's default for its engine when `None`), so editing the catalog's default
    /// never changes a store pinned to another release.
    ///
    /// Fails when the release is not in the catalog, when a secret is missing or
    /// malformed, or when the plan's quota cannot hold the pods and volumes the engine
    /// needs.
    pub fn build(
        &self,
        id: StoreId,
        spec: &StoreSpec,
        secrets: &StoreSecrets,
    ) -> Result<StoreResources, BuildError> {
        let engine = blueprint_for(spec.engine)?;
        let release = self.release(spec)?;
        secrets.check(engine.secret_requirements())?;
        let store = StoreContext {
            id,
            spec,
            settings: &self.settings,
            release: &release,
        };
        let resources = StoreResources {
            namespace: fence::namespace(&store),
            resource_quota: fence::resource_quota(&store),
            limit_range: fence::limit_range(&store),
            default_deny: fence::default_deny(&store),
            allow_dns: fence::allow_dns(&store),
            allow_http01_solver: fence::allow_http01_solver(&store),
            engine: engine.build(&store, secrets)?,
            readiness: engine.readiness(&store),
            urls: engine.paths().urls(&store.base_url()),
            credentials: engine.credentials(),
        };
        Footprint::of(&resources.ordered()).check_fits(spec.plan, store.plan())?;
        Ok(resources)
    }
}

/// How long a finished step Job (and its pod, with its log) stays before the cluster
/// deletes it, so a store's namespace does not fill with Jobs of past revisions. Every
/// step is idempotent and keyed by its revision, so a step applied again after its Job
/// was deleted does nothing twice (a restore marks itself done beside the checkpoint).
pub const STEP_JOB_TTL_SECONDS: i32 = 86_400;

/// One of an engine's steps, to build for a store.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Dump the database before revision `revision` is applied.
    Checkpoint { revision: u32 },
    /// Migrate the data to the release of revision `revision`.
    Upgrade { revision: u32 },
    /// Restore `checkpoint` for (rollback) revision `revision`.
    Restore {
        revision: u32,
        checkpoint: &'a Checkpoint,
    },
    /// Set the admin password from the admin Secret, for the `generation`th reset.
    ResetAdminPassword { generation: u32 },
    /// Back the store up into its repository (see [`crate::backup`]).
    Backup(crate::BackupRequest<'a>),
    /// Restore a backup in place, for the revision that restores it.
    RestoreBackup(crate::RestoreRequest<'a>),
    /// Give a store made from a backup of store `from` (its spec) its own address in the
    /// restored data, for the revision that restored it. Built only for an engine that
    /// has such a step ([`Blueprint::has_rehome`]).
    Rehome { revision: u32, from: &'a StoreSpec },
}

impl Blueprint {
    /// Builds `step` for store `id` of `spec` (the spec the store runs while the step
    /// runs: see [`crate::EngineBlueprint`]). Pure and keyed by the revision or generation, so
    /// building and applying the same step twice changes nothing.
    ///
    /// Fails when the release is not in the catalog, or when the store's objects and the
    /// step's (its pod at its limits beside every other pod, its claim) do not fit the
    /// plan's quota: a plan needs room for the checkpoints claim.
    pub fn step(
        &self,
        id: StoreId,
        spec: &StoreSpec,
        step: Step<'_>,
    ) -> Result<StepResources, BuildError> {
        let engine = blueprint_for(spec.engine)?;
        let release = self.release(spec)?;
        let store = StoreContext {
            id,
            spec,
            settings: &self.settings,
            release: &release,
        };
        let mut resources = match step {
            Step::Checkpoint { revision } => engine.checkpoint(&store, revision)?,
            Step::Upgrade { revision } => engine.upgrade(&store, revision)?,
            Step::Restore {
                revision,
                checkpoint,
            } => engine.restore(&store, revision, checkpoint)?,
            Step::ResetAdminPassword { generation } => {
                engine.reset_admin_password(&store, generation)?
            }
            Step::Backup(request) => {
                // The engine's dump, as before an upgrade; its Job's name is not used.
                let checkpoint = engine.checkpoint(&store, 0)?;
                let files = engine.files(&store)?;
                crate::backup::backup(&store, &request, checkpoint, &files)?
            }
            Step::Rehome { revision, from } => {
                let from_url = self.settings.base_url(&from.name);
                engine
                    .rehome(&store, revision, &from_url)?
                    .ok_or(BuildError::Step {
                        step: "rehome",
                        reason: "the engine's data holds no address to rewrite",
                    })?
            }
            Step::RestoreBackup(request) => {
                // The engine's loader, given where the fetched dump lands.
                let dump = engine.checkpoint(&store, 0)?;
                let from = Checkpoint {
                    job: String::new(),
                    claim: String::new(),
                    path: crate::backup::fetched_dump(&dump.job),
                };
                let restore = engine.restore(&store, request.revision, &from)?;
                let files = engine.files(&store)?;
                crate::backup::restore(&store, &request, restore, &files)?
            }
        };
        if let Some(job) = resources.job.spec.as_mut() {
            job.ttl_seconds_after_finished = Some(STEP_JOB_TTL_SECONDS);
        }
        let placeholders = StoreSecrets::placeholders(engine.secret_requirements());
        let mut objects = self.build(id, spec, &placeholders)?.into_ordered();
        objects.extend(resources.ordered());
        Footprint::of(&objects).check_fits(spec.plan, store.plan())?;
        Ok(resources)
    }
}

impl Blueprint {
    /// Runs `f` with store `id` of `spec`'s engine and context (its release resolved).
    fn with_store<T>(
        &self,
        id: StoreId,
        spec: &StoreSpec,
        f: impl FnOnce(&dyn crate::EngineBlueprint, &StoreContext<'_>) -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let engine = blueprint_for(spec.engine)?;
        let release = self.release(spec)?;
        let store = StoreContext {
            id,
            spec,
            settings: &self.settings,
            release: &release,
        };
        f(engine, &store)
    }

    /// Whether `spec`'s engine rewrites the address in data restored from another store
    /// ([`Step::Rehome`]).
    pub fn has_rehome(&self, id: StoreId, spec: &StoreSpec) -> Result<bool, BuildError> {
        self.with_store(id, spec, |engine, store| {
            Ok(engine.rehome(store, 0, "")?.is_some())
        })
    }

    /// The maintenance page store `id` of `spec` shows while a backup is restored into it
    /// (see [`crate::parts::maintenance_page`]), and what to wait for before its web pods
    /// go. It takes the web pods' place, which are scaled to nothing meanwhile, so it needs
    /// no room in the quota beyond theirs.
    pub fn maintenance_page(
        &self,
        id: StoreId,
        spec: &StoreSpec,
    ) -> Result<(Resource, ReadinessCheck), BuildError> {
        self.with_store(id, spec, |engine, store| {
            Ok((
                crate::parts::maintenance_page::maintenance_page(store, engine.web_port()),
                crate::parts::maintenance_page::readiness(),
            ))
        })
    }
}

/// Validates `settings` and builds store `id` in one call; a long-running process should
/// hold a [`Blueprint`] instead and validate once.
pub fn build(
    id: StoreId,
    spec: &StoreSpec,
    settings: PlatformSettings,
    secrets: &StoreSecrets,
) -> Result<StoreResources, BuildError> {
    Blueprint::new(settings)?.build(id, spec, secrets)
}

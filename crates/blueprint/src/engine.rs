//! The engine abstraction: what every e-commerce engine tells storeplane about a store —
//! its objects, how to tell it is ready, its URLs, where its first credentials live.
//!
//! WooCommerce and Medusa implement it. A new engine is a module of its own plus one
//! arm in [`blueprint_for`]; the apply engine, the worker and the API only ever see the
//! types in this file.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use storeplane_domain::{Engine, ReleaseName, StoreId, StoreSpec};

use crate::labels::{self, Component};
use crate::plan_size::PlanSize;
use crate::secrets::{SecretRequirement, StoreSecrets};
use crate::settings::ValidatedSettings;
use crate::{BuildError, Resource, medusa, woocommerce};

/// Everything a builder may look at: the store's identity and spec, the validated
/// platform settings, and the release the store runs.
#[derive(Debug, Clone, Copy)]
pub struct StoreContext<'a> {
    pub id: StoreId,
    pub spec: &'a StoreSpec,
    pub settings: &'a ValidatedSettings,
    /// The store's release: its spec's, or the engine's default when the spec names none.
    /// Checked to be in the catalog before a builder runs.
    pub release: &'a ReleaseName,
}

impl StoreContext<'_> {
    /// The store's namespace.
    pub fn namespace(&self) -> String {
        self.id.namespace()
    }

    /// The host the store is served at: `<name>.<base domain>`.
    pub fn host(&self) -> String {
        format!("{}.{}", self.spec.name, self.settings.base_domain)
    }

    /// The storefront's URL.
    pub fn base_url(&self) -> String {
        self.settings.base_url(&self.spec.name)
    }

    /// The shop's title: the spec's, or the store's name.
    pub fn title(&self) -> &str {
        self.spec
            .title
            .as_ref()
            .map_or(self.spec.name.as_str(), |t| t.as_str())
    }

    /// The size of the store's plan, for its engine.
    pub fn plan(&self) -> &PlanSize {
        self.settings
            .plans_for(self.spec.engine)
            .get(self.spec.plan)
    }

    /// The store's labels plus `component`, for objects and pod templates.
    pub fn labels(&self, component: Component) -> BTreeMap<String, String> {
        let mut labels = labels::store_labels(self.id);
        labels.insert(labels::COMPONENT.to_owned(), component.as_str().to_owned());
        labels
    }

    /// Metadata of an object named `name` in the store's namespace.
    pub fn metadata(&self, name: &str, component: Component) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace()),
            labels: Some(self.labels(component)),
            ..ObjectMeta::default()
        }
    }
}

/// A workload the store waits for, in the order given, before it is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessCheck {
    pub kind: ReadinessKind,
    /// The object's name in the store's namespace.
    pub name: String,
}

/// What "ready" means for each kind of workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessKind {
    /// Every replica ready and updated (`status.readyReplicas == spec.replicas`, current
    /// revision == update revision).
    StatefulSet,
    /// The `Available` condition is true and the rollout is complete.
    Deployment,
    /// The `Complete` condition is true; `Failed` is a terminal failure.
    Job,
}

/// Where a store is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrls {
    /// The store's public face: the storefront, or the API a storefront is built on.
    pub storefront: String,
    pub admin: String,
    /// What provisioning requests last, through the front door, to tell the store answers.
    pub probe: String,
}

/// Where an engine's pages are, below a store's base URL (`http://<name>.<base domain>`).
/// The same for every store of the engine, so the API can show any store's URLs without
/// building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnginePaths {
    /// The store's public face (`/` for a storefront, `/store` for a Store API).
    pub storefront: &'static str,
    /// The admin pages.
    pub admin: &'static str,
    /// An address that answers `200` once the store serves requests.
    pub probe: &'static str,
}

impl EnginePaths {
    /// The URLs of a store whose base URL is `base`.
    pub fn urls(&self, base: &str) -> StoreUrls {
        StoreUrls {
            storefront: format!("{base}{}", self.storefront),
            admin: format!("{base}{}", self.admin),
            probe: format!("{base}{}", self.probe),
        }
    }
}

/// Public values an engine's setup produces inside the cluster (Medusa's publishable API
/// key, say), which storeplane records and shows with the store. The setup Job's
/// `container` writes them as one JSON object to its termination message
/// (`/dev/termination-log`), which the kubelet copies into the pod's status: storeplane
/// reads them there, so the Job needs no Kubernetes credentials. Only `keys` are kept;
/// nothing confidential may be published this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputsRef {
    /// The Job, in the store's namespace.
    pub job: &'static str,
    pub container: &'static str,
    pub keys: &'static [&'static str],
}

/// The claim that holds a store's files (WordPress's `wp-content`, Medusa's uploads), as
/// the store's pods mount it, which a backup copies beside the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreFiles {
    pub claim: &'static str,
    /// Where the store's pods mount it; a backup pod mounts it at the same path, so a
    /// restore puts the files back where they were.
    pub path: &'static str,
    /// The user that owns the files, which a backup reads them as.
    pub uid: i64,
    /// The pods that mount it (ReadWriteOnce: a backup pod runs on their node).
    pub component: Component,
}

/// Where a store's initial admin credentials live, for the reveal-once endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialsRef {
    /// The Secret's name in the store's namespace.
    pub secret: &'static str,
    pub username_key: &'static str,
    pub password_key: &'static str,
}

/// An engine's objects, grouped by apply phase (see [`crate::StoreResources::ordered`]).
#[derive(Clone, Default, PartialEq)]
pub struct EngineResources {
    /// Allow rules on top of the store's default-deny and DNS policies.
    pub network_policies: Vec<NetworkPolicy>,
    pub secrets: Vec<Secret>,
    pub database: Vec<Resource>,
    pub app: Vec<Resource>,
    pub setup: Vec<Resource>,
    /// The way in from outside the cluster: an HTTPRoute or an Ingress.
    pub front_door: Vec<Resource>,
}

impl EngineResources {
    /// The objects in apply order.
    pub fn ordered(self) -> impl Iterator<Item = Resource> {
        let Self {
            network_policies,
            secrets,
            database,
            app,
            setup,
            front_door,
        } = self;
        network_policies
            .into_iter()
            .map(Resource::from)
            .chain(secrets.into_iter().map(Resource::from))
            .chain(database)
            .chain(app)
            .chain(setup)
            .chain(front_door)
    }
}

impl fmt::Debug for EngineResources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Through `Resource`, whose Debug hides Secret data.
        f.debug_list().entries(self.clone().ordered()).finish()
    }
}

/// Where a checkpoint is kept: what a revision records of the checkpoint taken before it
/// was applied, and what [`EngineBlueprint::restore`] reads back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The Job that took it, in the store's namespace.
    pub job: String,
    /// The claim that holds it, in the store's namespace.
    pub claim: String,
    /// The file, as the step's pods mount the claim (`/checkpoints/r<N>.sql.gz`).
    pub path: String,
}

impl Checkpoint {
    /// The file's name without its extensions (`r2`), which a restore's done-marker names
    /// so that restoring another checkpoint under the same Job name is not taken as done.
    pub fn stem(&self) -> &str {
        self.path
            .rsplit('/')
            .next()
            .and_then(|file| file.split('.').next())
            .unwrap_or_default()
    }
}

/// The objects of one engine step (a checkpoint, an upgrade, a restore, a password
/// reset): network policies and a claim where the step needs them, and the Job to wait
/// for. Every object is named by the revision (or generation) it serves, so applying the
/// same step twice changes nothing, and carries the [`crate::labels::STEP`] label, so
/// applying the store never prunes it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResources {
    /// Allow rules for the step's pods, on top of the store's default deny and DNS.
    pub network_policies: Vec<NetworkPolicy>,
    /// Secrets the step brings (a backup's repository key), applied before its Job.
    pub secrets: Vec<Secret>,
    /// The checkpoints claim, for a checkpoint.
    pub claim: Option<PersistentVolumeClaim>,
    pub job: Job,
    /// Where the checkpoint goes, for a checkpoint.
    pub checkpoint: Option<Checkpoint>,
}

impl StepResources {
    /// The objects in apply order: policies, Secrets, claim, Job (no pod before its
    /// fences, nor before what it reads).
    pub fn ordered(&self) -> Vec<Resource> {
        let Self {
            network_policies,
            secrets,
            claim,
            job,
            checkpoint: _,
        } = self.clone();
        network_policies
            .into_iter()
            .map(Resource::from)
            .chain(secrets.into_iter().map(Resource::from))
            .chain(claim.map(Resource::from))
            .chain([Resource::from(job)])
            .collect()
    }

    /// What to wait for: the step's Job to complete.
    pub fn readiness(&self) -> ReadinessCheck {
        ReadinessCheck {
            kind: ReadinessKind::Job,
            name: self.job.metadata.name.clone().unwrap_or_default(),
        }
    }
}

/// What an engine provides. Implementations are pure: no client, clock or randomness.
///
/// The steps (checkpoint, upgrade, restore, password reset) are built for the store as it
/// runs when the step runs: a checkpoint before a release change uses the spec being left
/// (its database image dumps its own data), an upgrade the spec being applied.
pub trait EngineBlueprint: fmt::Debug + Send + Sync {
    /// The engine this blueprint builds.
    fn engine(&self) -> Engine;

    /// The secret values [`EngineBlueprint::build`] needs; checked before it is called.
    fn secret_requirements(&self) -> &'static [SecretRequirement];

    /// The engine's objects for one store.
    fn build(
        &self,
        store: &StoreContext<'_>,
        secrets: &StoreSecrets,
    ) -> Result<EngineResources, BuildError>;

    /// The workloads to wait for, in order.
    fn readiness(&self, store: &StoreContext<'_>) -> Vec<ReadinessCheck>;

    /// Where the store's pages are, below its base URL.
    fn paths(&self) -> EnginePaths;

    /// Where the initial admin credentials are kept.
    fn credentials(&self) -> CredentialsRef;

    /// The public values the engine's setup publishes, if it publishes any.
    fn outputs(&self) -> Option<OutputsRef> {
        None
    }

    /// A Job that dumps the store's database, consistently and compressed, to the
    /// checkpoints claim (created with it), for revision `revision`.
    fn checkpoint(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
    ) -> Result<StepResources, BuildError>;

    /// The claim of the store's files, which backups copy beside the database.
    fn files(&self, store: &StoreContext<'_>) -> Result<StoreFiles, BuildError>;

    /// The named port of the store's web Service and the number its pods listen on, which
    /// the maintenance page takes over while a backup is restored.
    fn web_port(&self) -> (&'static str, i32);

    /// A Job that migrates the store's data to its release (idempotent), for revision
    /// `revision`.
    fn upgrade(&self, store: &StoreContext<'_>, revision: u32)
    -> Result<StepResources, BuildError>;

    /// A Job that restores `checkpoint` into the store's database, for revision
    /// `revision` (the rollback that needs it). Everything written since is lost.
    fn restore(
        &self,
        store: &StoreContext<'_>,
        revision: u32,
        checkpoint: &Checkpoint,
    ) -> Result<StepResources, BuildError>;

    /// A Job that gives a store made from another store's backup its own address in the
    /// restored data (the source was served at `from_url`), for revision `revision`; `None`
    /// for an engine whose data holds no URL of its own.
    fn rehome(
        &self,
        _store: &StoreContext<'_>,
        _revision: u32,
        _from_url: &str,
    ) -> Result<Option<StepResources>, BuildError> {
        Ok(None)
    }

    /// A Job that sets the admin password to the one in the store's admin Secret, for the
    /// `generation`th reset. The password reaches it only through the environment.
    fn reset_admin_password(
        &self,
        store: &StoreContext<'_>,
        generation: u32,
    ) -> Result<StepResources, BuildError>;
}

/// The blueprint of `engine`.
pub fn blueprint_for(engine: Engine) -> Result<&'static dyn EngineBlueprint, BuildError> {
    match engine {
        Engine::WooCommerce => Ok(&woocommerce::WooCommerce),
        Engine::Medusa => Ok(&medusa::Medusa),
    }
}

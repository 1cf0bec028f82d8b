//! storeplane's blueprints: what one store is, as Kubernetes objects.
//!
//! The provisioning pipeline is validate -> build -> apply -> wait -> verify. This crate
//! is the build step and it needs no client: a validated [`StoreSpec`] and
//! [`PlatformSettings`] plus the store's [`StoreSecrets`] go in; the complete, ordered set
//! of typed k8s-openapi objects comes out as [`StoreResources`]. It never reads the clock
//! or a random source, so the same inputs always give the same objects, which the golden
//! tests pin down.
//!
//! # Design
//!
//! - **Validated once.** [`PlatformSettings::validate`] returns [`ValidatedSettings`], the
//!   only form builders accept; [`Blueprint::new`] does it at start-up. A setting that is
//!   wrong, or a plan whose quota cannot hold its pods, is a [`BuildError`] naming the
//!   field.
//! - **Engines are data plus one trait.** [`EngineBlueprint`] says what objects an engine
//!   needs, which workloads must be ready ([`ReadinessCheck`]), its URLs and where its
//!   admin credentials live ([`CredentialsRef`]), and what public values its setup
//!   publishes ([`OutputsRef`]). WooCommerce implements it in `woocommerce/` and Medusa in
//!   `medusa/`, one Kubernetes kind per file; another engine is another module and one arm
//!   in [`engine::blueprint_for`]. What engines build alike (claims, Services, allow rules,
//!   the front door) is in `parts/`.
//! - **Fenced first.** Every store gets the engine-independent objects of `fence/`: a
//!   namespace with Pod Security labels, a quota and limit range from the plan, a
//!   default-deny network policy and DNS egress to kube-dns only. Engines only add allow
//!   rules, and their peers are same-namespace pods or a namespace named by its
//!   `kubernetes.io/metadata.name` label, never "any namespace".
//! - **One front door.** [`FrontDoor`] picks how requests arrive: an [`HTTPRoute`] on the
//!   platform's Gateway (the default) or an Ingress. Only that front door's namespace
//!   (the Gateway's data plane or the ingress controller) may reach the web pod.
//! - **Ordered and labelled.** [`StoreResources::ordered`] yields [`Resource`]s in apply
//!   order; every object carries `app.kubernetes.io/managed-by=storeplane`,
//!   `app.kubernetes.io/part-of=storeplane`, `storeplane.io/store-id` and a component
//!   label, so the apply engine can prune by label. [`Resource::apply_mode`] marks
//!   Secrets create-if-absent: their values are generated once and never replaced.
//! - **Secrets are inputs.** Each engine lists its [`SecretRequirement`]s; the worker
//!   generates them with a CSPRNG (or reads them back from the cluster) and passes them
//!   in. They reach pods only through `secretKeyRef`, never a command line, and
//!   `Debug` output of secrets and Secret objects shows keys only.
//! - **Rendered deterministically.** [`to_yaml`] writes the multi-document YAML;
//!   [`Manifest::of`] the same with every Secret's data replaced by a placeholder, and its
//!   digest: what `storeplane render` prints and a revision records.
//! - **Pinned by release.** Images and versions come from the store's release in the
//!   platform's [`ReleaseCatalog`], never from a setting every store shares, so editing
//!   the catalog changes no running store. [`Blueprint::platform_digest`] is the digest of
//!   the settings a store is rendered with.
//! - **Steps are engine methods.** What a change does to a store's data (a checkpoint, an
//!   upgrade, a restore, an admin password reset) is an [`EngineBlueprint`] method
//!   returning a [`StepResources`] keyed by revision; [`Blueprint::step`] builds one and
//!   checks it fits the plan. Their objects carry `storeplane.io/step`, which the store's
//!   prune selector excludes, so applying a store never deletes a checkpoint.

mod backup;
pub mod engine;
mod error;
mod fence;
mod fit;
mod http_route;
pub mod labels;
mod manifest;
mod medusa;
mod parts;
mod plan_size;
mod pod;
pub mod quantity;
mod render;
mod resource;
mod secrets;
mod settings;
mod woocommerce;

mod blueprint;

pub use backup::{
    BackupRequest, BackupSecrets, CONTAINER as BACKUP_CONTAINER, KEY as BACKUP_KEY,
    RESTORE_KEY_SECRET, RestoreRequest, S3Credentials, key_objects as backup_key_objects,
    key_secret_name as backup_key_secret,
};
pub use blueprint::{Blueprint, STEP_JOB_TTL_SECONDS, Step, StoreResources, build};
pub use engine::{
    Checkpoint, CredentialsRef, EngineBlueprint, EnginePaths, EngineResources, OutputsRef,
    ReadinessCheck, ReadinessKind, StepResources, StoreContext, StoreFiles, StoreUrls,
};
pub use error::{BuildError, RenderError};
pub use fit::{Footprint, pod_charge};
pub use http_route::{
    HTTPBackendRef, HTTPPathMatch, HTTPRoute, HTTPRouteMatch, HTTPRouteRule, HTTPRouteSpec,
    ParentReference,
};
pub use manifest::{Manifest, ManifestError, Rendered, SECRET_PLACEHOLDER};
pub use medusa::Medusa;
pub use plan_size::{Compute, ContainerSize, LimitRangeSize, PlanSize, PlanSizes, QuotaSize};
pub use render::{objects_to_yaml, to_yaml};
pub use resource::{ApplyMode, CREATE_ONCE, ParseError, Resource};
pub use secrets::{SecretKind, SecretRequirement, StoreSecrets};
pub use settings::{
    BackupSettings, CatalogEntry, EngineReleases, FrontDoor, GatewaySettings, Images,
    MIN_DEADLINE_SECONDS, MedusaRelease, PlatformSettings, ReleaseCatalog, Repository,
    RestRepository, Retention, RevisionSettings, S3Repository, UnknownFrontDoor, ValidatedSettings,
    WooCommerceRelease,
};
pub use storeplane_domain::{Engine, Plan, ReleaseName, StoreId, StoreName, StoreSpec, StoreTitle};
pub use woocommerce::WooCommerce;

//! What applying a revision puts in the cluster: exactly its recorded manifest.
//!
//! A revision records its manifest with every Secret's data as a placeholder. Usually its
//! spec built today (with fresh secret values) gives that very manifest, and the built
//! objects are applied. When it does not (the platform settings changed since, or a
//! rollback replays an older manifest), the stored manifest is read back into objects and
//! each of its Secrets replaced by the freshly built Secret of the same name: Secrets are
//! created only when absent, and a placeholder never reaches the cluster.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use storeplane_blueprint::{
    Blueprint, BuildError, Manifest, ReadinessCheck, ReadinessKind, Resource, SecretKind,
    StoreResources, StoreSecrets, StoreUrls,
};
use storeplane_domain::{Revision, RevisionNumber, StoreId, StoreSpec};
use storeplane_kube::ObjectRef;

use rand::distr::{Alphanumeric, SampleString};

use crate::RunError;
use crate::provision::{ProvisionRunner, db_failure, failure};

/// The objects of one apply pass and what to wait for afterwards.
#[derive(Debug)]
pub(crate) struct Desired {
    /// What to apply, in order.
    pub objects: Vec<Resource>,
    /// What the prune keeps: every object of the manifest, including Secrets that are not
    /// applied because no fresh value could be built for them (they are in the cluster).
    pub keep: Vec<ObjectRef>,
    pub readiness: Vec<ReadinessCheck>,
    /// The store's URLs, when its spec still builds.
    pub urls: Option<StoreUrls>,
}

impl Desired {
    /// What applying `self` (a new revision) over `current` (the revision the store runs,
    /// which every finished pass leaves the cluster holding) has to write: the objects
    /// that differ from `current`'s, in order, and whether both hold the same objects (so
    /// nothing is left to prune). Secrets both hold are never written again: they are
    /// created only when absent. A plan change writes the quota, the limits and the
    /// workloads, not the twenty objects of the store.
    pub(crate) fn changed_from(&self, current: &Desired) -> (Vec<Resource>, bool) {
        let key = |r: &Resource| {
            (
                r.kind(),
                r.namespace().map(str::to_owned),
                r.name().to_owned(),
            )
        };
        let before: HashMap<_, &Resource> = current.objects.iter().map(|r| (key(r), r)).collect();
        let changed = self
            .objects
            .iter()
            .filter(|r| match before.get(&key(r)) {
                Some(_) if matches!(r, Resource::Secret(_)) => false,
                Some(old) => *old != *r,
                None => true,
            })
            .cloned()
            .collect();
        let mut kept: Vec<&ObjectRef> = self.keep.iter().collect();
        let mut kept_before: Vec<&ObjectRef> = current.keep.iter().collect();
        kept.sort();
        kept_before.sort();
        (changed, kept == kept_before)
    }

    fn built(resources: StoreResources) -> Self {
        let readiness = resources.readiness.clone();
        let urls = Some(resources.urls.clone());
        let objects = resources.into_ordered();
        Self {
            keep: objects.iter().map(ObjectRef::from).collect(),
            objects,
            readiness,
            urls,
        }
    }
}

/// The revisions that build to exactly their recorded manifest. A revision is immutable
/// and a runner's blueprint never changes, so once one build of a revision matched its
/// manifest every later build does: the check (rendering the whole store as YAML and
/// hashing it) is made once per revision and process, not on every pass and every change.
#[derive(Debug, Default)]
pub(crate) struct Verified(Mutex<HashSet<(StoreId, RevisionNumber)>>);

impl Verified {
    /// Past this many, the set starts over: a revision forgotten is checked again.
    const MAX: usize = 100_000;

    fn contains(&self, id: StoreId, revision: RevisionNumber) -> bool {
        self.0.lock().is_ok_and(|set| set.contains(&(id, revision)))
    }

    pub(crate) fn insert(&self, id: StoreId, revision: RevisionNumber) {
        if let Ok(mut set) = self.0.lock() {
            if set.len() >= Self::MAX {
                set.clear();
            }
            set.insert((id, revision));
        }
    }
}

/// Fresh secret values: Secrets are created only if absent, so these reach the cluster
/// once, on a store's first pass, and never replace what is there.
fn fresh_secrets(spec: &StoreSpec) -> Result<StoreSecrets, BuildError> {
    let requirements = Blueprint::secret_requirements(spec.engine)?;
    Ok(StoreSecrets::generate(
        requirements,
        |requirement| match requirement.kind {
            SecretKind::Random { length } => Alphanumeric.sample_string(&mut rand::rng(), length),
            SecretKind::Login { default } => default.to_owned(),
        },
    ))
}

/// The workloads a manifest's objects say to wait for, in order (for a manifest whose
/// spec no longer builds).
fn readiness_of(objects: &[Resource]) -> Vec<ReadinessCheck> {
    objects
        .iter()
        .filter_map(|object| {
            let kind = match object {
                Resource::StatefulSet(_) => ReadinessKind::StatefulSet,
                Resource::Deployment(_) => ReadinessKind::Deployment,
                Resource::Job(_) => ReadinessKind::Job,
                _ => return None,
            };
            Some(ReadinessCheck {
                kind,
                name: object.name().to_owned(),
            })
        })
        .collect()
}

impl ProvisionRunner {
    /// Store `id` built from `spec` with fresh secrets.
    pub(crate) fn build(
        &self,
        id: StoreId,
        spec: &StoreSpec,
    ) -> Result<StoreResources, BuildError> {
        self.blueprint.build(id, spec, &fresh_secrets(spec)?)
    }

    /// Exactly `revision`'s manifest, as the module header says. When the revision's
    /// spec no longer builds (its release left the catalog), its manifest is applied
    /// without its Secrets, which the store has.
    pub(crate) async fn desired(
        &self,
        id: StoreId,
        revision: &Revision,
    ) -> Result<Desired, RunError> {
        let built = self.build(id, &revision.spec);
        if let Ok(resources) = built {
            if self.verified.contains(id, revision.number) {
                return Ok(Desired::built(resources));
            }
            let manifest = Manifest::of(&resources).map_err(|e| failure(e, false))?;
            if manifest.digest == revision.manifest_digest {
                self.verified.insert(id, revision.number);
                return Ok(Desired::built(resources));
            }
            return self.recorded(id, revision, Ok(resources)).await;
        }
        self.recorded(id, revision, built).await
    }

    /// `revision`'s recorded manifest read back, its Secrets from `built` (today's build
    /// of its spec, when it still builds).
    async fn recorded(
        &self,
        id: StoreId,
        revision: &Revision,
        built: Result<StoreResources, BuildError>,
    ) -> Result<Desired, RunError> {
        if let Err(error) = &built {
            self.warn_once(id, revision, error);
        }
        let Some(text) = self
            .repo
            .revision_manifest(id, revision.number)
            .await
            .map_err(db_failure)?
        else {
            // Pruned: only a revision older than the store's last N, neither deployed nor
            // in flight, loses its manifest; its spec is all there is to go by.
            return built.map(Desired::built).map_err(|e| failure(e, false));
        };
        let parsed = Manifest::resources(&text).map_err(|e| failure(e, false))?;
        let fresh: HashMap<String, Resource> = built
            .as_ref()
            .map(|resources| {
                resources
                    .engine
                    .secrets
                    .iter()
                    .map(|s| {
                        let secret = Resource::from(s.clone());
                        (secret.name().to_owned(), secret)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let keep = parsed.iter().map(ObjectRef::from).collect();
        let readiness = match &built {
            Ok(resources) => resources.readiness.clone(),
            Err(_) => readiness_of(&parsed),
        };
        let objects = parsed
            .into_iter()
            .filter_map(|object| match object {
                Resource::Secret(_) => fresh.get(object.name()).cloned(),
                other => Some(other),
            })
            .collect();
        Ok(Desired {
            objects,
            keep,
            readiness,
            urls: built.ok().map(|resources| resources.urls),
        })
    }

    /// Logs, once per store and process, that a revision's spec no longer builds.
    fn warn_once(&self, id: StoreId, revision: &Revision, error: &BuildError) {
        let first = self
            .warned
            .lock()
            .map(|mut warned| warned.insert(id))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                store.id = %id,
                revision = revision.number.get(),
                %error,
                "the store's revision no longer builds with today's platform settings (its release left the catalog?); its recorded manifest is applied as it is"
            );
        }
    }
}

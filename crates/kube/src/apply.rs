//! [`Applier`] and the apply step: a store's objects written in order with server-side
//! apply, Secrets created only when absent.

use std::fmt;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::{Api, Client};
use storeplane_blueprint::{ApplyMode, Resource};

use crate::kinds::{self, ObjectRef};
use crate::memory::{DEFAULT_REMEMBERED_OBJECTS, Memory};
use crate::outcome::{self, Applied, Observed, Outcome};
use crate::recreate::{RECREATE_TIMEOUT, immutable_fields, recreates};
use crate::transient::is_transient;

/// The one field manager storeplane writes with. Every apply forces conflicts: storeplane
/// owns every field it sets on its own objects.
pub const FIELD_MANAGER: &str = "storeplane";

/// Attempts per write, counting the first. kube-rs already retries 429, 503 and 504
/// (honouring `Retry-After`); this covers the other transient failures (500, a dropped
/// connection) without turning a lasting outage into a long hang.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Writes, prunes, waits for and tears down stores, through one client and one field
/// manager.
///
/// Cloning is cheap and clones share what the applier remembers of the objects it
/// applied recently (digests of their `uid`, `resourceVersion` and storeplane's
/// `managedFields` entry), which is how [`Applier::apply`] tells unchanged objects from
/// configured ones without extra requests. It remembers a bounded number of objects
/// (see [`Applier::remembering`]), whatever the number of stores.
#[derive(Clone)]
pub struct Applier {
    pub(crate) client: Client,
    memory: Arc<Memory>,
}

impl fmt::Debug for Applier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applier")
            .field("field_manager", &FIELD_MANAGER)
            .finish_non_exhaustive()
    }
}

/// Applying or pruning an object failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("failed to apply {object}: {source}")]
    Apply {
        object: ObjectRef,
        #[source]
        source: kube::Error,
    },
    /// The cluster does not serve the object's kind: a custom resource whose CRDs are not
    /// installed (the Gateway API's HTTPRoute, say).
    #[error(
        "failed to apply {object}: the cluster does not serve {api_version} {kind} (are its CRDs installed?)"
    )]
    NotServed {
        object: ObjectRef,
        api_version: &'static str,
        kind: &'static str,
    },
    /// The API server refused to change fields it keeps immutable, on a kind that is not
    /// re-created (only Jobs are).
    #[error(
        "failed to apply {object}: the API server keeps {fields} immutable, so the change cannot be applied in place; restore the previous value, or delete {object} to have it re-created"
    )]
    Immutable { object: ObjectRef, fields: String },
    /// Deleting a Job to re-create it failed.
    #[error("failed to delete {object} to re-create it with its changed pod template: {source}")]
    Recreate {
        object: ObjectRef,
        #[source]
        source: kube::Error,
    },
    /// Watching a deleted Job until it was gone failed.
    #[error("failed to watch {object} until it was gone, to re-create it: {source}")]
    RecreateWatch {
        object: ObjectRef,
        #[source]
        source: kube::runtime::wait::Error,
    },
    /// A deleted Job was still there at the timeout.
    #[error("{object} was deleted to re-create it but is still there after {waited:?}")]
    RecreateStuck { object: ObjectRef, waited: Duration },
    #[error("failed to encode {object}: {source}")]
    Encode {
        object: ObjectRef,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to list {kind} in {namespace} for pruning: {source}")]
    List {
        kind: String,
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("failed to prune {object}: {source}")]
    Prune {
        object: ObjectRef,
        #[source]
        source: kube::Error,
    },
    #[error("failed to delete {object}: {source}")]
    Remove {
        object: ObjectRef,
        #[source]
        source: kube::Error,
    },
    /// A value was to be written into a Secret that does not exist.
    #[error("failed to set a value in {object}: it does not exist")]
    SecretMissing { object: ObjectRef },
}

impl ApplyError {
    /// True when retrying later may succeed (server errors, throttling, connection
    /// failures); false for errors that the same request would hit again (`Invalid`).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Apply { source, .. }
            | Self::List { source, .. }
            | Self::Prune { source, .. }
            | Self::Remove { source, .. }
            | Self::Recreate { source, .. } => is_transient(source),
            Self::RecreateWatch { .. } | Self::RecreateStuck { .. } => true,
            Self::Encode { .. }
            | Self::NotServed { .. }
            | Self::Immutable { .. }
            | Self::SecretMissing { .. } => false,
        }
    }
}

impl Applier {
    /// An applier that writes through `client` and remembers up to
    /// [`DEFAULT_REMEMBERED_OBJECTS`] objects.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            memory: Arc::new(Memory::new(DEFAULT_REMEMBERED_OBJECTS)),
        }
    }

    /// The same applier remembering at most `objects` objects between passes (the least
    /// recently applied are forgotten first). A forgotten object's next outcome is judged
    /// by the response's timestamps instead, as on the first pass after a start.
    #[must_use]
    pub fn remembering(self, objects: NonZeroUsize) -> Self {
        Self {
            client: self.client,
            memory: Arc::new(Memory::new(objects)),
        }
    }

    /// How many objects the applier remembers now: never more than its bound, however
    /// many stores it has applied.
    pub fn remembered_objects(&self) -> usize {
        self.memory.len()
    }

    /// Applies `resources` in the order given, one request each, stopping at the first
    /// failure (later objects depend on earlier ones: a namespace before its contents,
    /// policies before pods).
    ///
    /// [`ApplyMode::Apply`] objects are written with server-side apply, field manager
    /// [`FIELD_MANAGER`], `force`. [`ApplyMode::CreateIfAbsent`] objects (Secrets) are
    /// created, and an existing one is left alone and reported unchanged: their values
    /// are generated once and must never be replaced.
    ///
    /// A Job the API server refuses to change because its pod template (or selector) is
    /// immutable is deleted, watched until gone, and applied again: its outcome is
    /// [`Outcome::Recreated`]. Another kind's changed immutable field fails with
    /// [`ApplyError::Immutable`], naming the field.
    ///
    /// Idempotent: applying the same objects again changes nothing and reports every
    /// object unchanged. Every await is a cancellation point; a pass cancelled midway
    /// leaves the objects written so far, and the next pass converges.
    pub async fn apply(&self, resources: &[Resource]) -> Result<Vec<Applied>, ApplyError> {
        let mut applied = Vec::with_capacity(resources.len());
        for resource in resources {
            let outcome = match resource.apply_mode() {
                ApplyMode::Apply => self.server_side_apply(resource).await?,
                ApplyMode::CreateIfAbsent => self.create_if_absent(resource).await?,
            };
            tracing::debug!(object = %resource.reference(), outcome = outcome.as_str(), "applied");
            applied.push(Applied {
                kind: resource.kind(),
                name: match resource.namespace() {
                    Some(namespace) => format!("{namespace}/{}", resource.name()),
                    None => resource.name().to_owned(),
                },
                outcome,
            });
        }
        Ok(applied)
    }

    async fn server_side_apply(&self, resource: &Resource) -> Result<Outcome, ApplyError> {
        let object = ObjectRef::from(resource);
        let sent = digest(resource).map_err(|source| ApplyError::Encode {
            object: object.clone(),
            source,
        })?;
        let sent_at = outcome::now_seconds();
        let (response, recreated) = match self.patch(resource).await {
            Err(kube::Error::Api(status)) => match immutable_fields(&status) {
                Some(fields) if recreates(resource, &fields) => {
                    tracing::info!(
                        object = %object,
                        fields = %fields.join(", "),
                        "re-creating: its pod template changed and the API server keeps it immutable"
                    );
                    self.delete_job(resource, RECREATE_TIMEOUT).await?;
                    (self.patch(resource).await, true)
                }
                Some(fields) => {
                    return Err(ApplyError::Immutable {
                        object,
                        fields: fields.join(", "),
                    });
                }
                None => (Err(kube::Error::Api(status)), false),
            },
            response => (response, false),
        };
        let response = response.map_err(|source| match &source {
            // An apply answers 404 only when the kind itself is unknown: it creates a
            // missing object (a missing namespace is a NotFound with a reason, and
            // namespaces are applied first).
            kube::Error::Api(status) if status.code == 404 && status.reason != "NotFound" => {
                ApplyError::NotServed {
                    object: object.clone(),
                    api_version: resource.api_version(),
                    kind: resource.kind(),
                }
            }
            _ => ApplyError::Apply {
                object: object.clone(),
                source,
            },
        })?;
        let known = self.memory.recall(&object);
        let outcome = if recreated {
            Outcome::Recreated
        } else {
            outcome::decide(known.as_ref(), &response.metadata, sent, sent_at)
        };
        self.memory
            .remember(object, Observed::of(&response.metadata, sent));
        Ok(outcome)
    }

    /// One server-side apply of `resource`, retried while it fails transiently.
    async fn patch(&self, resource: &Resource) -> Result<DynamicObject, kube::Error> {
        let api = self.api_for(resource);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(resource);
        with_retries(|| api.patch(resource.name(), &params, &patch)).await
    }

    async fn create_if_absent(&self, resource: &Resource) -> Result<Outcome, ApplyError> {
        let object = ObjectRef::from(resource);
        let api = self.api_for(resource);
        // Through JSON because the dynamic API takes a `DynamicObject`; the error names
        // the object only, never its (secret) contents.
        let body: DynamicObject = serde_json::to_value(resource)
            .and_then(serde_json::from_value)
            .map_err(|source| ApplyError::Encode {
                object: object.clone(),
                source,
            })?;
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PostParams::default()
        };
        match with_retries(|| api.create(&params, &body)).await {
            Ok(_) => Ok(Outcome::Created),
            // Also what a retried create whose first attempt landed sees: the object is
            // there, which is all create-if-absent promises.
            Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(Outcome::Unchanged),
            Err(source) => Err(ApplyError::Apply { object, source }),
        }
    }

    pub(crate) fn api_for(&self, resource: &Resource) -> Api<DynamicObject> {
        let kind = kinds::api_resource(resource);
        match resource.namespace() {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, &kind),
            None => Api::all_with(self.client.clone(), &kind),
        }
    }

    pub(crate) fn namespaced_api(&self, namespace: &str, kind: &ApiResource) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, kind)
    }

    pub(crate) fn forget(&self, object: &ObjectRef) {
        self.memory.forget(object);
    }
}

/// A digest of the object as sent, to notice a changed desired object between passes.
/// `DefaultHasher` is only stable within one process, which is all the memory it feeds.
fn digest(resource: &Resource) -> Result<u64, serde_json::Error> {
    let mut hasher = DefaultHasher::new();
    serde_json::to_vec(resource)?.hash(&mut hasher);
    Ok(hasher.finish())
}

/// Runs `request` up to [`ATTEMPTS`] times while it fails transiently, doubling the
/// pause between attempts.
pub(crate) async fn with_retries<T, F, Fut>(mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match request().await {
            Err(error) if attempt < ATTEMPTS && is_transient(&error) => {
                tracing::debug!(error = %error, attempt, "transient Kubernetes API error; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

//! Pruning: deleting a store's objects that the current pass no longer wants (objects of
//! an earlier revision of the blueprint).

use std::collections::HashSet;

use kube::api::{DeleteParams, ListParams};

use crate::apply::{Applier, ApplyError, with_retries};
use crate::kinds::{self, ObjectRef};

/// One object deleted by [`Applier::prune`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub kind: String,
    /// `namespace/name`.
    pub name: String,
}

impl Applier {
    /// Deletes every object in `namespace` that matches `selector` (the store's labels,
    /// see `StoreResources::selector`), is of a kind a blueprint can produce, and is not
    /// in `keep` (the objects applied in this pass).
    ///
    /// One list per kind, then one delete per orphan, in reverse apply order so a front
    /// door goes before the workload behind it. A kind the cluster does not serve (a 404
    /// on the list: the Gateway API's CRDs are not installed, say) holds nothing to prune. Objects already being deleted are
    /// skipped, and one deleted meanwhile by someone else counts as pruned. Optional: a
    /// reconcile that has not changed the blueprint can skip it. Idempotent; every await
    /// is a cancellation point.
    pub async fn prune(
        &self,
        namespace: &str,
        selector: &str,
        keep: &[ObjectRef],
    ) -> Result<Vec<Pruned>, ApplyError> {
        let keep: HashSet<&ObjectRef> = keep.iter().collect();
        let list = ListParams::default().labels(selector);
        let delete = DeleteParams::background();
        let mut pruned = Vec::new();
        for kind in kinds::namespaced_kinds().iter().rev() {
            let api = self.namespaced_api(namespace, kind);
            let objects = match with_retries(|| api.list_metadata(&list)).await {
                Ok(objects) => objects,
                Err(error) if is_not_served(&error) => {
                    tracing::debug!(kind = %kind.kind, "the cluster does not serve this kind; nothing to prune");
                    continue;
                }
                Err(source) => {
                    return Err(ApplyError::List {
                        kind: kind.kind.clone(),
                        namespace: namespace.to_owned(),
                        source,
                    });
                }
            };
            for object in objects {
                let Some(name) = object.metadata.name else {
                    continue;
                };
                let object_ref = ObjectRef::new(&kind.kind, Some(namespace), &name);
                if keep.contains(&object_ref) || object.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                match with_retries(|| api.delete(&name, &delete)).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.is_not_found() => {}
                    Err(source) => {
                        return Err(ApplyError::Prune {
                            object: object_ref,
                            source,
                        });
                    }
                }
                tracing::info!(object = %object_ref, "pruned an object no longer desired");
                self.forget(&object_ref);
                pruned.push(Pruned {
                    kind: kind.kind.clone(),
                    name: format!("{namespace}/{name}"),
                });
            }
        }
        Ok(pruned)
    }
}

/// True when a list answered 404: the cluster does not serve the kind (listing a kind in a
/// namespace that does not exist answers an empty list, not 404). Judged by the code, not
/// `Status::is_not_found`: for a group it does not serve at all (the Gateway API without
/// its CRDs) the API server answers a plain-text `404 page not found`, which kube-rs turns
/// into a Status with that code and no `NotFound` reason.
fn is_not_served(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

//! Teardown: deleting a store's namespace and watching until it is gone, or saying what
//! holds it.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::DeleteParams;
use kube::runtime::wait::{await_condition, conditions};

use crate::apply::{Applier, with_retries};
use crate::transient::is_transient;

/// How a teardown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeardownOutcome {
    /// The namespace was deleted and is gone.
    Deleted,
    /// There was no namespace to delete.
    AlreadyGone,
}

/// A teardown that did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TeardownError {
    #[error("failed to delete Namespace {namespace}: {source}")]
    Delete {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("failed to watch Namespace {namespace} terminate: {source}")]
    Watch {
        namespace: String,
        #[source]
        source: kube::runtime::wait::Error,
    },
    /// Still `Terminating` at the timeout; `holding` says what holds it.
    #[error("Namespace {namespace} is stuck terminating after {}s: {holding}", waited.as_secs())]
    Stuck {
        namespace: String,
        waited: Duration,
        /// The namespace's own finalizers and its `NamespaceFinalizersRemaining` /
        /// `NamespaceContentRemaining` condition messages, e.g. "Some content in the
        /// namespace has finalizers remaining: example.com/hold in 1 resource instances".
        holding: String,
    },
}

impl TeardownError {
    /// True when trying again may finish the teardown: API errors that are transient, a
    /// failed watch, or a stuck namespace (a finalizer's controller may yet run).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Delete { source, .. } => is_transient(source),
            Self::Watch { .. } | Self::Stuck { .. } => true,
        }
    }
}

impl Applier {
    /// Deletes `namespace` and everything in it, then watches until it is gone. When it
    /// is still terminating at `timeout`, returns [`TeardownError::Stuck`] naming the
    /// finalizers that hold it instead of waiting on.
    ///
    /// Idempotent (a namespace already gone is [`TeardownOutcome::AlreadyGone`]); every
    /// await is a cancellation point, and the deletion, once accepted, proceeds without
    /// us.
    pub async fn delete_namespace(
        &self,
        namespace: &str,
        timeout: Duration,
    ) -> Result<TeardownOutcome, TeardownError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let delete = DeleteParams::background();
        let deleted = with_retries(|| api.delete(namespace, &delete)).await;
        let uid = match deleted {
            Ok(either) => either.left().and_then(|ns| ns.metadata.uid),
            Err(kube::Error::Api(status)) if status.is_not_found() => {
                return Ok(TeardownOutcome::AlreadyGone);
            }
            Err(source) => {
                return Err(TeardownError::Delete {
                    namespace: namespace.to_owned(),
                    source,
                });
            }
        };
        // `Right` means the server removed it at once; no uid to watch for.
        let Some(uid) = uid else {
            return Ok(TeardownOutcome::Deleted);
        };
        let gone = await_condition(api.clone(), namespace, conditions::is_deleted(&uid));
        match tokio::time::timeout(timeout, gone).await {
            Ok(Ok(_)) => Ok(TeardownOutcome::Deleted),
            Ok(Err(source)) => Err(TeardownError::Watch {
                namespace: namespace.to_owned(),
                source,
            }),
            Err(_elapsed) => Err(TeardownError::Stuck {
                namespace: namespace.to_owned(),
                waited: timeout,
                holding: self.what_holds(&api, namespace).await,
            }),
        }
    }

    /// What keeps a terminating namespace: best effort, read after the wait failed.
    async fn what_holds(&self, api: &Api<Namespace>, namespace: &str) -> String {
        let namespace = match api.get_opt(namespace).await {
            Ok(Some(namespace)) => namespace,
            Ok(None) => return "it is gone now".to_owned(),
            Err(error) => return format!("failed to read it: {error}"),
        };
        let mut holding: Vec<String> = Vec::new();
        let own = namespace
            .spec
            .iter()
            .flat_map(|spec| spec.finalizers.iter().flatten())
            .cloned()
            .collect::<Vec<_>>();
        if !own.is_empty() {
            holding.push(format!("namespace finalizers: {}", own.join(", ")));
        }
        let conditions = namespace
            .status
            .iter()
            .flat_map(|status| status.conditions.iter().flatten());
        // Finalizers first: they name what must act; content is usually held by them.
        for wanted in ["NamespaceFinalizersRemaining", "NamespaceContentRemaining"] {
            holding.extend(
                conditions
                    .clone()
                    .filter(|c| c.type_ == wanted && c.status == "True")
                    .filter_map(|c| c.message.clone()),
            );
        }
        if holding.is_empty() {
            "the API server reports nothing remaining yet".to_owned()
        } else {
            holding.join("; ")
        }
    }
}

//! The labels and metadata of engine steps' objects (a checkpoint, an upgrade, a restore,
//! a password reset): they carry [`labels::STEP`], which the store's prune selector
//! excludes, so applying a store never deletes them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::engine::StoreContext;
use crate::labels::{self, Component};

/// The value of [`labels::STEP`] on what several steps use.
const SHARED: &str = "shared";

/// The [`labels::STEP`] label of a step's objects.
pub fn step_labels(step: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(labels::STEP.to_owned(), step.to_owned())])
}

/// Metadata of a step object: the store's labels, `component` and the step label.
pub fn step_metadata(
    store: &StoreContext<'_>,
    name: &str,
    component: Component,
    step: &str,
) -> ObjectMeta {
    let mut metadata = store.metadata(name, component);
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(step_labels(step));
    }
    metadata
}

/// The shared metadata of what every step uses (the policies, the checkpoints claim).
pub fn shared_metadata(store: &StoreContext<'_>, name: &str, component: Component) -> ObjectMeta {
    step_metadata(store, name, component, SHARED)
}

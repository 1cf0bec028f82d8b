//! Why a store's objects could not be built or rendered.

use storeplane_domain::{Engine, Plan, ReleaseName};

/// A reason [`crate::Blueprint`] refused to build; each names the setting or secret at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("invalid setting {field}: {reason}")]
    InvalidSetting { field: String, reason: String },
    #[error(
        "plan {plan} does not fit its quota: {field} is {allowed} but the store's pods need {needed}"
    )]
    PlanDoesNotFit {
        plan: Plan,
        /// The quota setting that is too small, e.g. `plans.small.quota.requests.cpu`.
        field: String,
        needed: String,
        allowed: String,
    },
    #[error("failed to build a store: engine {0} has no blueprint yet")]
    UnsupportedEngine(Engine),
    #[error(
        "failed to build a store: release {release} is not in the {engine} catalog (its releases: {available})"
    )]
    UnknownRelease {
        engine: Engine,
        release: ReleaseName,
        /// The catalog's release names, comma-separated.
        available: String,
    },
    #[error("failed to build the {step} step: {reason}")]
    Step {
        step: &'static str,
        reason: &'static str,
    },
    #[error("failed to build a store: secret {key} is missing")]
    MissingSecret { key: &'static str },
    #[error("failed to build a store: secret {key} {reason}")]
    InvalidSecret {
        key: &'static str,
        reason: &'static str,
    },
}

/// The manifests could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("failed to render {object} as YAML")]
pub struct RenderError {
    /// `Kind/namespace/name` of the object that failed.
    pub object: String,
    #[source]
    pub source: serde_saphyr::SerializeError,
}

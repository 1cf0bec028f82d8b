//! What the API asks of the blueprint, without depending on it: the release catalog, and
//! a rendering of a spec that a change or a rollback records as its revision's content.
//!
//! The binary implements [`StoreRenderer`] over the real blueprint; tests give a fake, so
//! the API's own rules (status codes, tenancy, revisions) are tested without the
//! blueprint's.

use std::collections::BTreeMap;

use storeplane_domain::{Engine, Plan, ReleaseName, RevisionContent, StoreId, StoreSpec};

use crate::ApiError;
use crate::dto::ReleaseView;

/// Renders stores for revisions and tells which releases exist.
pub trait StoreRenderer: Send + Sync + std::fmt::Debug {
    /// Every release of every engine's catalog, in catalog order.
    fn releases(&self) -> Vec<ReleaseView>;

    /// The release new stores of `engine` get; `None` when the engine has no catalog.
    fn default_release(&self, engine: Engine) -> Option<ReleaseName>;

    /// Renders store `id` as `spec` says. The content's spec is `spec` exactly (a release
    /// left `None` renders as the engine's default but stays `None`), so that the metadata
    /// store can check it was rendered from the spec it decides on.
    fn render(&self, id: StoreId, spec: &StoreSpec) -> Result<RevisionContent, RenderRefused>;
}

/// Why a spec could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderRefused {
    /// The release is not in its engine's catalog.
    #[error("release {release} is not in the {engine} catalog (its releases: {available})")]
    UnknownRelease {
        engine: Engine,
        release: ReleaseName,
        available: String,
    },
    /// The plan's quota cannot hold the store's pods (a platform-settings problem).
    #[error("plan {plan} cannot be used: {reason}")]
    PlanDoesNotFit { plan: Plan, reason: String },
    /// Anything else: a failure of ours, not the caller's.
    #[error("failed to render the store: {0}")]
    Failed(String),
}

impl From<RenderRefused> for ApiError {
    fn from(refused: RenderRefused) -> Self {
        match refused {
            RenderRefused::UnknownRelease { .. } => {
                Self::unprocessable("unknown_release", refused.to_string()).with_field("release")
            }
            RenderRefused::PlanDoesNotFit { .. } => {
                Self::unprocessable("plan_unavailable", refused.to_string()).with_field("plan")
            }
            RenderRefused::Failed(detail) => Self::internal(detail),
        }
    }
}

/// A renderer for tests: a catalog of named WooCommerce releases (the first is the
/// default) and a manifest that is a few lines naming the spec.
#[derive(Debug, Clone)]
pub struct FakeRenderer {
    /// Release names, the default first.
    pub releases: Vec<ReleaseName>,
}

impl FakeRenderer {
    /// A catalog of `names`, the first the default.
    pub fn new(names: &[&str]) -> Self {
        Self {
            releases: names
                .iter()
                .filter_map(|n| ReleaseName::parse(n).ok())
                .collect(),
        }
    }
}

impl StoreRenderer for FakeRenderer {
    fn releases(&self) -> Vec<ReleaseView> {
        self.releases
            .iter()
            .enumerate()
            .map(|(i, name)| ReleaseView {
                engine: Engine::WooCommerce,
                name: name.clone(),
                default: i == 0,
                components: BTreeMap::from([("woocommerce".to_owned(), name.to_string())]),
            })
            .collect()
    }

    fn default_release(&self, engine: Engine) -> Option<ReleaseName> {
        (engine == Engine::WooCommerce)
            .then(|| self.releases.first().cloned())
            .flatten()
    }

    fn render(&self, id: StoreId, spec: &StoreSpec) -> Result<RevisionContent, RenderRefused> {
        let release = match &spec.release {
            Some(release) if !self.releases.contains(release) => {
                return Err(RenderRefused::UnknownRelease {
                    engine: spec.engine,
                    release: release.clone(),
                    available: self
                        .releases
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            Some(release) => release.clone(),
            None => self
                .default_release(spec.engine)
                .ok_or_else(|| RenderRefused::Failed("no catalog".to_owned()))?,
        };
        let title = spec
            .title
            .as_ref()
            .map_or_else(|| spec.name.to_string(), ToString::to_string);
        let manifest = format!(
            "kind: Namespace\nname: {}\n---\nkind: ResourceQuota\nplan: {}\n---\nkind: Deployment\nrelease: {release}\ntitle: {title}\n",
            id.namespace(),
            spec.plan,
        );
        Ok(RevisionContent {
            spec: spec.clone(),
            platform_digest: "fake-platform".to_owned(),
            manifest_digest: format!("{:x}", fnv(manifest.as_bytes())),
            manifest,
        })
    }
}

/// A stand-in digest (FNV-1a) that differs whenever the text does, enough for tests.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

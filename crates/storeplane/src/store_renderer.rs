//! The API's [`StoreRenderer`] over the blueprint: the release catalog of the platform
//! settings in force, and the renderings changes and rollbacks record as revisions.

use std::collections::BTreeMap;

use storeplane_api::dto::ReleaseView;
use storeplane_api::{RenderRefused, StoreRenderer};
use storeplane_blueprint::{
    Blueprint, BuildError, ManifestError, MedusaRelease, WooCommerceRelease,
};
use storeplane_domain::{Engine, ReleaseName, RevisionContent, StoreId, StoreSpec};

/// Renders with the blueprint of the platform settings the process started with.
#[derive(Debug, Clone)]
pub struct BlueprintRenderer {
    pub blueprint: Blueprint,
}

/// What a WooCommerce release pins, as `GET /api/v1/releases` lists it.
fn woocommerce_components(release: &WooCommerceRelease) -> BTreeMap<String, String> {
    let woocommerce = match &release.wordpress_woo {
        Some(image) => format!("baked into {image}"),
        None => release.woocommerce_version.clone(),
    };
    BTreeMap::from([
        ("wordpress".to_owned(), release.web().to_owned()),
        ("woocommerce".to_owned(), woocommerce),
        ("wp_cli".to_owned(), release.cli().to_owned()),
        ("mariadb".to_owned(), release.mariadb.clone()),
    ])
}

/// What a Medusa release pins.
fn medusa_components(release: &MedusaRelease) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("medusa".to_owned(), release.medusa.clone()),
        ("postgres".to_owned(), release.postgres.clone()),
        ("redis".to_owned(), release.redis.clone()),
    ])
}

impl StoreRenderer for BlueprintRenderer {
    fn releases(&self) -> Vec<ReleaseView> {
        let catalog = self.blueprint.settings().catalog();
        let woocommerce = catalog
            .woocommerce
            .available
            .iter()
            .map(|release| ReleaseView {
                engine: Engine::WooCommerce,
                name: release.name.clone(),
                default: release.name == catalog.woocommerce.default,
                components: woocommerce_components(release),
            });
        let medusa = catalog.medusa.available.iter().map(|release| ReleaseView {
            engine: Engine::Medusa,
            name: release.name.clone(),
            default: release.name == catalog.medusa.default,
            components: medusa_components(release),
        });
        woocommerce.chain(medusa).collect()
    }

    fn default_release(&self, engine: Engine) -> Option<ReleaseName> {
        let catalog = self.blueprint.settings().catalog();
        Some(match engine {
            Engine::WooCommerce => catalog.woocommerce.default.clone(),
            Engine::Medusa => catalog.medusa.default.clone(),
        })
    }

    fn render(&self, id: StoreId, spec: &StoreSpec) -> Result<RevisionContent, RenderRefused> {
        let rendered = self.blueprint.render(id, spec).map_err(refused)?;
        Ok(RevisionContent {
            spec: spec.clone(),
            platform_digest: rendered.platform_digest,
            manifest: rendered.manifest.text,
            manifest_digest: rendered.manifest.digest,
        })
    }
}

fn refused(error: ManifestError) -> RenderRefused {
    match error {
        ManifestError::Build(BuildError::UnknownRelease {
            engine,
            release,
            available,
        }) => RenderRefused::UnknownRelease {
            engine,
            release,
            available,
        },
        ManifestError::Build(error @ BuildError::PlanDoesNotFit { plan, .. }) => {
            RenderRefused::PlanDoesNotFit {
                plan,
                reason: error.to_string(),
            }
        }
        other => RenderRefused::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use storeplane_blueprint::PlatformSettings;
    use storeplane_domain::{Plan, StoreName};

    use super::*;

    fn renderer() -> BlueprintRenderer {
        BlueprintRenderer {
            blueprint: Blueprint::new(PlatformSettings::default()).expect("default settings"),
        }
    }

    fn spec(release: Option<&str>) -> StoreSpec {
        StoreSpec {
            release: release.map(|r| ReleaseName::parse(r).expect("a release name")),
            ..StoreSpec::new(
                StoreName::parse("acme").expect("a name"),
                Engine::WooCommerce,
                Plan::Small,
            )
        }
    }

    #[test]
    fn the_catalog_lists_each_engine_s_default_release_with_its_images() {
        let releases = renderer().releases();
        for (engine, component, image) in [
            (Engine::WooCommerce, "mariadb", "mariadb:"),
            (Engine::Medusa, "postgres", "postgres:"),
        ] {
            let default: Vec<_> = releases
                .iter()
                .filter(|r| r.default && r.engine == engine)
                .collect();
            assert_eq!(default.len(), 1, "{engine}");
            assert!(default[0].components[component].contains(image));
            assert_eq!(
                Some(default[0].name.clone()),
                renderer().default_release(engine)
            );
        }
    }

    #[test]
    fn a_rendering_keeps_the_spec_it_was_given() {
        let spec = spec(None);
        let content = renderer()
            .render(StoreId::generate(), &spec)
            .expect("renders");
        assert_eq!(content.spec, spec);
        assert!(content.manifest.contains("kind: ResourceQuota"));
        assert_eq!(content.manifest_digest.len(), 64);
    }

    #[test]
    fn a_release_not_in_the_catalog_is_refused_by_name() {
        let refused = renderer()
            .render(StoreId::generate(), &spec(Some("wp1.0-wc1.0")))
            .expect_err("not in the catalog");
        assert!(
            matches!(&refused, RenderRefused::UnknownRelease { release, .. } if release.as_str() == "wp1.0-wc1.0"),
            "{refused:?}"
        );
    }
}

//! The release catalog: per engine, named releases that pin every image and version a
//! store runs, and the one new stores get.
//!
//! A release's fields have no defaults: a name stands for exactly what it lists, so a
//! newer storeplane never changes what a named release runs. A settings file of before
//! releases (an `images:` block, no `releases:`) is read as a catalog of one WooCommerce
//! release named after a hash of that block ([`Images::release_name`]), so editing the
//! block makes a new release instead of silently changing the one stores run.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use storeplane_domain::{Engine, ReleaseName};

use crate::BuildError;

/// Every engine's releases. An engine left out of a settings file's `releases:` gets
/// storeplane's built-in releases for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseCatalog {
    pub woocommerce: EngineReleases<WooCommerceRelease>,
    pub medusa: EngineReleases<MedusaRelease>,
}

/// One engine's releases and the default for its new stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineReleases<R> {
    /// The release of new stores that ask for none; one of `available`.
    pub default: ReleaseName,
    pub available: Vec<R>,
}

/// What every engine's release has: a name, and fields to check.
pub trait CatalogEntry {
    /// The release's name, unique within its engine.
    fn name(&self) -> &ReleaseName;
    /// Checks every field; `field` is the release's path, e.g.
    /// `releases.woocommerce.available[0]`.
    fn check(&self, field: &str) -> Result<(), BuildError>;
}

/// A WooCommerce release: the images of WordPress, MariaDB and wp-cli, and the
/// WooCommerce version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WooCommerceRelease {
    pub name: ReleaseName,
    /// The official WordPress (Apache) image.
    pub wordpress: String,
    pub mariadb: String,
    /// The official wp-cli image, run by the setup and maintenance Jobs.
    pub wp_cli: String,
    /// The WooCommerce release the setup Job downloads from wordpress.org. Unused when
    /// `wordpress_woo` is set.
    pub woocommerce_version: String,
    /// The image built from `images/wordpress-woo` (WordPress with WooCommerce and wp-cli
    /// baked in). When set it replaces both `wordpress` and `wp_cli`, and the setup Job
    /// downloads nothing, so it needs no internet access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wordpress_woo: Option<String>,
    /// The uid (and gid) the WordPress containers run as (the web pod, and the setup and
    /// wp-cli step Jobs), which also owns `wp-content`. Unset: `www-data` (33) of the
    /// Debian-based official images and `images/wordpress-woo`; set it for an image built
    /// on another base. `0` (root) is accepted here but refused by the `restricted` Pod
    /// Security that store namespaces enforce: such a store fails with the admission
    /// reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wordpress_user: Option<i64>,
}

impl WooCommerceRelease {
    /// The image of the web Deployment.
    pub fn web(&self) -> &str {
        self.wordpress_woo.as_deref().unwrap_or(&self.wordpress)
    }

    /// The image of the wp-cli containers (setup, upgrade, password reset).
    pub fn cli(&self) -> &str {
        self.wordpress_woo.as_deref().unwrap_or(&self.wp_cli)
    }

    /// The uid and gid of the WordPress containers: [`Self::wordpress_user`], or
    /// `www-data`.
    pub fn wordpress_uid(&self) -> i64 {
        self.wordpress_user.unwrap_or(WWW_DATA)
    }

    /// True when WooCommerce comes with the image rather than from wordpress.org.
    pub fn woocommerce_baked(&self) -> bool {
        self.wordpress_woo.is_some()
    }
}

impl CatalogEntry for WooCommerceRelease {
    fn name(&self) -> &ReleaseName {
        &self.name
    }

    fn check(&self, field: &str) -> Result<(), BuildError> {
        let at = |part: &str| format!("{field}.{part}");
        check_image(&at("wordpress"), &self.wordpress)?;
        check_image(&at("mariadb"), &self.mariadb)?;
        check_image(&at("wp_cli"), &self.wp_cli)?;
        check_uid(&at("wordpress_user"), self.wordpress_user)?;
        if let Some(image) = &self.wordpress_woo {
            check_image(&at("wordpress_woo"), image)?;
        } else {
            check_version(&at("woocommerce_version"), &self.woocommerce_version)?;
        }
        Ok(())
    }
}

/// A Medusa release: the image built from `images/medusa` (Medusa has no official image),
/// and the PostgreSQL and Redis images beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedusaRelease {
    pub name: ReleaseName,
    /// The Medusa application image (`images/medusa`), run as the server, the worker and
    /// the setup and step Jobs.
    pub medusa: String,
    /// The official PostgreSQL image; its `pg_dump` takes checkpoints.
    pub postgres: String,
    /// The official Redis image (Valkey's works too).
    pub redis: String,
    /// The uid (and gid) the Medusa containers run as. Unset: `node` (1000) of the
    /// official Node.js images that `images/medusa` builds on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medusa_user: Option<i64>,
}

impl MedusaRelease {
    /// The uid and gid of the Medusa containers: [`Self::medusa_user`], or `node`.
    pub fn medusa_uid(&self) -> i64 {
        self.medusa_user.unwrap_or(NODE)
    }
}

impl CatalogEntry for MedusaRelease {
    fn name(&self) -> &ReleaseName {
        &self.name
    }

    fn check(&self, field: &str) -> Result<(), BuildError> {
        let at = |part: &str| format!("{field}.{part}");
        check_image(&at("medusa"), &self.medusa)?;
        check_image(&at("postgres"), &self.postgres)?;
        check_image(&at("redis"), &self.redis)?;
        check_uid(&at("medusa_user"), self.medusa_user)
    }
}

/// `node` in the official Node.js images.
const NODE: i64 = 1000;

/// The built-in Medusa release. Its application image is built from `images/medusa` and
/// pushed by the platform team (docs/stores.md); the others are official images.
fn builtin_medusa() -> MedusaRelease {
    MedusaRelease {
        name: ReleaseName::parse("medusa2.21").unwrap_or_else(|_| unreachable!()),
        medusa: "ghcr.io/storeplane/storeplane-medusa:2.21.2".to_owned(),
        postgres: "docker.io/library/postgres:17.5-bookworm".to_owned(),
        redis: "docker.io/library/redis:7.4.2-bookworm".to_owned(),
        medusa_user: None,
    }
}

impl Default for EngineReleases<MedusaRelease> {
    fn default() -> Self {
        let release = builtin_medusa();
        Self {
            default: release.name.clone(),
            available: vec![release],
        }
    }
}

/// `www-data` in the Debian-based WordPress images.
const WWW_DATA: i64 = 33;

/// The built-in WooCommerce release, also the base of a legacy `images:` block.
fn builtin_woocommerce() -> WooCommerceRelease {
    WooCommerceRelease {
        name: ReleaseName::parse("wp6.8-wc9.8").unwrap_or_else(|_| unreachable!()),
        wordpress: "docker.io/library/wordpress:6.8.1-php8.3-apache".to_owned(),
        mariadb: "docker.io/library/mariadb:11.4.5".to_owned(),
        wp_cli: "docker.io/library/wordpress:cli-2.12.0-php8.3".to_owned(),
        woocommerce_version: "9.8.5".to_owned(),
        wordpress_woo: None,
        wordpress_user: None,
    }
}

impl Default for EngineReleases<WooCommerceRelease> {
    fn default() -> Self {
        let release = builtin_woocommerce();
        Self {
            default: release.name.clone(),
            available: vec![release],
        }
    }
}

impl<R: CatalogEntry> EngineReleases<R> {
    /// The release named `name`.
    pub fn get(&self, name: &ReleaseName) -> Option<&R> {
        self.available.iter().find(|r| r.name() == name)
    }

    /// The default release.
    pub fn default_release(&self) -> Option<&R> {
        self.get(&self.default)
    }

    /// The release named `name` of `engine` (this catalog's engine), or the error that
    /// names the releases there are.
    pub fn lookup(&self, engine: Engine, name: &ReleaseName) -> Result<&R, BuildError> {
        self.get(name).ok_or_else(|| BuildError::UnknownRelease {
            engine,
            release: name.clone(),
            available: join(&self.names()),
        })
    }

    /// The names of every release, in catalog order.
    pub fn names(&self) -> Vec<&ReleaseName> {
        self.available.iter().map(CatalogEntry::name).collect()
    }

    fn check(&self, engine: &str) -> Result<(), BuildError> {
        let field = format!("releases.{engine}");
        if self.available.is_empty() {
            return Err(invalid(
                format!("{field}.available"),
                "must list at least one release",
            ));
        }
        for (i, release) in self.available.iter().enumerate() {
            let at = format!("{field}.available[{i}]");
            if self.available[..i]
                .iter()
                .any(|r| r.name() == release.name())
            {
                return Err(invalid(
                    format!("{at}.name"),
                    format!("release {} is listed twice", release.name()),
                ));
            }
            release.check(&at)?;
        }
        if self.default_release().is_none() {
            return Err(invalid(
                format!("{field}.default"),
                format!(
                    "release {} is not in {field}.available ({})",
                    self.default,
                    join(&self.names())
                ),
            ));
        }
        Ok(())
    }
}

impl ReleaseCatalog {
    /// Checks every engine's releases, naming the first field that is wrong.
    pub fn check(&self) -> Result<(), BuildError> {
        self.woocommerce.check(Engine::WooCommerce.as_str())?;
        self.medusa.check(Engine::Medusa.as_str())
    }

    /// The release a store of `engine` runs: `requested`, or the engine's default when
    /// `None`. Fails when the engine has no catalog or the release is not in it.
    pub fn resolve(
        &self,
        engine: Engine,
        requested: Option<&ReleaseName>,
    ) -> Result<ReleaseName, BuildError> {
        let (default, names) = match engine {
            Engine::WooCommerce => (&self.woocommerce.default, self.woocommerce.names()),
            Engine::Medusa => (&self.medusa.default, self.medusa.names()),
        };
        let release = requested.unwrap_or(default);
        if names.contains(&release) {
            Ok(release.clone())
        } else {
            Err(BuildError::UnknownRelease {
                engine,
                release: release.clone(),
                available: join(&names),
            })
        }
    }

    /// The catalog entry of `release` for `engine`, as JSON (for the platform digest).
    pub(crate) fn entry_json(&self, engine: Engine, release: &ReleaseName) -> serde_json::Value {
        let entry = match engine {
            Engine::WooCommerce => serde_json::to_value(self.woocommerce.get(release)),
            Engine::Medusa => serde_json::to_value(self.medusa.get(release)),
        };
        entry.unwrap_or(serde_json::Value::Null)
    }
}

/// The images block of a settings file written before releases existed. Each field left
/// out takes the built-in release's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Images {
    pub wordpress: String,
    pub mariadb: String,
    pub wp_cli: String,
    pub woocommerce_version: String,
    pub wordpress_woo: Option<String>,
}

impl Default for Images {
    fn default() -> Self {
        let builtin = builtin_woocommerce();
        Self {
            wordpress: builtin.wordpress,
            mariadb: builtin.mariadb,
            wp_cli: builtin.wp_cli,
            woocommerce_version: builtin.woocommerce_version,
            wordpress_woo: builtin.wordpress_woo,
        }
    }
}

impl Images {
    /// The name of the one release an `images:` block stands for: `images-` and the
    /// first 12 hex digits of the sha256 of the block as JSON (every field, in the order
    /// above, defaults filled in). The same block always gives the same name; any edit
    /// gives another.
    pub fn release_name(&self) -> ReleaseName {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&json));
        ReleaseName::parse(&format!("images-{}", &digest[..12])).unwrap_or_else(|_| unreachable!())
    }

    /// The one-release catalog this block stands for, after checking it (errors name the
    /// `images.` fields the file has).
    pub fn into_catalog(self) -> Result<ReleaseCatalog, BuildError> {
        let release = WooCommerceRelease {
            name: self.release_name(),
            wordpress: self.wordpress,
            mariadb: self.mariadb,
            wp_cli: self.wp_cli,
            woocommerce_version: self.woocommerce_version,
            wordpress_woo: self.wordpress_woo,
            wordpress_user: None,
        };
        release.check("images")?;
        Ok(ReleaseCatalog {
            woocommerce: EngineReleases {
                default: release.name.clone(),
                available: vec![release],
            },
            medusa: EngineReleases::default(),
        })
    }
}

fn join(names: &[&ReleaseName]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> BuildError {
    BuildError::InvalidSetting {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_image(field: &str, value: &str) -> Result<(), BuildError> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            field,
            "must be an image reference without whitespace",
        ));
    }
    Ok(())
}

fn check_uid(field: &str, uid: Option<i64>) -> Result<(), BuildError> {
    if uid.is_some_and(|uid| !(0..=i64::from(i32::MAX)).contains(&uid)) {
        return Err(invalid(field, "must be a uid from 0 to 2147483647"));
    }
    Ok(())
}

fn check_version(field: &str, value: &str) -> Result<(), BuildError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(invalid(field, "must be a release number such as \"9.8.5\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, mariadb: &str) -> WooCommerceRelease {
        WooCommerceRelease {
            name: ReleaseName::parse(name).unwrap(),
            mariadb: mariadb.to_owned(),
            ..builtin_woocommerce()
        }
    }

    fn catalog(default: &str, available: Vec<WooCommerceRelease>) -> ReleaseCatalog {
        ReleaseCatalog {
            woocommerce: EngineReleases {
                default: ReleaseName::parse(default).unwrap(),
                available,
            },
            medusa: EngineReleases::default(),
        }
    }

    fn field_of(error: BuildError) -> String {
        match error {
            BuildError::InvalidSetting { field, .. } => field,
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn the_built_in_catalog_is_valid_and_defaults_to_its_one_release() {
        let catalog = ReleaseCatalog::default();
        assert!(catalog.check().is_ok());
        assert_eq!(
            catalog.resolve(Engine::WooCommerce, None).unwrap().as_str(),
            "wp6.8-wc9.8"
        );
    }

    #[test]
    fn a_default_that_is_not_listed_is_named() {
        let catalog = catalog("wp7", vec![release("wp6", "mariadb:11")]);
        let error = catalog.check().unwrap_err();
        assert!(error.to_string().contains("wp7"), "{error}");
        assert_eq!(field_of(error), "releases.woocommerce.default");
    }

    #[test]
    fn a_release_listed_twice_is_named_by_its_position() {
        let catalog = catalog(
            "wp6",
            vec![release("wp6", "mariadb:11"), release("wp6", "mariadb:12")],
        );
        assert_eq!(
            field_of(catalog.check().unwrap_err()),
            "releases.woocommerce.available[1].name"
        );
    }

    #[test]
    fn a_bad_image_is_named_by_release_and_field() {
        let catalog = catalog(
            "wp6",
            vec![release("wp6", "mariadb:11"), release("wp7", "maria db")],
        );
        assert_eq!(
            field_of(catalog.check().unwrap_err()),
            "releases.woocommerce.available[1].mariadb"
        );
    }

    #[test]
    fn a_negative_wordpress_user_is_named_and_root_is_left_to_admission() {
        let mut negative = release("wp6", "mariadb:11");
        negative.wordpress_user = Some(-1);
        assert_eq!(
            field_of(catalog("wp6", vec![negative]).check().unwrap_err()),
            "releases.woocommerce.available[0].wordpress_user"
        );
        let mut root = release("wp6", "mariadb:11");
        root.wordpress_user = Some(0);
        assert!(catalog("wp6", vec![root]).check().is_ok());
    }

    #[test]
    fn an_empty_catalog_is_refused() {
        let catalog = catalog("wp6", Vec::new());
        assert_eq!(
            field_of(catalog.check().unwrap_err()),
            "releases.woocommerce.available"
        );
    }

    #[test]
    fn a_release_not_in_the_catalog_names_the_release_and_the_engine() {
        let catalog = catalog(
            "wp6",
            vec![release("wp6", "mariadb:11"), release("wp7", "mariadb:12")],
        );
        let gone = ReleaseName::parse("wp5").unwrap();
        let error = catalog
            .resolve(Engine::WooCommerce, Some(&gone))
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("release wp5"), "{message}");
        assert!(message.contains("woocommerce"), "{message}");
        assert!(message.contains("wp6, wp7"), "{message}");
    }

    #[test]
    fn a_release_field_left_out_is_refused_rather_than_defaulted() {
        let yaml = "default: a\navailable:\n  - name: a\n    wordpress: w:1\n    wp_cli: c:1\n    woocommerce_version: '9.8.5'\n";
        let error = serde_saphyr::from_str::<EngineReleases<WooCommerceRelease>>(yaml)
            .unwrap_err()
            .to_string();
        assert!(error.contains("mariadb"), "{error}");
    }

    #[test]
    fn an_images_block_names_its_release_after_its_content() {
        let images = Images::default();
        let name = images.release_name();
        assert_eq!(name, Images::default().release_name());
        assert!(name.as_str().starts_with("images-"), "{name}");
        assert_eq!(name.as_str().len(), "images-".len() + 12);
        let edited = Images {
            mariadb: "docker.io/library/mariadb:12.0.2".to_owned(),
            ..Images::default()
        };
        assert_ne!(edited.release_name(), name);
    }

    #[test]
    fn a_bad_image_in_an_images_block_names_the_images_field() {
        let images = Images {
            wp_cli: String::new(),
            ..Images::default()
        };
        assert_eq!(
            field_of(images.into_catalog().unwrap_err()),
            "images.wp_cli"
        );
    }
}

//! Platform settings: what the platform team decides for every store (domain, front door,
//! storage, the release catalog, plan sizes), and their validation into
//! [`ValidatedSettings`], the only form the builders accept.

mod backups;
mod release;
mod revisions;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use storeplane_domain::{Engine, Plan};

use crate::BuildError;
use crate::plan_size::{Compute, ContainerSize, PlanSize, PlanSizes};

pub use backups::{BackupSettings, Repository, RestRepository, Retention, S3Repository};
pub use release::{
    CatalogEntry, EngineReleases, Images, MedusaRelease, ReleaseCatalog, WooCommerceRelease,
};
pub use revisions::{MIN_DEADLINE_SECONDS, RevisionSettings};

/// The platform's choices for every store it provisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformSettings {
    /// Stores are served at `<store name>.<base_domain>`.
    pub base_domain: String,
    /// How requests reach a store: an HTTPRoute on the platform Gateway, or an Ingress.
    pub front_door: FrontDoor,
    /// The platform Gateway every store's HTTPRoute attaches to (`front_door: gateway`).
    pub gateway: GatewaySettings,
    /// The `ingressClassName` of every store's Ingress (`front_door: ingress`).
    pub ingress_class: String,
    /// The namespace the ingress controller runs in (`front_door: ingress`); the only
    /// namespace allowed to reach a store's web pod (matched on its
    /// `kubernetes.io/metadata.name` label).
    pub ingress_namespace: String,
    /// The StorageClass of every volume; the cluster default when unset.
    pub storage_class: Option<String>,
    /// The images of stores, as settings files before releases spelled them: a catalog of
    /// one WooCommerce release (see [`Images::release_name`]). Not together with
    /// `releases`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Images>,
    /// Per engine, the named releases stores run and the default for new stores;
    /// storeplane's built-in catalog when neither this nor `images` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub releases: Option<ReleaseCatalog>,
    /// The plans of WooCommerce stores.
    pub plans: PlanSizes,
    /// The plans of Medusa stores; a plan left out keeps storeplane's Medusa sizes.
    #[serde(deserialize_with = "medusa_plans")]
    pub medusa_plans: PlanSizes,
    /// Serve stores over HTTPS: URLs use `https`; an Ingress gets a `tls` section, while
    /// with the Gateway its HTTPS listener's certificate serves every store.
    pub tls: bool,
    /// A cert-manager ClusterIssuer that issues each store's certificate through HTTP-01;
    /// requires `tls` and `front_door: ingress`.
    pub cluster_issuer: Option<String>,
    /// Let the web pod reach public addresses on ports 80 and 443 (payment gateways,
    /// plugin updates). Off by default: a store talks to nothing outside its namespace.
    pub allow_internet_egress: bool,
    /// The Pod Security Standards version the namespace labels pin (`v1.33` or `latest`).
    pub pod_security_version: String,
    /// How workers carry out store revisions (deadline, automatic rollback, manifests
    /// kept); changes nothing a store renders.
    pub revisions: RevisionSettings,
    /// Where and how often stores are backed up, and how long backups are kept; changes
    /// nothing a store renders.
    pub backups: BackupSettings,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            base_domain: "127.0.0.1.nip.io".to_owned(),
            front_door: FrontDoor::default(),
            gateway: GatewaySettings::default(),
            ingress_class: "nginx".to_owned(),
            ingress_namespace: "ingress-nginx".to_owned(),
            storage_class: None,
            images: None,
            releases: None,
            plans: PlanSizes::default(),
            medusa_plans: PlanSizes::medusa(),
            tls: false,
            cluster_issuer: None,
            allow_internet_egress: false,
            pod_security_version: "v1.33".to_owned(),
            revisions: RevisionSettings::default(),
            backups: BackupSettings::default(),
        }
    }
}

/// How requests from outside the cluster reach a store's web Service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontDoor {
    /// An HTTPRoute (Gateway API) attached to the platform Gateway.
    #[default]
    Gateway,
    /// An Ingress with the platform's ingress class.
    Ingress,
}

impl FrontDoor {
    /// The setting's value, as written in a settings file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Ingress => "ingress",
        }
    }
}

impl fmt::Display for FrontDoor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A front door that is neither `gateway` nor `ingress`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown front door {0:?}: expected gateway or ingress")]
pub struct UnknownFrontDoor(String);

impl FromStr for FrontDoor {
    type Err = UnknownFrontDoor;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "gateway" => Ok(Self::Gateway),
            "ingress" => Ok(Self::Ingress),
            other => Err(UnknownFrontDoor(other.to_owned())),
        }
    }
}

/// The platform Gateway (Gateway API) that stores' HTTPRoutes attach to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// The Gateway's name (each HTTPRoute's `parentRefs`).
    pub name: String,
    /// The Gateway's namespace.
    pub namespace: String,
    /// The `sectionName` of the listener to attach to; every listener that admits the
    /// routes when unset.
    pub listener: Option<String>,
    /// The namespace the Gateway implementation's proxies run in: the only namespace
    /// allowed to reach a store's web pod.
    pub data_plane_namespace: String,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            name: "storeplane".to_owned(),
            namespace: "storeplane".to_owned(),
            listener: None,
            data_plane_namespace: "traefik".to_owned(),
        }
    }
}

/// `medusa_plans` as a settings file gives it: each plan in full, and a plan left out
/// keeps its Medusa size (not WooCommerce's, which [`PlanSizes`]'s own defaults are).
fn medusa_plans<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<PlanSizes, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Given {
        small: Option<PlanSize>,
        medium: Option<PlanSize>,
        large: Option<PlanSize>,
    }
    let given = Given::deserialize(deserializer)?;
    let defaults = PlanSizes::medusa();
    Ok(PlanSizes {
        small: given.small.unwrap_or(defaults.small),
        medium: given.medium.unwrap_or(defaults.medium),
        large: given.large.unwrap_or(defaults.large),
    })
}

impl PlatformSettings {
    /// The plans of stores of `engine`.
    pub fn plans_for(&self, engine: Engine) -> &PlanSizes {
        match engine {
            Engine::WooCommerce => &self.plans,
            Engine::Medusa => &self.medusa_plans,
        }
    }

    /// The settings field that holds `engine`'s plans.
    pub fn plans_field(engine: Engine) -> &'static str {
        match engine {
            Engine::WooCommerce => "plans",
            Engine::Medusa => "medusa_plans",
        }
    }

    /// The namespace whose pods carry requests to a store's web pod: the Gateway's data
    /// plane or the ingress controller, whichever front door is chosen.
    pub fn front_door_namespace(&self) -> &str {
        match self.front_door {
            FrontDoor::Gateway => &self.gateway.data_plane_namespace,
            FrontDoor::Ingress => &self.ingress_namespace,
        }
    }
}

/// Settings that passed [`PlatformSettings::validate`]; builders take nothing else. The
/// catalog is resolved: `images`, or `releases`, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedSettings {
    settings: PlatformSettings,
    catalog: ReleaseCatalog,
}

impl std::ops::Deref for ValidatedSettings {
    type Target = PlatformSettings;
    fn deref(&self) -> &PlatformSettings {
        &self.settings
    }
}

impl ValidatedSettings {
    /// The URL a store named `name` is served at: `http(s)://<name>.<base domain>`.
    pub fn base_url(&self, name: &storeplane_domain::StoreName) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{name}.{}", self.base_domain)
    }

    /// The release catalog stores are built from.
    pub fn catalog(&self) -> &ReleaseCatalog {
        &self.catalog
    }

    /// The settings as a file would say them, the catalog spelled out under `releases`
    /// (a legacy `images:` block becomes its one release): what
    /// `storeplane render --print-settings` prints.
    pub fn effective(&self) -> PlatformSettings {
        PlatformSettings {
            images: None,
            releases: Some(self.catalog.clone()),
            ..self.settings.clone()
        }
    }
}

impl PlatformSettings {
    /// Checks every setting, naming the first one that is wrong.
    ///
    /// Whether a plan's containers fit its quota depends on the objects an engine builds,
    /// so that check happens in [`crate::Blueprint::build`].
    pub fn validate(self) -> Result<ValidatedSettings, BuildError> {
        check_dns_name("base_domain", &self.base_domain)?;
        check_dns_label("ingress_class", &self.ingress_class)?;
        check_dns_label("ingress_namespace", &self.ingress_namespace)?;
        let gateway = &self.gateway;
        check_dns_label("gateway.name", &gateway.name)?;
        check_dns_label("gateway.namespace", &gateway.namespace)?;
        if let Some(listener) = &gateway.listener {
            check_dns_label("gateway.listener", listener)?;
        }
        check_dns_label(
            "gateway.data_plane_namespace",
            &gateway.data_plane_namespace,
        )?;
        if let Some(class) = &self.storage_class {
            check_dns_name("storage_class", class)?;
        }
        if let Some(issuer) = &self.cluster_issuer {
            check_dns_name("cluster_issuer", issuer)?;
            if self.front_door == FrontDoor::Gateway {
                return Err(invalid(
                    "cluster_issuer",
                    "is for front_door: ingress (a certificate per store, through HTTP-01); \
                     with front_door: gateway the Gateway's own certificate serves every store \
                     (a wildcard for *.<base_domain>, say, issued through cert-manager's \
                     Gateway support): unset cluster_issuer, or set front_door: ingress",
                ));
            }
            if !self.tls {
                return Err(invalid("tls", "must be on when cluster_issuer is set"));
            }
        }
        let version = &self.pod_security_version;
        let pinned = version
            .strip_prefix("v1.")
            .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()));
        if !(pinned || version == "latest") {
            return Err(invalid(
                "pod_security_version",
                "must be \"latest\" or a version such as \"v1.33\"",
            ));
        }
        let catalog = match (self.images.clone(), self.releases.clone()) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "images",
                    "is the one-release form of releases: set one of them, not both \
                     (move the images into a release of releases.woocommerce.available)",
                ));
            }
            (Some(images), None) => images.into_catalog()?,
            (None, Some(catalog)) => {
                catalog.check()?;
                catalog
            }
            (None, None) => ReleaseCatalog::default(),
        };
        for engine in Engine::ALL {
            for plan in Plan::ALL {
                check_plan(*engine, *plan, self.plans_for(*engine).get(*plan))?;
            }
        }
        self.revisions.check()?;
        self.backups.check()?;
        Ok(ValidatedSettings {
            settings: self,
            catalog,
        })
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> BuildError {
    BuildError::InvalidSetting {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_dns_label(field: &str, value: &str) -> Result<(), BuildError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{value:?} is not a DNS label (lowercase letters, digits and '-')"),
        ))
    }
}

fn check_dns_name(field: &str, value: &str) -> Result<(), BuildError> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    // A host is `<store name>.<domain>` and store names reach 40 characters; DNS names
    // stop at 253.
    if value.len() > 253 - 41 {
        return Err(invalid(field, "is too long to prefix with a store name"));
    }
    value
        .split('.')
        .try_for_each(|label| check_dns_label(field, label))
}

fn check_plan(engine: Engine, plan: Plan, size: &PlanSize) -> Result<(), BuildError> {
    let range = &size.container;
    let plans = PlatformSettings::plans_field(engine);
    let field = |rest: &str| format!("{plans}.{plan}.{rest}");
    if !range.min.fits_in(&range.max) {
        return Err(invalid(field("container.min"), "exceeds container.max"));
    }
    let defaults = ContainerSize {
        requests: range.default_request,
        limits: range.default_limit,
    };
    check_container(
        &field("container.default"),
        &defaults,
        &range.min,
        &range.max,
    )?;
    for (role, container) in [
        ("web", Some(&size.web)),
        ("database", Some(&size.database)),
        ("setup", Some(&size.setup)),
        ("worker", size.worker.as_ref()),
        ("cache", size.cache.as_ref()),
    ] {
        if let Some(container) = container {
            check_container(&field(role), container, &range.min, &range.max)?;
        }
    }
    if engine == Engine::Medusa {
        // A Medusa store has a worker and Redis; WooCommerce plans leave these unset.
        let missing = [
            ("worker", size.worker.is_none()),
            ("cache", size.cache.is_none()),
            ("cache_storage", size.cache_storage.is_none()),
        ];
        if let Some((role, _)) = missing.iter().find(|(_, missing)| *missing) {
            return Err(invalid(field(role), "must be set for a Medusa plan"));
        }
    }
    if size.quota.pods == 0 {
        return Err(invalid(field("quota.pods"), "must allow at least one pod"));
    }
    Ok(())
}

fn check_container(
    field: &str,
    size: &ContainerSize,
    min: &Compute,
    max: &Compute,
) -> Result<(), BuildError> {
    let checks = [
        (
            "requests.cpu",
            size.requests.cpu >= min.cpu,
            "is below the container minimum",
        ),
        (
            "requests.memory",
            size.requests.memory >= min.memory,
            "is below the container minimum",
        ),
        (
            "limits.cpu",
            size.limits.cpu <= max.cpu,
            "exceeds the container maximum",
        ),
        (
            "limits.memory",
            size.limits.memory <= max.memory,
            "exceeds the container maximum",
        ),
        (
            "requests.cpu",
            size.requests.cpu <= size.limits.cpu,
            "exceeds limits.cpu",
        ),
        (
            "requests.memory",
            size.requests.memory <= size.limits.memory,
            "exceeds limits.memory",
        ),
    ];
    match checks.iter().find(|(_, ok, _)| !ok) {
        Some((part, _, reason)) => Err(invalid(format!("{field}.{part}"), *reason)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::Cpu;

    fn field_of(settings: PlatformSettings) -> String {
        match settings.validate().unwrap_err() {
            BuildError::InvalidSetting { field, .. } => field,
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        assert!(PlatformSettings::default().validate().is_ok());
    }

    #[test]
    fn an_empty_base_domain_is_named() {
        let settings = PlatformSettings {
            base_domain: String::new(),
            ..PlatformSettings::default()
        };
        assert_eq!(field_of(settings), "base_domain");
    }

    #[test]
    fn an_issuer_without_tls_is_rejected() {
        let settings = PlatformSettings {
            front_door: FrontDoor::Ingress,
            cluster_issuer: Some("letsencrypt".to_owned()),
            ..PlatformSettings::default()
        };
        assert_eq!(field_of(settings), "tls");
    }

    #[test]
    fn the_gateway_is_the_default_front_door() {
        let settings = PlatformSettings::default();
        assert_eq!(settings.front_door, FrontDoor::Gateway);
        assert_eq!(settings.front_door_namespace(), "traefik");
    }

    #[test]
    fn an_issuer_with_the_gateway_is_refused_saying_why() {
        let settings = PlatformSettings {
            tls: true,
            cluster_issuer: Some("letsencrypt".to_owned()),
            ..PlatformSettings::default()
        };
        let error = settings.validate().unwrap_err();
        let BuildError::InvalidSetting { field, reason } = &error else {
            panic!("unexpected error {error}");
        };
        assert_eq!(field, "cluster_issuer");
        assert!(reason.contains("front_door: ingress"), "{reason}");
        assert!(reason.contains("Gateway's own certificate"), "{reason}");
    }

    #[test]
    fn gateway_names_that_are_not_dns_labels_are_named() {
        for (field, change) in [
            (
                "gateway.name",
                (|g: &mut GatewaySettings| g.name = "Main_Gw".to_owned())
                    as fn(&mut GatewaySettings),
            ),
            ("gateway.namespace", |g| g.namespace = String::new()),
            ("gateway.listener", |g| g.listener = Some("web.".to_owned())),
            ("gateway.data_plane_namespace", |g| {
                g.data_plane_namespace = "-traefik".to_owned()
            }),
        ] {
            let mut settings = PlatformSettings::default();
            change(&mut settings.gateway);
            assert_eq!(field_of(settings), field);
        }
    }

    #[test]
    fn settings_with_only_the_ingress_keys_still_parse() {
        let yaml = "base_domain: shops.example.com\ningress_class: traefik\ningress_namespace: kube-system\n";
        let settings: PlatformSettings = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(settings.ingress_class, "traefik");
        assert_eq!(settings.front_door, FrontDoor::Gateway);
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn the_front_door_settings_parse_from_yaml() {
        let yaml = "front_door: gateway\ngateway:\n  name: public\n  namespace: infra\n  listener: https\n  data_plane_namespace: kube-system\n";
        let settings: PlatformSettings = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(settings.gateway.listener.as_deref(), Some("https"));
        assert_eq!(settings.front_door_namespace(), "kube-system");
        let ingress: PlatformSettings = serde_saphyr::from_str("front_door: ingress\n").unwrap();
        assert_eq!(ingress.front_door_namespace(), "ingress-nginx");
        assert!(serde_saphyr::from_str::<PlatformSettings>("front_door: loadbalancer\n").is_err());
        assert_eq!("ingress".parse(), Ok(FrontDoor::Ingress));
        assert!("Gateway".parse::<FrontDoor>().is_err());
    }

    #[test]
    fn a_container_larger_than_the_limit_range_is_named_by_plan_and_role() {
        let mut settings = PlatformSettings::default();
        settings.plans.medium.database.limits.cpu = Cpu::cores(64);
        assert_eq!(field_of(settings), "plans.medium.database.limits.cpu");
    }

    #[test]
    fn a_settings_file_of_before_releases_loads_as_a_catalog_of_one_release() {
        let yaml = "images:\n  wordpress_woo: storeplane-wordpress-woo:dev\n";
        let settings: PlatformSettings = serde_saphyr::from_str(yaml).unwrap();
        let validated = settings.validate().unwrap();
        let catalog = &validated.catalog().woocommerce;
        assert_eq!(catalog.available.len(), 1);
        let release = catalog.default_release().unwrap();
        assert!(
            release.name.as_str().starts_with("images-"),
            "{}",
            release.name
        );
        assert_eq!(release.web(), "storeplane-wordpress-woo:dev");
        assert_eq!(release.mariadb, "docker.io/library/mariadb:11.4.5");
        // Printed back, it is the catalog form, which loads to the same catalog.
        let printed = serde_saphyr::to_string(&validated.effective()).unwrap();
        assert!(!printed.contains("images:"), "{printed}");
        let reloaded: PlatformSettings = serde_saphyr::from_str(&printed).unwrap();
        assert_eq!(reloaded.validate().unwrap().catalog(), validated.catalog());
    }

    #[test]
    fn images_and_releases_together_are_refused_naming_images() {
        let settings = PlatformSettings {
            images: Some(Images::default()),
            releases: Some(ReleaseCatalog::default()),
            ..PlatformSettings::default()
        };
        assert_eq!(field_of(settings), "images");
    }

    #[test]
    fn a_release_catalog_parses_from_yaml() {
        let yaml = "releases:\n  woocommerce:\n    default: wp6.8-wc9.8\n    available:\n      - name: wp6.8-wc9.8\n        wordpress: docker.io/library/wordpress:6.8.1-php8.3-apache\n        mariadb: docker.io/library/mariadb:11.4.5\n        wp_cli: docker.io/library/wordpress:cli-2.12.0-php8.3\n        woocommerce_version: \"9.8.5\"\n      - name: wp6.8-wc9.9\n        wordpress: docker.io/library/wordpress:6.8.2-php8.3-apache\n        mariadb: docker.io/library/mariadb:11.4.7\n        wp_cli: docker.io/library/wordpress:cli-2.12.0-php8.3\n        woocommerce_version: \"9.9.5\"\n";
        let settings: PlatformSettings = serde_saphyr::from_str(yaml).unwrap();
        let validated = settings.validate().unwrap();
        assert_eq!(validated.catalog().woocommerce.names().len(), 2);
        let bad = yaml.replace("default: wp6.8-wc9.8", "default: wp7");
        let settings: PlatformSettings = serde_saphyr::from_str(&bad).unwrap();
        assert_eq!(field_of(settings), "releases.woocommerce.default");
        let bad_name = yaml.replace("- name: wp6.8-wc9.9", "- name: WP 6.8");
        let error = serde_saphyr::from_str::<PlatformSettings>(&bad_name).unwrap_err();
        assert!(error.to_string().contains("release"), "{error}");
    }

    #[test]
    fn the_revisions_block_parses_with_defaults_and_is_checked() {
        let settings: PlatformSettings =
            serde_saphyr::from_str("revisions:\n  auto_rollback: false\n").unwrap();
        assert_eq!(
            settings.revisions,
            RevisionSettings {
                auto_rollback: false,
                deadline_seconds: 600,
                keep_manifests: 10,
            }
        );
        assert!(settings.validate().is_ok());
        let mut settings = PlatformSettings::default();
        settings.revisions.keep_manifests = 0;
        assert_eq!(field_of(settings), "revisions.keep_manifests");
        let mut settings = PlatformSettings::default();
        settings.revisions.deadline_seconds = 9;
        assert_eq!(field_of(settings), "revisions.deadline_seconds");
        assert!(serde_saphyr::from_str::<PlatformSettings>("revisions:\n  deadline: 5\n").is_err());
    }

    #[test]
    fn settings_parse_from_yaml_with_defaults_for_what_is_left_out() {
        let yaml = "base_domain: shops.example.com\nfront_door: ingress\ntls: true\ncluster_issuer: letsencrypt\n";
        let settings: PlatformSettings = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(settings.ingress_namespace, "ingress-nginx");
        assert!(settings.validate().is_ok());
    }
}

//! What a store is: its identity, the spec a person asked for, and where it stands.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    ReleaseName, RevisionNumber, StoreBackups, StoreName, StoreStatus, StoreTitle, UserId,
};

/// A store's identity: a UUIDv7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[serde(transparent)]
pub struct StoreId(Uuid);

impl StoreId {
    /// A fresh id for a store created now (the only impure constructor; tests use
    /// [`StoreId::from_uuid`]).
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The store's Kubernetes namespace, derived from the id alone so that it is the same
    /// on every reconcile and every replica, and never collides with another store's.
    pub fn namespace(&self) -> String {
        format!("store-{}", self.0.simple())
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for StoreId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// A value that names none of an enum's variants; the message lists the ones that exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}: expected one of {}", expected.join(", "))]
pub struct UnknownVariant {
    pub what: &'static str,
    pub given: String,
    pub expected: &'static [&'static str],
}

/// Declares a fieldless enum whose text form is used in the API, the database and the CLI
/// alike, so the three can never spell a variant differently.
///
/// The text is matched as a `tt`, not a `literal`: a `literal` fragment reaches derive
/// macros wrapped in an invisible group, which utoipa does not look into, so the OpenAPI
/// document would spell the variants by their Rust names (`WooCommerce`) while serde
/// speaks `woocommerce`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            const TEXTS: &'static [&'static str] = &[$($text),+];

            /// The variant's text form.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = crate::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(crate::UnknownVariant { what: $what, given: s.to_owned(), expected: Self::TEXTS }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// The e-commerce software a store runs.
    Engine, "engine" {
        WooCommerce = "woocommerce",
        Medusa = "medusa",
    }
}

text_enum! {
    /// How much of the cluster a store may use: it sizes the store's quota and limits.
    Plan, "plan" {
        Small = "small",
        Medium = "medium",
        Large = "large",
    }
}

/// What a person asks for when they create a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    pub name: StoreName,
    pub engine: Engine,
    pub plan: Plan,
    /// The release of the platform's catalog the store runs. `None` asks for the engine's
    /// default release when the store is created; a store created before releases existed
    /// has none until its first revision is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseName>,
    /// The shop's title; `None` shows the store's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<StoreTitle>,
}

impl StoreSpec {
    /// A spec with the engine's default release and the name as its title.
    pub fn new(name: StoreName, engine: Engine, plan: Plan) -> Self {
        Self {
            name,
            engine,
            plan,
            release: None,
            title: None,
        }
    }
}

/// A store as the metadata store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub id: StoreId,
    pub spec: StoreSpec,
    pub owner: UserId,
    pub status: StoreStatus,
    /// Why the store is in its status, in words a person can act on (set for `failed`).
    pub status_reason: Option<String>,
    /// The revision the store runs; `None` until its first revision is recorded (a new
    /// store being provisioned, or one created before revisions existed and not yet
    /// backfilled).
    pub deployed_revision: Option<RevisionNumber>,
    /// The store's newest revision (`None` before its first is recorded); the same as
    /// `deployed_revision` when nothing was recorded since.
    pub latest_revision: Option<RevisionNumber>,
    /// The revision pending or applying, if any (always the newest): what the store is
    /// doing besides running its deployed revision.
    pub in_flight: Option<InFlightRevision>,
    /// An admin password reset was asked for and the worker has not finished it: the
    /// credentials cannot be revealed until it has.
    pub password_reset_pending: bool,
    /// Where the store stands with its backups.
    pub backups: StoreBackups,
    /// The backup the store was made from, which its first provisioning restores.
    pub restore_from: Option<crate::BackupId>,
    /// When a drift pass last found the store as its deployed revision says (a quiet pass
    /// writes no event, only this).
    pub last_checked_at: Option<DateTime<Utc>>,
    /// Public values the store's setup published (Medusa's `publishable_key`), by key;
    /// empty until it has, and for an engine that publishes none.
    pub outputs: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The revision a store has in flight, as much of it as a store's summary shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightRevision {
    pub number: RevisionNumber,
    /// The revision it rolls back to, for a rollback.
    pub rollback_of: Option<RevisionNumber>,
    /// The backup it restores, for a restore in place.
    pub restores_backup: Option<crate::BackupId>,
}

impl Store {
    /// The store's Kubernetes namespace.
    pub fn namespace(&self) -> String {
        self.id.namespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_is_a_valid_label_derived_from_the_id_alone() {
        let id: StoreId = "01936f3e-8b7a-7c2d-9e4f-0123456789ab".parse().unwrap();
        assert_eq!(id.namespace(), "store-01936f3e8b7a7c2d9e4f0123456789ab");
        assert!(id.namespace().len() <= 63);
        assert_eq!(id.namespace(), id.namespace());
    }

    #[test]
    fn engines_and_plans_round_trip_through_their_text_form() {
        for engine in Engine::ALL {
            assert_eq!(engine.as_str().parse::<Engine>().unwrap(), *engine);
        }
        for plan in Plan::ALL {
            assert_eq!(plan.to_string().parse::<Plan>().unwrap(), *plan);
        }
    }

    #[test]
    fn an_unknown_plan_lists_the_plans_that_exist() {
        let err = "huge".parse::<Plan>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown plan \"huge\": expected one of small, medium, large"
        );
    }

    #[test]
    fn a_spec_with_an_unknown_field_is_rejected() {
        let json = r#"{"name":"shop","engine":"woocommerce","plan":"small","size":"xl"}"#;
        let err = serde_json::from_str::<StoreSpec>(json).unwrap_err();
        assert!(err.to_string().contains("unknown field `size`"), "{err}");
    }

    #[test]
    fn a_spec_parses_from_its_json_form() {
        let json = r#"{"name":"shop","engine":"woocommerce","plan":"medium"}"#;
        let spec: StoreSpec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.engine, Engine::WooCommerce);
        assert_eq!(spec.plan, Plan::Medium);
        assert_eq!(spec.name.as_str(), "shop");
    }
}

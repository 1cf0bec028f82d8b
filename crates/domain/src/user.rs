//! The people (and automation) that own stores.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::text_enum;

/// A user's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[serde(transparent)]
pub struct UserId(Uuid);

impl UserId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for UserId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// A user's login name, as an identity provider or `storeplane token create --user` gives
/// it: 1 to 64 characters of letters, digits and `._@-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidUserName> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(allowed) {
            return Err(InvalidUserName(raw.chars().take(80).collect()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A user name that breaks the rules of [`UserName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid user name {0:?}: use 1 to 64 letters, digits, '.', '_', '@' or '-'")]
pub struct InvalidUserName(pub String);

text_enum! {
    /// What a user may see and do: members their own stores, admins every store.
    Role, "role" {
        Member = "member",
        Admin = "admin",
    }
}

/// A user as the metadata store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: UserName,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_from_identity_providers_are_accepted() {
        for ok in ["alice", "alice@example.com", "ci-bot", "j.doe_2"] {
            assert!(UserName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn user_names_with_spaces_or_colons_are_rejected() {
        for bad in ["", "a b", "user:alice", &"x".repeat(65)] {
            assert!(UserName::parse(bad).is_err(), "{bad}");
        }
    }
}

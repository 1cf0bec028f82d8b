//! Store names: the one piece of a store a person types, so every rule it breaks is named.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A validated store name: a DNS-1123 label of 3 to 40 lowercase characters that is not
/// reserved. It becomes the store's host (`<name>.<base domain>`), so it is checked here,
/// once, and nothing downstream handles a raw name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "acme"))]
#[serde(transparent)]
pub struct StoreName(String);

impl StoreName {
    /// Shortest name accepted.
    pub const MIN_LEN: usize = 3;
    /// Longest name accepted: short enough for `<name>.<base domain>` to stay a readable host.
    pub const MAX_LEN: usize = 40;
    /// The characters a name may have, as a regular expression (ECMA-262, as JSON Schema
    /// reads it); the length limits and the reserved words and prefixes come on top.
    pub const PATTERN: &'static str = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$";
    /// Names that would shadow a platform endpoint or mislead a visitor of `<name>.<domain>`.
    pub const RESERVED_WORDS: &'static [&'static str] = &[
        "admin",
        "api",
        "app",
        "dashboard",
        "default",
        "mail",
        "root",
        "status",
        "storeplane",
        "www",
    ];

    /// Prefixes that Kubernetes or DNS give a meaning of their own (`xn--` is punycode, which
    /// would let a name render as a look-alike of another store's host).
    pub const RESERVED_PREFIXES: &'static [&'static str] = &["kube-", "xn--"];

    /// Checks `raw` against every rule, reporting the first one it breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let fail = |rule| {
            Err(InvalidName {
                name: raw.to_owned(),
                rule,
            })
        };
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return fail(NameRule::TooShort {
                min: Self::MIN_LEN,
                len,
            });
        }
        if len > Self::MAX_LEN {
            return fail(NameRule::TooLong {
                max: Self::MAX_LEN,
                len,
            });
        }
        if raw.chars().any(|c| c.is_ascii_uppercase()) {
            return fail(NameRule::Uppercase);
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return fail(NameRule::InvalidCharacter(c));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return fail(NameRule::HyphenAtEdge);
        }
        if Self::RESERVED_WORDS.contains(&raw) {
            return fail(NameRule::Reserved);
        }
        if let Some(prefix) = Self::RESERVED_PREFIXES
            .iter()
            .find(|p| raw.starts_with(**p))
        {
            return fail(NameRule::ReservedPrefix(prefix));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StoreName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for StoreName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The rule a rejected name broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameRule {
    TooShort { min: usize, len: usize },
    TooLong { max: usize, len: usize },
    Uppercase,
    InvalidCharacter(char),
    HyphenAtEdge,
    Reserved,
    ReservedPrefix(&'static str),
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { min, len } => {
                write!(f, "must be at least {min} characters (got {len})")
            }
            Self::TooLong { max, len } => write!(f, "must be at most {max} characters (got {len})"),
            Self::Uppercase => f.write_str("must be lowercase"),
            Self::InvalidCharacter(c) => write!(
                f,
                "may contain only lowercase letters, digits and '-' (found {c:?})"
            ),
            Self::HyphenAtEdge => f.write_str("must start and end with a letter or digit"),
            Self::Reserved => f.write_str("is reserved"),
            Self::ReservedPrefix(prefix) => write!(f, "must not start with {prefix:?}"),
        }
    }
}

/// A name that broke [`NameRule`]; its message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store name {name:?}: it {rule}")]
pub struct InvalidName {
    pub name: String,
    pub rule: NameRule,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_broken_by(raw: &str) -> NameRule {
        StoreName::parse(raw).expect_err(raw).rule
    }

    #[test]
    fn a_plain_lowercase_name_is_accepted() {
        assert_eq!(
            StoreName::parse("acme-shop-2").unwrap().as_str(),
            "acme-shop-2"
        );
    }

    #[test]
    fn names_at_the_length_bounds_are_accepted() {
        assert!(StoreName::parse("abc").is_ok());
        assert!(StoreName::parse(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert_eq!(rule_broken_by("ab"), NameRule::TooShort { min: 3, len: 2 });
        assert_eq!(
            rule_broken_by(&"a".repeat(41)),
            NameRule::TooLong { max: 40, len: 41 }
        );
        assert_eq!(rule_broken_by("Acme"), NameRule::Uppercase);
        assert_eq!(rule_broken_by("acme_shop"), NameRule::InvalidCharacter('_'));
        assert_eq!(rule_broken_by("acme.shop"), NameRule::InvalidCharacter('.'));
        assert_eq!(rule_broken_by("café"), NameRule::InvalidCharacter('é'));
        assert_eq!(rule_broken_by("-acme"), NameRule::HyphenAtEdge);
        assert_eq!(rule_broken_by("acme-"), NameRule::HyphenAtEdge);
        assert_eq!(rule_broken_by("admin"), NameRule::Reserved);
        assert_eq!(rule_broken_by("www"), NameRule::Reserved);
        assert_eq!(
            rule_broken_by("kube-system"),
            NameRule::ReservedPrefix("kube-")
        );
        assert_eq!(
            rule_broken_by("xn--80ak6aa92e"),
            NameRule::ReservedPrefix("xn--")
        );
    }

    #[test]
    fn the_error_message_says_which_rule_failed() {
        let err = StoreName::parse("Shop").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid store name \"Shop\": it must be lowercase"
        );
        let err = StoreName::parse("kube-x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid store name \"kube-x\": it must not start with \"kube-\""
        );
    }

    #[test]
    fn deserializing_validates_the_name() {
        let err = serde_json::from_str::<StoreName>("\"API\"").unwrap_err();
        assert!(err.to_string().contains("must be lowercase"), "{err}");
        assert!(serde_json::from_str::<StoreName>("\"my-shop\"").is_ok());
    }
}

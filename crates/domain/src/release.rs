//! What a store runs and what it is called: the engine release it is pinned to, and the
//! title its shop shows. Both are part of a store's spec, so both are checked here once.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The name of a release in the platform's catalog (for example `wp6.8-wc9.8`): it pins
/// every image and version a store of that engine runs. 1 to 63 characters of lowercase
/// letters, digits, `.` and `-`, starting and ending with a letter or a digit, so that it
/// can stand in a label value and a Job's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "wp6.8-wc9.8"))]
#[serde(transparent)]
pub struct ReleaseName(String);

/// A release name or a title that breaks its rule, with the rule in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {given:?}: {rule}")]
pub struct InvalidSpecValue {
    pub what: &'static str,
    pub given: String,
    pub rule: &'static str,
}

impl ReleaseName {
    pub const MAX_LEN: usize = 63;

    pub fn parse(raw: &str) -> Result<Self, InvalidSpecValue> {
        let fail = |rule| {
            Err(InvalidSpecValue {
                what: "release",
                given: raw.to_owned(),
                rule,
            })
        };
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return fail("must be 1 to 63 characters");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return fail("may hold only lowercase letters, digits, '.' and '-'");
        }
        let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !raw.bytes().next().is_some_and(edge) || !raw.bytes().last().is_some_and(edge) {
            return fail("must start and end with a letter or a digit");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReleaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReleaseName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The shop's title, as its storefront shows it (WordPress's `blogname`): 1 to 100
/// characters, no control characters, no leading or trailing white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "Acme Outfitters"))]
#[serde(transparent)]
pub struct StoreTitle(String);

impl StoreTitle {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidSpecValue> {
        let fail = |rule| {
            Err(InvalidSpecValue {
                what: "title",
                given: raw.to_owned(),
                rule,
            })
        };
        let len = raw.chars().count();
        if len == 0 || len > Self::MAX_LEN {
            return fail("must be 1 to 100 characters");
        }
        if raw.chars().any(char::is_control) {
            return fail("must not hold control characters");
        }
        if raw.trim() != raw {
            return fail("must not start or end with white space");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StoreTitle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_label_safe() {
        assert!(ReleaseName::parse("wp6.8-wc9.8").is_ok());
        assert!(ReleaseName::parse("2026.11").is_ok());
        for bad in ["", "WP6", "wp 6", "-wp", "wp.", &"x".repeat(64)] {
            assert!(ReleaseName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_invalid_release_says_which_rule_it_breaks() {
        let err = ReleaseName::parse("WP6").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid release \"WP6\": may hold only lowercase letters, digits, '.' and '-'"
        );
    }

    #[test]
    fn titles_are_trimmed_printable_text() {
        assert_eq!(
            StoreTitle::parse("Acme Outfitters").unwrap().as_str(),
            "Acme Outfitters"
        );
        assert!(StoreTitle::parse("Café Ünïcode 🛒").is_ok());
        for bad in ["", " padded", "line\nbreak", &"x".repeat(101)] {
            assert!(StoreTitle::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_title_from_json_is_checked_too() {
        let err = serde_json::from_str::<StoreTitle>("\"\\u0007bell\"").unwrap_err();
        assert!(err.to_string().contains("control characters"), "{err}");
    }
}

//! A store's generated secrets, passed in so that building stays pure.
//!
//! Each engine states which values it needs ([`SecretRequirement`]); the worker generates
//! them once with a CSPRNG, or reads them back from the store's existing Secrets, and
//! hands them over as [`StoreSecrets`]. Values never appear in `Debug` output.

use std::collections::BTreeMap;
use std::fmt;

use crate::BuildError;

/// One value an engine needs, and how the worker should produce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRequirement {
    /// The key, as used in [`StoreSecrets`] and in the Secret object that holds it.
    pub key: &'static str,
    pub kind: SecretKind,
}

/// How a secret value is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// At least `length` random characters. The worker should draw from `[A-Za-z0-9]`:
    /// values reach programs only as environment variables, but an alphanumeric password
    /// also survives a person pasting it anywhere. Any printable ASCII is accepted.
    Random { length: usize },
    /// A login name or email address: not secret, so the worker may use `default`.
    Login { default: &'static str },
}

impl SecretKind {
    /// True when the value must stay confidential (everything but a login name).
    pub const fn is_confidential(self) -> bool {
        matches!(self, Self::Random { .. })
    }
}

/// The secret values of one store, by key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoreSecrets {
    values: BTreeMap<String, String>,
}

impl StoreSecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing what was there.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.values.insert(key.into(), value.into());
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Fills every requirement with a value from `generate`, as the worker does for a new
    /// store (its `generate` draws from a CSPRNG; tests pass a fixed function).
    pub fn generate(
        requirements: &[SecretRequirement],
        mut generate: impl FnMut(&SecretRequirement) -> String,
    ) -> Self {
        let mut secrets = Self::new();
        for requirement in requirements {
            secrets.insert(requirement.key, generate(requirement));
        }
        secrets
    }

    /// Checks that every requirement has a well-formed value.
    pub fn check(&self, requirements: &[SecretRequirement]) -> Result<(), BuildError> {
        for requirement in requirements {
            let key = requirement.key;
            let value = self.get(key).ok_or(BuildError::MissingSecret { key })?;
            let reason = match requirement.kind {
                SecretKind::Random { length } if value.chars().count() < length => {
                    Some("is shorter than required")
                }
                SecretKind::Random { .. } if !value.bytes().all(|b| b.is_ascii_graphic()) => {
                    Some("may contain only printable ASCII characters without spaces")
                }
                SecretKind::Login { .. }
                    if value.is_empty()
                        || value.len() > 60
                        || !value.bytes().all(|b| {
                            b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || matches!(b, b'-' | b'_' | b'.' | b'@')
                        }) =>
                {
                    Some("must be 1 to 60 lowercase letters, digits, '-', '_', '.' or '@'")
                }
                _ => None,
            };
            if let Some(reason) = reason {
                return Err(BuildError::InvalidSecret { key, reason });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for StoreSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values.keys().map(|key| (key, "<redacted>")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIREMENTS: &[SecretRequirement] = &[
        SecretRequirement {
            key: "db-password",
            kind: SecretKind::Random { length: 16 },
        },
        SecretRequirement {
            key: "admin-user",
            kind: SecretKind::Login { default: "admin" },
        },
    ];

    #[test]
    fn debug_output_shows_keys_but_never_values() {
        let mut secrets = StoreSecrets::new();
        secrets.insert("db-password", "hunter2hunter2hunter2");
        let debug = format!("{secrets:?}");
        assert!(debug.contains("db-password"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_missing_or_short_secret_is_named() {
        let mut secrets = StoreSecrets::new();
        secrets.insert("admin-user", "admin");
        assert!(matches!(
            secrets.check(REQUIREMENTS),
            Err(BuildError::MissingSecret { key: "db-password" })
        ));
        secrets.insert("db-password", "short");
        assert!(matches!(
            secrets.check(REQUIREMENTS),
            Err(BuildError::InvalidSecret {
                key: "db-password",
                ..
            })
        ));
    }

    #[test]
    fn generated_secrets_satisfy_their_requirements() {
        let secrets = StoreSecrets::generate(REQUIREMENTS, |r| match r.kind {
            SecretKind::Random { length } => "x".repeat(length),
            SecretKind::Login { default } => default.to_owned(),
        });
        assert!(secrets.check(REQUIREMENTS).is_ok());
    }
}

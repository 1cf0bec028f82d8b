//! Levels, versions and the per-namespace policy read from the
//! `pod-security.kubernetes.io/*` labels, parsed the way the upstream admission does.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

/// The newest policy version whose checks are known here; newer versions (and `latest`)
/// evaluate as this one, as a real server evaluates a version newer than itself.
pub const NEWEST_KNOWN_MINOR: u32 = 35;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// No restrictions.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening best practice; includes every baseline check.
    Restricted,
}

impl Level {
    /// The label value: `privileged`, `baseline` or `restricted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level or version label value that does not parse; the message is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not one of the three levels.
    #[error("must be one of privileged, baseline, restricted")]
    Level,
    /// Neither `latest` nor `v1.<minor>`.
    #[error("must be \"latest\" or \"v1.x\"")]
    Version,
}

impl FromStr for Level {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "privileged" => Ok(Self::Privileged),
            "baseline" => Ok(Self::Baseline),
            "restricted" => Ok(Self::Restricted),
            _ => Err(ParseError::Level),
        }
    }
}

/// A policy version: `latest`, or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The newest checks the evaluator knows.
    Latest,
    /// `v1.<minor>`.
    Minor(u32),
}

impl Version {
    /// The minor version whose checks apply: newer than the newest known evaluates as it.
    pub fn effective_minor(self) -> u32 {
        match self {
            Self::Latest => NEWEST_KNOWN_MINOR,
            Self::Minor(m) => m.min(NEWEST_KNOWN_MINOR),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Self::Latest);
        }
        // `^v1\.([0-9]|[1-9][0-9]*)$`: no leading zeros, no sign, no patch.
        let minor = s.strip_prefix("v1.").ok_or(ParseError::Version)?;
        let digits_only = !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
        if !digits_only || (minor.len() > 1 && minor.starts_with('0')) {
            return Err(ParseError::Version);
        }
        minor
            .parse()
            .map(Self::Minor)
            .map_err(|_| ParseError::Version)
    }
}

/// A level at a version, written `restricted:v1.33` in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    /// The level.
    pub level: Level,
    /// The version.
    pub version: Version,
}

impl LevelVersion {
    /// `level` at `version`.
    pub fn new(level: Level, version: Version) -> Self {
        Self { level, version }
    }

    /// `level` at `latest`.
    pub fn latest(level: Level) -> Self {
        Self::new(level, Version::Latest)
    }
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

impl FromStr for LevelVersion {
    type Err = ParseError;

    /// `restricted`, `restricted:v1.33` or `baseline:latest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (level, version) = s.split_once(':').unwrap_or((s, "latest"));
        Ok(Self::new(level.parse()?, version.parse()?))
    }
}

/// The enforce label.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The enforce version label.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
/// The audit label.
pub const AUDIT_LABEL: &str = "pod-security.kubernetes.io/audit";
/// The audit version label.
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
/// The warn label.
pub const WARN_LABEL: &str = "pod-security.kubernetes.io/warn";
/// The warn version label.
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// A namespace's policy: what is enforced, audited and warned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Pods that violate this are refused.
    pub enforce: LevelVersion,
    /// Violations are recorded in the audit log.
    pub audit: LevelVersion,
    /// Violations are returned to the client as warnings.
    pub warn: LevelVersion,
}

impl Default for Policy {
    /// The API server's default with no admission configuration: `privileged:latest`.
    fn default() -> Self {
        let open = LevelVersion::latest(Level::Privileged);
        Self {
            enforce: open,
            audit: open,
            warn: open,
        }
    }
}

/// A label whose value does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// The label key.
    pub label: &'static str,
    /// Its value.
    pub value: String,
    /// Why it is invalid.
    pub error: ParseError,
}

impl Policy {
    /// The policy a namespace's labels (`metadata.labels`) give, falling back to the
    /// default for unset labels. As upstream: an invalid enforce value enforces
    /// `restricted`/`latest` (fail closed), an invalid audit or warn level means
    /// `privileged` (fail open); the errors are returned beside a usable policy.
    pub fn from_labels(labels: Option<&Map<String, Value>>) -> (Self, Vec<LabelError>) {
        let mut policy = Self::default();
        let mut errors = Vec::new();
        let Some(labels) = labels else {
            return (policy, errors);
        };
        let read = |key: &'static str| -> Option<&str> {
            let value = labels.get(key)?;
            // A non-string label never gets past a real server's decoding; treat it as
            // an invalid value rather than as unset.
            Some(value.as_str().unwrap_or("\u{0}"))
        };
        let parse_level = |key, fail_open: bool, errors: &mut Vec<LabelError>| {
            let value = read(key)?;
            Some(value.parse::<Level>().unwrap_or_else(|error| {
                errors.push(LabelError {
                    label: key,
                    value: value.to_string(),
                    error,
                });
                if fail_open {
                    Level::Privileged
                } else {
                    Level::Restricted
                }
            }))
        };
        if let Some(level) = parse_level(ENFORCE_LABEL, false, &mut errors) {
            policy.enforce.level = level;
        }
        if let Some(level) = parse_level(AUDIT_LABEL, true, &mut errors) {
            policy.audit.level = level;
        }
        if let Some(level) = parse_level(WARN_LABEL, true, &mut errors) {
            policy.warn.level = level;
        }
        for (key, slot) in [
            (ENFORCE_VERSION_LABEL, &mut policy.enforce.version),
            (AUDIT_VERSION_LABEL, &mut policy.audit.version),
            (WARN_VERSION_LABEL, &mut policy.warn.version),
        ] {
            let Some(value) = labels.get(key) else {
                continue;
            };
            let value = value.as_str().unwrap_or("\u{0}");
            *slot = value.parse().unwrap_or_else(|error| {
                errors.push(LabelError {
                    label: key,
                    value: value.to_string(),
                    error,
                });
                Version::Latest
            });
        }
        (policy, errors)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions_parse_as_upstream_does() {
        assert_eq!("latest".parse(), Ok(Version::Latest));
        assert_eq!("v1.33".parse(), Ok(Version::Minor(33)));
        assert_eq!("v1.0".parse(), Ok(Version::Minor(0)));
        for bad in [
            "1.33", "v1.033", "v2.1", "v1.", "v1.33.0", "v1.-1", "Latest",
        ] {
            assert_eq!(bad.parse::<Version>(), Err(ParseError::Version), "{bad}");
        }
    }

    #[test]
    fn versions_newer_than_known_evaluate_as_the_newest() {
        assert_eq!(Version::Minor(99).effective_minor(), NEWEST_KNOWN_MINOR);
        assert_eq!(Version::Minor(30).effective_minor(), 30);
    }

    #[test]
    fn level_versions_print_as_in_messages() {
        let lv: LevelVersion = "restricted:v1.33".parse().expect("parses");
        assert_eq!(lv.to_string(), "restricted:v1.33");
        assert_eq!(
            "baseline".parse::<LevelVersion>().map(|l| l.to_string()),
            Ok("baseline:latest".into())
        );
    }

    #[test]
    fn namespace_labels_give_the_policy_and_unset_modes_stay_privileged() {
        let labels = json!({
            ENFORCE_LABEL: "restricted",
            ENFORCE_VERSION_LABEL: "v1.33",
            WARN_LABEL: "baseline",
        });
        let (policy, errors) = Policy::from_labels(labels.as_object());
        assert!(errors.is_empty());
        assert_eq!(policy.enforce.to_string(), "restricted:v1.33");
        assert_eq!(policy.warn.to_string(), "baseline:latest");
        assert_eq!(policy.audit.to_string(), "privileged:latest");
    }

    #[test]
    fn an_invalid_enforce_level_fails_closed_and_an_invalid_warn_level_fails_open() {
        let labels = json!({ ENFORCE_LABEL: "strict", WARN_LABEL: "loud" });
        let (policy, errors) = Policy::from_labels(labels.as_object());
        assert_eq!(policy.enforce.level, Level::Restricted);
        assert_eq!(policy.warn.level, Level::Privileged);
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].error.to_string(),
            "must be one of privileged, baseline, restricted"
        );
    }
}

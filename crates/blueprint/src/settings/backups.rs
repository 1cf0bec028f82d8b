//! Where and how stores are backed up: the repository every store's backups go to (each
//! store its own restic repository under it, with its own key), the tool's image, the
//! schedule, and how long backups are kept. None of it changes what a store renders (the
//! backup Job is a step, built when a backup runs), so it is left out of the platform
//! digest.

use serde::{Deserialize, Serialize};
use storeplane_domain::BackupSchedule;

use crate::BuildError;

/// The shortest schedule allowed: a backup more often than this would mostly be waiting
/// on the one before it.
const MIN_SCHEDULE_SECONDS: u64 = 5;

/// The `backups:` block of the platform settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSettings {
    /// The restic image the backup and restore Jobs run (the official one by default).
    pub image: String,
    /// How often every store is backed up by schedule (`24h`, `6h`, `30m`), or `off`.
    pub schedule: String,
    /// Which snapshots each store keeps, per kind of backup, applied after each backup.
    pub retention: Retention,
    /// Days a deleted store's backups are kept, for restoring it as a new store; then
    /// they are purged.
    pub keep_after_delete_days: u32,
    /// Seconds a backup Job may run before it is failed.
    pub deadline_seconds: u64,
    /// The namespace that keeps every store's repository key (the platform's own, where
    /// storeplane runs): a key must outlive its store's namespace, so that a deleted
    /// store's backups can still be restored.
    pub keys_namespace: String,
    /// The web server that shows a store's maintenance page while a backup is restored
    /// into it (any nginx that runs as non-root and keeps its temporary files in /tmp).
    pub maintenance_image: String,
    pub repository: Repository,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            image: "docker.io/restic/restic:0.18.1".to_owned(),
            schedule: "24h".to_owned(),
            retention: Retention::default(),
            keep_after_delete_days: 30,
            deadline_seconds: 3600,
            keys_namespace: "storeplane".to_owned(),
            maintenance_image: "docker.io/nginxinc/nginx-unprivileged:1.29-alpine".to_owned(),
            repository: Repository::default(),
        }
    }
}

/// restic's `forget` policy, per store and kind of backup (0 turns a rule off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub keep_last: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_last: 1,
            keep_daily: 7,
            keep_weekly: 4,
        }
    }
}

/// Where stores' repositories live. One of the two; `rest` by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Repository {
    /// An S3-compatible object store: store `<id>`'s repository is
    /// `s3:<endpoint>/<bucket>/<prefix>/<id>`. The access key comes from the platform's
    /// credentials Secret (see docs/operations.md), never from this file.
    S3(S3Repository),
    /// A restic REST server in the cluster (the chart's backup volume, for a laptop
    /// cluster): store `<id>`'s repository is `rest:<url>/<id>/`.
    Rest(RestRepository),
}

impl Default for Repository {
    fn default() -> Self {
        Self::Rest(RestRepository::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Repository {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://minio.backups.svc:9000`, ...
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_prefix")]
    pub prefix: String,
    #[serde(default)]
    pub region: Option<String>,
    /// The namespace the object store runs in, when it runs in the cluster (MinIO, say):
    /// backup pods may reach that namespace on the endpoint's port. Unset, they may reach
    /// public addresses on it.
    #[serde(default)]
    pub namespace: Option<String>,
}

fn default_prefix() -> String {
    "storeplane".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestRepository {
    /// The server's Service, in `namespace`, on `port`.
    pub service: String,
    pub namespace: String,
    pub port: u16,
}

impl Default for RestRepository {
    fn default() -> Self {
        Self {
            service: "storeplane-backups".to_owned(),
            namespace: "storeplane".to_owned(),
            port: 8000,
        }
    }
}

impl S3Repository {
    /// The endpoint's port: the one it names, or its scheme's.
    pub fn port(&self) -> u16 {
        let (scheme, rest) = self.endpoint.split_once("://").unwrap_or(("https", ""));
        let authority = rest.split('/').next().unwrap_or_default();
        authority
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or(if scheme == "http" { 80 } else { 443 })
    }
}

impl Repository {
    /// Store `id`'s repository, as restic names it.
    pub fn for_store(&self, id: &str) -> String {
        match self {
            Self::S3(s3) => format!(
                "s3:{}/{}/{}/{id}",
                s3.endpoint.trim_end_matches('/'),
                s3.bucket,
                s3.prefix.trim_matches('/')
            ),
            Self::Rest(rest) => format!(
                "rest:http://{}.{}.svc:{}/{id}/",
                rest.service, rest.namespace, rest.port
            ),
        }
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> BuildError {
    BuildError::InvalidSetting {
        field: format!("backups.{field}"),
        reason: reason.into(),
    }
}

fn check_label(field: &str, value: &str) -> Result<(), BuildError> {
    super::check_dns_label(&format!("backups.{field}"), value)
}

impl BackupSettings {
    /// The schedule the `schedule` field says (checked by [`BackupSettings::check`]; off
    /// when it does not parse).
    pub fn schedule(&self) -> BackupSchedule {
        if self.schedule.trim() == "off" {
            return BackupSchedule::OFF;
        }
        humantime::parse_duration(self.schedule.trim()).map_or(BackupSchedule::OFF, |every| {
            BackupSchedule {
                every_seconds: Some(every.as_secs()),
            }
        })
    }

    /// Checks the block, naming the field that is wrong.
    pub fn check(&self) -> Result<(), BuildError> {
        let schedule = self.schedule.trim();
        if schedule != "off" {
            match humantime::parse_duration(schedule) {
                Ok(every) if every.as_secs() >= MIN_SCHEDULE_SECONDS => {}
                _ => {
                    return Err(invalid(
                        "schedule",
                        format!(
                            "must be a duration such as 24h, 6h or 30m (at least {MIN_SCHEDULE_SECONDS}s), or off"
                        ),
                    ));
                }
            }
        }
        for (field, image) in [
            ("image", &self.image),
            ("maintenance_image", &self.maintenance_image),
        ] {
            if image.trim().is_empty() || image.contains(char::is_whitespace) {
                return Err(invalid(field, "must be an image reference"));
            }
        }
        let Retention {
            keep_last,
            keep_daily,
            keep_weekly,
        } = self.retention;
        if keep_last + keep_daily + keep_weekly == 0 {
            return Err(invalid(
                "retention",
                "must keep something: set keep_last, keep_daily or keep_weekly above 0",
            ));
        }
        check_label("keys_namespace", &self.keys_namespace)?;
        if self.deadline_seconds < 60 {
            return Err(invalid("deadline_seconds", "must be at least 60 seconds"));
        }
        match &self.repository {
            Repository::S3(s3) => {
                let scheme_ok =
                    s3.endpoint.starts_with("https://") || s3.endpoint.starts_with("http://");
                if !scheme_ok || s3.endpoint.contains(char::is_whitespace) {
                    return Err(invalid(
                        "repository.s3.endpoint",
                        "must be an http:// or https:// URL",
                    ));
                }
                let bucket_ok = (3..=63).contains(&s3.bucket.len())
                    && s3.bucket.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                    });
                if !bucket_ok {
                    return Err(invalid(
                        "repository.s3.bucket",
                        "must be a bucket name: 3 to 63 lowercase letters, digits, '-' or '.'",
                    ));
                }
                if s3.prefix.contains(char::is_whitespace) || s3.prefix.contains("..") {
                    return Err(invalid(
                        "repository.s3.prefix",
                        "must be a path without spaces or '..'",
                    ));
                }
            }
            Repository::Rest(rest) => {
                check_label("repository.rest.service", &rest.service)?;
                check_label("repository.rest.namespace", &rest.namespace)?;
                if rest.port == 0 {
                    return Err(invalid("repository.rest.port", "must be a port"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_store_gets_its_own_repository_below_the_platforms() {
        let s3 = Repository::S3(S3Repository {
            endpoint: "https://s3.example.com/".into(),
            bucket: "shops".into(),
            prefix: "/storeplane/".into(),
            region: None,
            namespace: None,
        });
        assert_eq!(
            s3.for_store("0193"),
            "s3:https://s3.example.com/shops/storeplane/0193"
        );
        assert_eq!(
            Repository::default().for_store("0193"),
            "rest:http://storeplane-backups.storeplane.svc:8000/0193/"
        );
    }

    #[test]
    fn the_s3_port_is_the_endpoints_or_its_schemes() {
        let at = |endpoint: &str| S3Repository {
            endpoint: endpoint.into(),
            bucket: "b".into(),
            prefix: "p".into(),
            region: None,
            namespace: None,
        };
        assert_eq!(at("https://s3.example.com").port(), 443);
        assert_eq!(at("http://minio.backups.svc:9000/").port(), 9000);
        assert_eq!(at("http://minio").port(), 80);
    }

    #[test]
    fn a_wrong_field_is_named() {
        let field = |settings: BackupSettings| match settings.check() {
            Err(BuildError::InvalidSetting { field, .. }) => field,
            other => panic!("expected an invalid setting, got {other:?}"),
        };
        let settings = BackupSettings {
            retention: Retention {
                keep_last: 0,
                keep_daily: 0,
                keep_weekly: 0,
            },
            ..BackupSettings::default()
        };
        assert_eq!(field(settings), "backups.retention");
        let settings = BackupSettings {
            repository: Repository::S3(S3Repository {
                endpoint: "s3.example.com".into(),
                bucket: "shops".into(),
                prefix: "p".into(),
                region: None,
                namespace: None,
            }),
            ..BackupSettings::default()
        };
        assert_eq!(field(settings), "backups.repository.s3.endpoint");
        for schedule in ["daily", "12", "1s"] {
            let settings = BackupSettings {
                schedule: schedule.to_owned(),
                ..BackupSettings::default()
            };
            assert_eq!(field(settings), "backups.schedule", "{schedule}");
        }
        let off = BackupSettings {
            schedule: "off".to_owned(),
            ..BackupSettings::default()
        };
        assert!(off.check().is_ok());
        assert_eq!(off.schedule(), BackupSchedule::OFF);
        assert!(BackupSettings::default().check().is_ok());
    }

    #[test]
    fn the_block_parses_with_defaults() {
        let settings: BackupSettings = serde_saphyr::from_str(
            "schedule: 12h\nrepository:\n  s3:\n    endpoint: https://s3.example.com\n    bucket: shops\n",
        )
        .unwrap();
        assert_eq!(settings.schedule(), BackupSchedule::hours(12));
        assert_eq!(settings.retention, Retention::default());
        assert!(matches!(&settings.repository, Repository::S3(s3) if s3.prefix == "storeplane"));
        assert!(serde_saphyr::from_str::<BackupSettings>("every: 12h\n").is_err());
    }
}

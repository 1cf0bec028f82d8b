//! Backups: copies of a store's database and files kept outside its namespace, taken on a
//! schedule, on request, and before an upgrade; and the rules that say when the next
//! scheduled one is due and when a store has gone too long without one.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::text_enum;
use crate::{Actor, RevisionNumber, StoreId};

/// A backup's identity: a UUIDv7, so ids sort by the time they were requested, and unique
/// across stores (a backup outlives its store and can be restored into another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[serde(transparent)]
pub struct BackupId(Uuid);

impl BackupId {
    /// A fresh id for a backup requested now (tests use [`BackupId::from_uuid`]).
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// Eight hex digits that tell the backup apart within a store, for names of objects
    /// and for people: the UUID's random tail, since its head is the time.
    pub fn short(&self) -> String {
        let simple = self.0.simple().to_string();
        simple[simple.len() - 8..].to_owned()
    }
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for BackupId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

text_enum! {
    /// Why a backup was taken.
    BackupKind, "backup kind" {
        /// By the store's schedule.
        Scheduled = "scheduled",
        /// Asked for by a person.
        Manual = "manual",
        /// Before a revision that can migrate data is applied.
        Checkpoint = "checkpoint",
    }
}

text_enum! {
    /// Where a backup stands.
    BackupStatus, "backup status" {
        /// Requested; the worker has not started it.
        Pending = "pending",
        /// Its Job is running.
        Running = "running",
        /// In the repository: it can be restored.
        Succeeded = "succeeded",
        /// It did not complete; the backup before it is still the latest.
        Failed = "failed",
    }
}

impl BackupStatus {
    /// Pending and running backups are active: a store has at most one.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }
}

/// What the backup tool reported of a snapshot it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFigures {
    /// The snapshot's id in the store's repository (restic's, in full).
    pub snapshot: String,
    /// How much data the snapshot holds (the dump and the files).
    pub size_bytes: u64,
    /// What the snapshot added to the repository, after deduplication and compression.
    pub added_bytes: u64,
    pub duration_ms: u64,
}

impl BackupFigures {
    /// "19.8 MiB, 229 KiB added, in 4.2 s", for the timeline and the CLI.
    #[allow(clippy::cast_precision_loss)] // a duration shown to a tenth of a second
    pub fn describe(&self) -> String {
        format!(
            "{}, {} added, in {:.1} s",
            human_bytes(self.size_bytes),
            human_bytes(self.added_bytes),
            self.duration_ms as f64 / 1000.0
        )
    }
}

/// A size in the largest binary unit that keeps it at 1 or more ("19.8 MiB", "512 B").
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)] // a size shown to one decimal
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A backup as the metadata store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub id: BackupId,
    pub store_id: StoreId,
    pub kind: BackupKind,
    pub status: BackupStatus,
    pub actor: Actor,
    pub reason: String,
    /// The store's deployed revision when the backup was requested.
    pub revision: Option<RevisionNumber>,
    /// Set once it succeeded.
    pub figures: Option<BackupFigures>,
    /// Why it failed, read from the cluster where it could be.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Set when the store is deleted: the backup is purged after this time.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The backup a store has in progress, as much of it as a store's summary shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveBackup {
    pub id: BackupId,
    pub kind: BackupKind,
}

/// A store's backups, as much of them as a store's summary shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreBackups {
    /// The backup pending or running, if any: a store takes one at a time, and nothing
    /// else changes it meanwhile.
    pub active: Option<ActiveBackup>,
    /// When the newest scheduled backup was requested (the schedule counts from it).
    pub last_scheduled_at: Option<DateTime<Utc>>,
    /// When the newest successful backup of any kind finished.
    pub last_succeeded_at: Option<DateTime<Utc>>,
}

/// How often a store is backed up by schedule: every `every_seconds`, or never (`None`
/// or 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSchedule {
    pub every_seconds: Option<u64>,
}

/// Where a store stands with its scheduled backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupHealth {
    /// When the next scheduled backup is due (`None` with no schedule).
    pub next_scheduled_at: Option<DateTime<Utc>>,
    /// Set when the last successful backup is older than twice the schedule (or there is
    /// none and the store has run that long without one).
    pub warning: Option<String>,
}

impl BackupSchedule {
    /// Every `hours` hours.
    pub const fn hours(hours: u64) -> Self {
        Self {
            every_seconds: Some(hours * 3600),
        }
    }

    /// No scheduled backups.
    pub const OFF: Self = Self {
        every_seconds: None,
    };

    fn every(self) -> Option<Duration> {
        self.every_seconds
            .filter(|s| *s > 0)
            .and_then(|s| i64::try_from(s).ok())
            .map(Duration::seconds)
    }

    /// The interval as people write it ("24 h", "30 min", "90 s"); `None` when off.
    pub fn describe(self) -> Option<String> {
        let seconds = self.every_seconds.filter(|s| *s > 0)?;
        Some(if seconds % 3600 == 0 {
            format!("{} h", seconds / 3600)
        } else if seconds % 60 == 0 {
            format!("{} min", seconds / 60)
        } else {
            format!("{seconds} s")
        })
    }

    /// When the next scheduled backup is due: one interval after the last scheduled
    /// backup was requested, or after `since` (when the store was created) when none was.
    pub fn next_due(
        self,
        last_scheduled: Option<DateTime<Utc>>,
        since: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let every = self.every()?;
        Some(last_scheduled.unwrap_or(since) + every)
    }

    /// The store's backup health at `now`: `last_succeeded` is the newest successful
    /// backup of any kind, `since` when the store has existed from.
    pub fn health(
        self,
        last_scheduled: Option<DateTime<Utc>>,
        last_succeeded: Option<DateTime<Utc>>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BackupHealth {
        let next_scheduled_at = self.next_due(last_scheduled, since);
        let warning = self.every().and_then(|every| {
            let from = last_succeeded.unwrap_or(since);
            let age = now - from;
            if age <= every * 2 {
                return None;
            }
            let every = self.describe().unwrap_or_default();
            Some(match last_succeeded {
                Some(_) => format!(
                    "the last successful backup is {} old, more than twice the schedule (every {every})",
                    describe_age(age)
                ),
                None => format!(
                    "no successful backup in {}, more than twice the schedule (every {every})",
                    describe_age(age)
                ),
            })
        });
        BackupHealth {
            next_scheduled_at,
            warning,
        }
    }
}

/// An age in the largest unit that fits ("3 days", "26 hours", "40 minutes").
fn describe_age(age: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if age.num_days() >= 2 {
        plural(age.num_days(), "day")
    } else if age.num_hours() >= 1 {
        plural(age.num_hours(), "hour")
    } else {
        plural(age.num_minutes(), "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(hours)
    }

    const DAILY: BackupSchedule = BackupSchedule::hours(24);

    #[test]
    fn the_next_scheduled_backup_is_one_interval_after_the_last() {
        assert_eq!(DAILY.next_due(None, at(0)), Some(at(24)));
        assert_eq!(DAILY.next_due(Some(at(30)), at(0)), Some(at(54)));
        assert_eq!(BackupSchedule::OFF.next_due(Some(at(30)), at(0)), None);
        let zero = BackupSchedule {
            every_seconds: Some(0),
        };
        assert_eq!(zero.next_due(None, at(0)), None, "0 hours means off");
    }

    #[test]
    fn a_store_warns_once_its_last_success_is_older_than_twice_the_schedule() {
        let fresh = DAILY.health(Some(at(24)), Some(at(24)), at(0), at(70));
        assert_eq!(fresh.warning, None);
        assert_eq!(fresh.next_scheduled_at, Some(at(48)));
        let stale = DAILY.health(Some(at(96)), Some(at(24)), at(0), at(97));
        assert_eq!(
            stale.warning.as_deref(),
            Some(
                "the last successful backup is 3 days old, more than twice the schedule (every 24 h)"
            )
        );
    }

    #[test]
    fn a_store_never_backed_up_warns_only_after_two_intervals() {
        assert_eq!(DAILY.health(None, None, at(0), at(47)).warning, None);
        let warning = DAILY.health(None, None, at(0), at(49)).warning.unwrap();
        assert!(
            warning.starts_with("no successful backup in 2 days"),
            "{warning}"
        );
    }

    #[test]
    fn without_a_schedule_nothing_is_due_and_nothing_warns() {
        let health = BackupSchedule::OFF.health(None, None, at(0), at(1000));
        assert_eq!(health.next_scheduled_at, None);
        assert_eq!(health.warning, None);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(234_567), "229 KiB");
        assert_eq!(human_bytes(20_761_421), "19.8 MiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        let figures = BackupFigures {
            snapshot: "4f1c2a9b".into(),
            size_bytes: 20_761_421,
            added_bytes: 234_567,
            duration_ms: 4210,
        };
        assert_eq!(figures.describe(), "19.8 MiB, 229 KiB added, in 4.2 s");
    }

    #[test]
    fn an_interval_reads_in_its_largest_whole_unit() {
        assert_eq!(DAILY.describe().as_deref(), Some("24 h"));
        let every = |s| BackupSchedule {
            every_seconds: Some(s),
        };
        assert_eq!(every(1800).describe().as_deref(), Some("30 min"));
        assert_eq!(every(90).describe().as_deref(), Some("90 s"));
        assert_eq!(every(0).describe(), None);
    }

    #[test]
    fn the_short_id_is_the_random_tail() {
        let id: BackupId = "01936f3e-8b7a-7c2d-9e4f-0123456789ab".parse().unwrap();
        assert_eq!(id.short(), "456789ab");
    }
}

//! How results look in a terminal: stores as an aligned table or key/value lines, events as
//! one line each. Pure functions of their inputs (the current time included), so what a
//! person sees is tested without a server or a clock.

use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{Table, presets};
use storeplane_api::dto::{
    BackupView, ChangeResponse, CredentialsView, EventView, ReleaseView, RevisionView, StoreView,
};
use storeplane_domain::human_bytes;

/// The longest event kind (`credentials_revealed`), so that messages line up in a stream
/// whose later lines are not known yet.
const KIND_WIDTH: usize = 20;

/// Stores as an aligned table, newest first as the API lists them; ages are relative to
/// `now`.
pub fn store_table(stores: &[StoreView], now: DateTime<Utc>) -> String {
    if stores.is_empty() {
        return "No stores yet. Create one with `storeplane store create NAME`.".to_owned();
    }
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(["NAME", "STATUS", "ENGINE", "PLAN", "URL", "AGE"]);
    for store in stores {
        table.add_row([
            store.name.clone(),
            store.status.to_string(),
            store.engine.to_string(),
            store.plan.to_string(),
            store.url.clone(),
            age(now - store.created_at),
        ]);
    }
    // The preset pads both sides of every cell; a leading space and trailing blanks only
    // get in the way of `grep` and `awk`.
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

/// One store as key/value lines.
pub fn store_details(store: &StoreView) -> String {
    let outputs: Vec<(String, String)> = store
        .outputs
        .iter()
        .map(|(key, value)| (key.replace('_', " "), value.clone()))
        .collect();
    let mut lines = vec![
        ("name", store.name.clone()),
        ("id", store.id.to_string()),
        ("status", store.status.to_string()),
    ];
    if let Some(reason) = &store.status_reason {
        lines.push(("reason", reason.clone()));
    }
    if let Some(operation) = &store.operation {
        lines.push(("operation", operation.description.clone()));
    }
    lines.extend([
        ("engine", store.engine.to_string()),
        ("plan", store.plan.to_string()),
        (
            "release",
            match (&store.release, store.release_is_default) {
                (Some(release), true) => release.to_string(),
                (Some(release), false) => format!("{release} (not the default any more)"),
                (None, _) => "-".to_owned(),
            },
        ),
        ("title", store.title.clone()),
        (
            "revision",
            match (store.revision, store.latest_revision) {
                (Some(deployed), Some(latest)) if latest != deployed => {
                    format!("{deployed} (latest {latest})")
                }
                (Some(deployed), _) => deployed.to_string(),
                (None, _) => "-".to_owned(),
            },
        ),
        ("url", store.url.clone()),
        ("admin url", store.admin_url.clone()),
    ]);
    // What the setup published (Medusa's publishable key), as `publishable key`.
    lines.extend(
        outputs
            .iter()
            .map(|(key, value)| (key.as_str(), value.clone())),
    );
    let backup = &store.backup;
    let last = backup
        .last_succeeded_at
        .map_or_else(|| "none yet".to_owned(), timestamp);
    lines.push((
        "backups",
        match (&backup.schedule, backup.next_scheduled_at) {
            (Some(every), Some(next)) => {
                format!("every {every}, next {}; last {last}", timestamp(next))
            }
            _ => format!("not scheduled; last {last}"),
        },
    ));
    if let Some(warning) = &backup.warning {
        lines.push(("warning", warning.clone()));
    }
    lines.extend([
        ("namespace", store.namespace.clone()),
        ("created", timestamp(store.created_at)),
        ("updated", timestamp(store.updated_at)),
    ]);
    key_values(&lines)
}

/// A store's revisions as a table, in the order given (the API's: newest first); ages are
/// relative to `now`.
pub fn revision_table(revisions: &[RevisionView], now: DateTime<Utc>) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(["REV", "STATUS", "CHANGES", "ACTOR", "AGE", "REASON/FAILURE"]);
    for revision in revisions {
        let changes = match revision.changes.as_str() {
            "" => "first provisioning".to_owned(),
            changes => changes.to_owned(),
        };
        let why = match &revision.failure {
            Some(failure) => format!("failed: {failure}"),
            None => revision.reason.clone(),
        };
        table.add_row([
            revision.number.to_string(),
            revision.status.to_string(),
            changes,
            revision.actor.clone(),
            age(now - revision.created_at),
            why,
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

/// What deleting `store` keeps of its backups, for the delete command to say; nothing
/// when its backups are not kept (or the server does not say).
pub fn backups_kept(store: &StoreView) -> Option<String> {
    match store.backup.keep_after_delete_days {
        0 => None,
        days => Some(format!(
            "its backups are kept for {days} day{}: until then `storeplane store create NAME --from-backup ID` restores one as a new store (`storeplane store backups {}` lists them)",
            if days == 1 { "" } else { "s" },
            store.name
        )),
    }
}

/// A store's backups as a table, newest first as the API lists them; ages are relative to
/// `now`.
pub fn backup_table(backups: &[BackupView], now: DateTime<Utc>) -> String {
    if backups.is_empty() {
        return "No backups yet. Take one with `storeplane store backup NAME`.".to_owned();
    }
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header([
        "ID",
        "KIND",
        "STATUS",
        "REV",
        "SIZE",
        "ADDED",
        "SNAPSHOT",
        "AGE",
        "REASON/FAILURE",
    ]);
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    for backup in backups {
        let why = match &backup.failure {
            Some(failure) => format!("failed: {failure}"),
            None => backup.reason.clone(),
        };
        table.add_row([
            backup.id.to_string(),
            backup.kind.to_string(),
            backup.status.to_string(),
            or_dash(backup.revision.map(|r| r.to_string())),
            or_dash(backup.size_bytes.map(human_bytes)),
            or_dash(backup.added_bytes.map(human_bytes)),
            or_dash(
                backup
                    .snapshot
                    .as_ref()
                    .map(|s| s.chars().take(8).collect()),
            ),
            age(now - backup.created_at),
            why,
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

/// The release catalog as a table: each release, whether it is its engine's default, and
/// what it pins.
pub fn release_table(releases: &[ReleaseView]) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(["ENGINE", "RELEASE", "DEFAULT", "COMPONENTS"]);
    for release in releases {
        let components = release
            .components
            .iter()
            .map(|(name, version)| format!("{name}={version}"))
            .collect::<Vec<_>>()
            .join(" ");
        table.add_row([
            release.engine.to_string(),
            release.name.to_string(),
            if release.default { "yes" } else { "" }.to_owned(),
            components,
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

/// What a change or a rollback did, in a few lines.
pub fn change(response: &ChangeResponse) -> String {
    let revision = &response.revision;
    let mut lines = vec![response.message.clone()];
    if response.changed {
        lines.push(key_values(&[
            ("revision", revision.number.to_string()),
            ("status", revision.status.to_string()),
            (
                "release",
                revision
                    .release
                    .as_ref()
                    .map_or_else(|| "(default)".to_owned(), ToString::to_string),
            ),
            ("plan", revision.plan.to_string()),
            ("title", revision.title.clone()),
        ]));
    }
    lines.join("\n")
}

/// A timeline event as one line: time, kind, message.
pub fn event_line(event: &EventView) -> String {
    format!(
        "{}  {:<KIND_WIDTH$}  {}",
        timestamp(event.at),
        event.kind.as_str(),
        event.message
    )
}

/// The admin credentials, with the warning that matters most.
pub fn credentials(credentials: &CredentialsView) -> String {
    let lines = [
        ("username", credentials.username.clone()),
        ("password", credentials.password.clone()),
        ("admin url", credentials.admin_url.clone()),
    ];
    format!("{}\n\n{}", key_values(&lines), CREDENTIALS_NOTE)
}

/// Said whenever credentials are shown, because the server never shows them again.
pub const CREDENTIALS_NOTE: &str =
    "Save these now: storeplane shows a store's credentials only once.";

/// A time as people and logs agree on it: UTC, to the second.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// How long ago, in the largest unit that keeps it short (`45s`, `12m`, `3h`, `9d`).
pub fn age(elapsed: chrono::Duration) -> String {
    let secs = elapsed.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn key_values(lines: &[(&str, String)]) -> String {
    let width = lines.iter().map(|(key, _)| key.len()).max().unwrap_or(0) + 1;
    lines
        .iter()
        .map(|(key, value)| format!("{:<width$} {value}", format!("{key}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_largest_unit_that_fits() {
        assert_eq!(age(chrono::Duration::seconds(45)), "45s");
        assert_eq!(age(chrono::Duration::seconds(125)), "2m");
        assert_eq!(age(chrono::Duration::hours(5)), "5h");
        assert_eq!(age(chrono::Duration::days(9)), "9d");
    }

    #[test]
    fn a_clock_slightly_behind_the_server_shows_no_negative_age() {
        assert_eq!(age(chrono::Duration::seconds(-3)), "0s");
    }

    fn revision(number: u32, changes: &str, failure: Option<&str>) -> RevisionView {
        serde_json::from_value(serde_json::json!({
            "number": number, "status": if failure.is_some() { "failed" } else { "deployed" },
            "release": "wp6.8-wc9.8", "plan": "small", "title": "acme", "changes": changes,
            "actor": "user:alice", "reason": "more traffic", "failure": failure,
            "created_at": "2026-11-22T10:00:00Z", "started_at": null, "finished_at": null,
            "manifest_digest": "d", "platform_digest": "p", "manifest_kept": true,
            "checkpoint": null, "rollback_of": null, "restores": null, "migrates_data": false,
        }))
        .unwrap()
    }

    #[test]
    fn the_history_names_the_first_provisioning_and_shows_a_failure_instead_of_the_reason() {
        let now = "2026-11-22T10:05:00Z".parse().unwrap();
        let table = revision_table(
            &[
                revision(2, "plan small -> medium", Some("ImagePullBackOff")),
                revision(1, "", None),
            ],
            now,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("REV"), "{table}");
        assert!(
            lines[1].contains("failed: ImagePullBackOff") && lines[1].contains("5m"),
            "{table}"
        );
        assert!(!lines[1].contains("more traffic"), "{table}");
        assert!(
            lines[2].contains("first provisioning") && lines[2].contains("more traffic"),
            "{table}"
        );
    }

    #[test]
    fn an_empty_list_says_how_to_create_a_store() {
        assert!(store_table(&[], Utc::now()).contains("storeplane store create"));
    }
}

//! `storeplane store backup`: ask for a backup now and, with `--wait`, follow the store's
//! timeline until it is taken (or failed).

use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use storeplane_api::dto::{BackupView, CreateBackupRequest, EventView};
use storeplane_domain::BackupId;

use crate::args::{BackupArgs, OutputFormat};
use crate::client::Client;
use crate::command_error::CommandError;
use crate::live::{LiveUpdate, LiveUpdates};
use crate::output::Printer;

/// A backup's request, as lines.
fn describe(backup: &BackupView) -> String {
    format!(
        "backup {} of store {} requested ({}, at revision {})",
        backup.id,
        backup.store_id,
        backup.kind,
        backup
            .revision
            .map_or_else(|| "-".to_owned(), |r| r.to_string())
    )
}

pub(crate) async fn backup<W: Write>(
    client: &Client,
    args: BackupArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    let request = CreateBackupRequest {
        reason: args.reason,
    };
    if !args.wait.wait {
        let backup = client.create_backup(target.id, &request).await?;
        printer.answer(&backup, &describe(&backup))?;
        return Ok(printer.note(&format!(
            "\n`storeplane store backups {}` shows it once it is taken",
            target.name
        ))?);
    }
    // Subscribed before the request, so that the backup's events cannot be missed.
    let mut updates = client.subscribe(None).await?;
    let backup = client.create_backup(target.id, &request).await?;
    printer.streamed(&backup, &describe(&backup))?;
    let limit = Duration::from_secs(args.wait.timeout);
    let outcome = tokio::time::timeout(limit, until_taken(&mut updates, backup.id, printer)).await;
    match outcome {
        Ok(Ok(None)) => {}
        Ok(Ok(Some(reason))) => {
            return Err(CommandError::BackupFailed {
                name: target.name,
                reason,
            });
        }
        Ok(Err(err)) => return Err(err),
        Err(_) => {
            return Err(CommandError::WaitTimedOut {
                name: target.name,
                seconds: args.wait.timeout,
                status: "taking a backup".to_owned(),
            });
        }
    }
    if printer.format() == OutputFormat::Json {
        let taken = client
            .list_backups(target.id)
            .await?
            .items
            .into_iter()
            .find(|b| b.id == backup.id);
        if let Some(taken) = taken {
            printer.streamed(&taken, "")?;
        }
    }
    Ok(())
}

/// The backup's status in `event`, if the event is one of its steps.
fn status_of(event: &EventView, id: BackupId) -> Option<&str> {
    let detail = &event.detail;
    let ours = detail.get("step").and_then(|s| s.as_str()) == Some("backup")
        && detail.get("backup").and_then(|b| b.as_str()) == Some(id.to_string().as_str());
    ours.then(|| detail.get("status").and_then(|s| s.as_str()))
        .flatten()
}

/// Prints the backup's events until it succeeded (`None`) or failed (`Some(reason)`).
async fn until_taken<W: Write>(
    updates: &mut LiveUpdates,
    id: BackupId,
    printer: &mut Printer<'_, W>,
) -> Result<Option<String>, CommandError> {
    loop {
        match updates.next().await {
            Some(Ok(LiveUpdate::Timeline(event))) => match status_of(&event, id) {
                Some("succeeded") => {
                    printer.event(&event)?;
                    return Ok(None);
                }
                Some("failed") => {
                    printer.event(&event)?;
                    return Ok(Some(event.message.clone()));
                }
                Some(_) => printer.event(&event)?,
                None => {}
            },
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(CommandError::StreamEnded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: serde_json::Value) -> EventView {
        serde_json::from_value(serde_json::json!({
            "seq": 1,
            "store_id": "01936f3e-8b7a-7c2d-9e4f-0123456789ab",
            "at": "2026-12-04T00:00:00Z",
            "kind": "step",
            "actor": "system:worker",
            "message": "backup 4f1c2a9b taken",
            "detail": detail,
        }))
        .unwrap()
    }

    #[test]
    fn only_this_backups_steps_are_followed() {
        let id: BackupId = "01936f3e-8b7a-7c2d-9e4f-0123456789ab".parse().unwrap();
        let other: BackupId = "01936f3e-8b7a-7c2d-9e4f-0123456789ac".parse().unwrap();
        let ours =
            event(serde_json::json!({"step": "backup", "backup": id, "status": "succeeded"}));
        assert_eq!(status_of(&ours, id), Some("succeeded"));
        assert_eq!(status_of(&ours, other), None);
        let revision = event(serde_json::json!({"step": "revision", "status": "deployed"}));
        assert_eq!(status_of(&revision, id), None);
    }
}

//! `storeplane store reset-password`: ask for a new admin password and, with `--wait`,
//! follow the store's timeline until the reset is done and the new credentials can be
//! revealed once.

use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use storeplane_api::dto::{EventView, StoreView};
use storeplane_domain::StoreStatus;

use crate::args::{OutputFormat, ResetPasswordArgs};
use crate::client::Client;
use crate::command_error::CommandError;
use crate::live::{LiveUpdate, LiveUpdates};
use crate::output::Printer;
use crate::render;

pub(crate) async fn reset_password<W: Write>(
    client: &Client,
    args: ResetPasswordArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    if !args.wait.wait {
        let reset = client.reset_password(target.id).await?;
        printer.answer(&reset, &render::store_details(&reset.store))?;
        return Ok(printer.note(&format!(
            "\nthe admin password of store {} is being reset; `storeplane store events {} --follow` shows when it is done",
            reset.store.name, reset.store.name
        ))?);
    }
    // Subscribed before the request, so that the reset's events cannot be missed.
    let mut updates = client.subscribe(None).await?;
    let reset = client.reset_password(target.id).await?;
    let mut store = reset.store;
    printer.streamed(&store, &render::store_details(&store))?;
    printer.note("")?;
    let limit = Duration::from_secs(args.wait.timeout);
    match tokio::time::timeout(limit, until_reset(&mut updates, &mut store, printer)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(err),
        Err(_) => {
            return Err(CommandError::WaitTimedOut {
                name: store.name.clone(),
                seconds: args.wait.timeout,
                status: "resetting its admin password".to_owned(),
            });
        }
    }
    if printer.format() == OutputFormat::Json {
        printer.streamed(&store, "")?;
    }
    printer.note(&format!(
        "\nthe admin password of store {} is reset; `storeplane store reveal {}` shows the new credentials once",
        store.name, store.name
    ))?;
    Ok(())
}

/// Whether `event` is the repository's word that the reset is done.
fn is_reset_done(event: &EventView) -> bool {
    event.detail.get("step").and_then(|s| s.as_str()) == Some("password_reset")
        && event.detail.get("status").and_then(|s| s.as_str()) == Some("done")
}

/// Prints the store's events until its reset is done, or the store fails or goes away.
async fn until_reset<W: Write>(
    updates: &mut LiveUpdates,
    store: &mut StoreView,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    loop {
        match updates.next().await {
            Some(Ok(LiveUpdate::Timeline(event))) if event.store_id == store.id => {
                printer.event(&event)?;
                if is_reset_done(&event) {
                    return Ok(());
                }
            }
            Some(Ok(LiveUpdate::Store(update))) if update.id == store.id => {
                *store = update;
                match store.status {
                    StoreStatus::Failed => {
                        return Err(CommandError::StoreFailed {
                            name: store.name.clone(),
                            reason: store
                                .status_reason
                                .clone()
                                .unwrap_or_else(|| "no reason given".to_owned()),
                        });
                    }
                    StoreStatus::Deleting | StoreStatus::Deleted => {
                        return Err(CommandError::Deleted {
                            name: store.name.clone(),
                        });
                    }
                    _ => {}
                }
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(CommandError::StreamEnded),
        }
    }
}

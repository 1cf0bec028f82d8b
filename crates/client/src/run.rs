//! Running a `storeplane store ...` command: one API client, one function per
//! subcommand, results printed in the chosen format.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use storeplane_api::dto::{
    ChangeResponse, ChangeStoreRequest, CreateStoreRequest, EventView, Page, RevisionView,
    RollbackRequest, StoreView,
};

use crate::args::{
    CreateArgs, DeleteArgs, DiffArgs, EventsArgs, ListArgs, OutputFormat, RestoreArgs,
    RollbackArgs, StoreArgs, StoreCommand, TargetArgs, UpdateArgs, WaitArgs,
};
use crate::client::Client;
use crate::command_error::CommandError;
use crate::live::{LiveUpdate, LiveUpdates};
use crate::output::Printer;
use crate::render;
use crate::watch::{Goal, watch_revision, watch_store};

/// Runs a store command, printing its results to stdout.
///
/// On failure returns a [`CommandError`] (inside the `anyhow::Error`) for the binary to
/// print as `error: <message>`; a store that failed while being waited for is
/// [`CommandError::StoreFailed`], so a caller can downcast to give it its own exit code.
pub async fn run(args: StoreArgs) -> anyhow::Result<()> {
    // Not locked for the whole run: a lock is not `Send`, and the future should be.
    let mut stdout = std::io::stdout();
    run_with_output(args, &mut stdout).await?;
    Ok(())
}

/// Runs a store command, printing its results to `out`.
pub async fn run_with_output<W: Write>(args: StoreArgs, out: &mut W) -> Result<(), CommandError> {
    let connection = args.connection;
    let token = connection.token.map(|t| t.expose().to_owned());
    let client = Client::new(&connection.server, token)?;
    let mut printer = Printer::new(out, connection.output);
    match args.command {
        StoreCommand::Create(create_args) => create(&client, create_args, &mut printer).await,
        StoreCommand::List(list_args) => list(&client, list_args, &mut printer).await,
        StoreCommand::Get(TargetArgs { store }) => {
            let store = client.resolve(&store).await?;
            Ok(printer.store(&store)?)
        }
        StoreCommand::Delete(delete_args) => delete(&client, delete_args, &mut printer).await,
        StoreCommand::Retry(TargetArgs { store }) => {
            let store = client.resolve(&store).await?;
            let store = client.retry_store(store.id).await?;
            Ok(printer.store(&store)?)
        }
        StoreCommand::Events(events_args) => events(&client, events_args, &mut printer).await,
        StoreCommand::Reveal(TargetArgs { store }) => {
            let store = client.resolve(&store).await?;
            let credentials = client.reveal_credentials(store.id).await?;
            if printer.format() == OutputFormat::Json {
                // The JSON stays the API's; the warning still reaches the person.
                eprintln!("{}", render::CREDENTIALS_NOTE);
            }
            Ok(printer.answer(&credentials, &render::credentials(&credentials))?)
        }
        StoreCommand::Update(update_args) => update(&client, update_args, &mut printer).await,
        StoreCommand::History(TargetArgs { store }) => {
            let store = client.resolve(&store).await?;
            let revisions = all_revisions(&client, &store).await?;
            let human = render::revision_table(&revisions, chrono::Utc::now());
            Ok(printer.answer(&revisions, &human)?)
        }
        StoreCommand::Diff(DiffArgs { target, from, to }) => {
            let store = client.resolve(&target.store).await?;
            let diff = client.diff_revisions(store.id, from, to).await?;
            let human = if diff.identical {
                format!("revisions {from} and {to} have the same manifest")
            } else {
                diff.diff.trim_end().to_owned()
            };
            Ok(printer.answer(&diff, &human)?)
        }
        StoreCommand::Rollback(rollback_args) => {
            rollback(&client, rollback_args, &mut printer).await
        }
        StoreCommand::Releases => {
            let releases = client.releases().await?;
            Ok(printer.answer(&releases, &render::release_table(&releases))?)
        }
        StoreCommand::ResetPassword(reset_args) => {
            crate::reset::reset_password(&client, reset_args, &mut printer).await
        }
        StoreCommand::Backup(backup_args) => {
            crate::backup::backup(&client, backup_args, &mut printer).await
        }
        StoreCommand::Restore(restore_args) => restore(&client, restore_args, &mut printer).await,
        StoreCommand::Backups(TargetArgs { store }) => {
            let store = client.resolve(&store).await?;
            let backups = client.list_backups(store.id).await?;
            let human = render::backup_table(&backups.items, chrono::Utc::now());
            Ok(printer.answer(&backups, &human)?)
        }
    }
}

/// Every revision of the store, newest first.
async fn all_revisions(
    client: &Client,
    store: &StoreView,
) -> Result<Vec<RevisionView>, CommandError> {
    let mut page = client.list_revisions(store.id, None, Some(200)).await?;
    let mut revisions = std::mem::take(&mut page.items);
    let mut cursor = page.next_cursor;
    while let Some(next) = cursor {
        let more = client
            .list_revisions(store.id, Some(&next), Some(200))
            .await?;
        revisions.extend(more.items);
        cursor = more.next_cursor.filter(|c| *c != next);
    }
    Ok(revisions)
}

async fn update<W: Write>(
    client: &Client,
    args: UpdateArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    let request = ChangeStoreRequest {
        release: args.release,
        plan: args.plan.map(|p| p.to_string()),
        title: args.title,
        reason: args.reason,
    };
    // Subscribed before the revision is recorded, so that none of its steps can be missed.
    let mut updates = match args.wait.wait {
        true => Some(client.subscribe(None).await?),
        false => None,
    };
    let response = client
        .change_store(target.id, &request, args.if_match)
        .await?;
    follow(updates.as_mut(), response, &args.wait, printer).await
}

/// Warns that restoring a checkpoint loses data, and asks (on a terminal) or requires
/// `--yes` (without one) before going on.
fn confirm_data_loss(args: &RollbackArgs) -> Result<(), CommandError> {
    let warning = format!(
        "Restoring the checkpoint replaces store {:?}'s database with the copy taken before the upgrade: every order, customer and change written since then is lost.",
        args.target.store
    );
    confirm(&warning, &args.target.store, args.yes, "a checkpoint")
}

/// Asks the person to type the store's name after `warning`, unless `yes`; refuses
/// without a terminal to ask at.
fn confirm(warning: &str, store: &str, yes: bool, what: &str) -> Result<(), CommandError> {
    use std::io::{BufRead, IsTerminal};
    eprintln!("{warning}");
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::NotConfirmed(format!(
            "refusing to restore {what} without confirmation: pass --yes to accept losing the data written since"
        )));
    }
    eprint!("Type the store's name to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == store {
        Ok(())
    } else {
        Err(CommandError::NotConfirmed(
            "not confirmed; nothing was changed".to_owned(),
        ))
    }
}

async fn restore<W: Write>(
    client: &Client,
    args: RestoreArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    let warning = format!(
        "Restoring backup {} replaces store {:?}'s database and files with the backup's: every order, customer and upload written since it was taken is lost (a checkpoint is taken first; `storeplane store rollback {} --restore-checkpoint` goes back to it).",
        args.backup, target.name, target.name
    );
    confirm(&warning, &args.target.store, args.yes, "a backup")?;
    let request = storeplane_api::dto::RestoreRequest {
        backup: args.backup,
        reason: args.reason.clone(),
    };
    let mut updates = match args.wait.wait {
        true => Some(client.subscribe(None).await?),
        false => None,
    };
    let response = client.restore_store(target.id, &request).await?;
    follow(updates.as_mut(), response, &args.wait, printer).await
}

async fn rollback<W: Write>(
    client: &Client,
    args: RollbackArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    if args.restore_checkpoint {
        confirm_data_loss(&args)?;
    }
    let request = RollbackRequest {
        revision: args.revision.map(|r| u64::from(r.get())),
        restore_checkpoint: args.restore_checkpoint,
        reason: args.reason.clone(),
    };
    let mut updates = match args.wait.wait {
        true => Some(client.subscribe(None).await?),
        false => None,
    };
    let response = client.rollback_store(target.id, &request).await?;
    follow(updates.as_mut(), response, &args.wait, printer).await
}

/// Prints what a change or a rollback did and, with `--wait`, follows its revision until
/// it is deployed, failed or rolled back (within `--timeout`).
async fn follow<W: Write>(
    updates: Option<&mut LiveUpdates>,
    response: ChangeResponse,
    wait: &WaitArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let Some(updates) = updates.filter(|_| response.changed) else {
        return Ok(printer.answer(&response, &render::change(&response))?);
    };
    printer.streamed(&response, &render::change(&response))?;
    printer.note("")?;
    let mut store = response.store.clone();
    let number = response.revision.number;
    let limit = Duration::from_secs(wait.timeout);
    match tokio::time::timeout(limit, watch_revision(updates, &mut store, number, printer)).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(CommandError::WaitTimedOut {
                name: store.name.clone(),
                seconds: wait.timeout,
                status: format!("applying revision {number}"),
            });
        }
    }
    printer.note(&format!(
        "\nrevision {number} of store {} is deployed",
        store.name
    ))?;
    Ok(())
}

async fn create<W: Write>(
    client: &Client,
    args: CreateArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let request = CreateStoreRequest {
        name: args.name,
        engine: args.engine.to_string(),
        plan: args.plan.to_string(),
        from_backup: args.from_backup,
    };
    if !args.wait.wait {
        let store = client
            .create_store(&request, args.idempotency_key.as_deref())
            .await?;
        return Ok(printer.store(&store)?);
    }
    // Subscribed before the store exists, so that none of its events can be missed.
    let mut updates = client.subscribe(None).await?;
    let mut store = client
        .create_store(&request, args.idempotency_key.as_deref())
        .await?;
    printer.streamed(&store, &render::store_details(&store))?;
    printer.note("")?;
    wait_for(&mut updates, &mut store, Goal::Ready, &args.wait, printer).await?;
    printer.note(&format!(
        "\nstore {} is ready at {} (admin: {}); `storeplane store reveal {}` shows its credentials once",
        store.name, store.url, store.admin_url, store.name
    ))?;
    Ok(())
}

async fn delete<W: Write>(
    client: &Client,
    args: DeleteArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let target = client.resolve(&args.target.store).await?;
    let kept = render::backups_kept(&target);
    if !args.wait.wait {
        let store = client.delete_store(target.id).await?;
        printer.store(&store)?;
        if let Some(kept) = kept {
            printer.note(&format!("\n{kept}"))?;
        }
        return Ok(());
    }
    let mut updates = client.subscribe(None).await?;
    let mut store = client.delete_store(target.id).await?;
    printer.streamed(&store, &render::store_details(&store))?;
    printer.note("")?;
    wait_for(&mut updates, &mut store, Goal::Deleted, &args.wait, printer).await?;
    match kept {
        Some(kept) => printer.note(&format!("\nstore {} is deleted; {kept}", store.name))?,
        None => printer.note(&format!("\nstore {} is deleted", store.name))?,
    }
    Ok(())
}

/// Follows `store` until it reaches `goal`, within `--timeout`; in JSON the final state
/// ends the stream.
async fn wait_for<W: Write>(
    updates: &mut LiveUpdates,
    store: &mut StoreView,
    goal: Goal,
    wait: &WaitArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let limit = Duration::from_secs(wait.timeout);
    match tokio::time::timeout(limit, watch_store(updates, store, goal, printer)).await {
        Ok(Ok(())) => {
            if printer.format() == OutputFormat::Json {
                printer.streamed(&*store, "")?;
            }
            Ok(())
        }
        Ok(Err(err)) => Err(err),
        Err(_) => Err(CommandError::WaitTimedOut {
            name: store.name.clone(),
            seconds: wait.timeout,
            status: store.status.to_string(),
        }),
    }
}

async fn list<W: Write>(
    client: &Client,
    args: ListArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let mut page = client
        .list_stores(args.status, None, args.limit, None)
        .await?;
    if args.all {
        let mut cursor = page.next_cursor.take();
        while let Some(next) = cursor {
            let more = client
                .list_stores(args.status, None, args.limit, Some(&next))
                .await?;
            page.items.extend(more.items);
            // A server repeating a cursor would otherwise keep us here forever.
            cursor = more.next_cursor.filter(|c| *c != next);
        }
    }
    let mut human = render::store_table(&page.items, chrono::Utc::now());
    if page.next_cursor.is_some() {
        human.push_str("\n\nMore stores exist: pass --all to list them all.");
    }
    Ok(printer.answer(&page, &human)?)
}

async fn events<W: Write>(
    client: &Client,
    args: EventsArgs,
    printer: &mut Printer<'_, W>,
) -> Result<(), CommandError> {
    let mut store = client.resolve(&args.target.store).await?;
    // Subscribed before reading the timeline, so that nothing written meanwhile is lost;
    // what arrives twice (listed and streamed) is printed once.
    let mut updates = if args.follow {
        Some(client.subscribe(None).await?)
    } else {
        None
    };
    let timeline = all_events(client, &store).await?;
    let Some(updates) = updates.as_mut() else {
        let human = match timeline.items.is_empty() {
            true => format!("store {} has no events yet", store.name),
            false => timeline
                .items
                .iter()
                .map(render::event_line)
                .collect::<Vec<_>>()
                .join("\n"),
        };
        return Ok(printer.answer(&timeline, &human)?);
    };
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    for event in &timeline.items {
        seen.insert(event.seq);
        printer.event(event)?;
    }
    while store.status != storeplane_domain::StoreStatus::Deleted {
        match updates.next().await {
            Some(Ok(LiveUpdate::Timeline(event))) if event.store_id == store.id => {
                if seen.insert(event.seq) {
                    printer.event(&event)?;
                }
            }
            Some(Ok(LiveUpdate::Store(update))) if update.id == store.id => store = update,
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(CommandError::StreamEnded),
        }
    }
    Ok(())
}

/// The store's whole timeline, every page, oldest first.
async fn all_events(client: &Client, store: &StoreView) -> Result<Page<EventView>, CommandError> {
    let mut timeline = client.store_events(store.id, None, None).await?;
    let mut cursor = timeline.next_cursor.take();
    while let Some(next) = cursor {
        let page = client.store_events(store.id, Some(&next), None).await?;
        timeline.items.extend(page.items);
        cursor = page.next_cursor.filter(|c| *c != next);
    }
    Ok(timeline)
}

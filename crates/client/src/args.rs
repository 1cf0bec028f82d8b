//! The `storeplane store ...` command line, declared with clap. The binary embeds
//! [`StoreArgs`] as its `store` subcommand; every connection flag can also be set through a
//! `STOREPLANE_*` environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use storeplane_domain::{Engine, Plan, RevisionNumber, StoreStatus};

/// Create, inspect and delete stores through the storeplane API.
#[derive(Debug, Parser)]
#[command(name = "store")]
pub struct StoreArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(subcommand)]
    pub command: StoreCommand,
}

/// Where the API is and how to talk to it.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// The storeplane server's URL.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "STOREPLANE_SERVER",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub server: String,

    /// The API token to authenticate with (from `storeplane token create`).
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "STOREPLANE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<ApiToken>,

    /// How to print results: an aligned table for people, or the API's JSON for scripts
    /// (streamed events print one JSON document per line).
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "STOREPLANE_OUTPUT",
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns and key/value lines.
    Table,
    /// The API's JSON, pretty-printed.
    Json,
}

/// An API token from the command line or the environment; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// The token itself, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

impl std::str::FromStr for ApiToken {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// What to do with stores.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create a store; with --wait, watch it provision until it is ready or failed.
    Create(CreateArgs),
    /// List your stores, newest first.
    List(ListArgs),
    /// Show one store.
    Get(TargetArgs),
    /// Delete a store: its namespace and everything in it go; its history stays.
    Delete(DeleteArgs),
    /// Give a failed store a fresh provisioning attempt.
    Retry(TargetArgs),
    /// Show a store's timeline.
    Events(EventsArgs),
    /// Show a store's initial admin credentials (only once: they cannot be shown again).
    Reveal(TargetArgs),
    /// Change a store's plan, release or title: records a new revision; with --wait,
    /// follow it until it is deployed (or failed and rolled back).
    Update(UpdateArgs),
    /// Show a store's revisions, newest first.
    History(TargetArgs),
    /// Show what differs between two revisions' manifests, as a unified diff.
    Diff(DiffArgs),
    /// Roll a store back to an earlier revision (default: the one deployed before the
    /// current one).
    Rollback(RollbackArgs),
    /// List the platform's releases (what each pins), the default of each engine marked.
    Releases,
    /// Reset a store's admin password: a new one is generated and set in the store, and
    /// the new credentials can then be revealed once with `reveal`.
    ResetPassword(ResetPasswordArgs),
    /// Back a store up now (its database and files, into its own encrypted repository);
    /// with --wait, follow it until it is taken.
    Backup(BackupArgs),
    /// Show a store's backups, newest first: kind, status, size, what each added, snapshot.
    Backups(TargetArgs),
    /// Restore one of a store's backups in place: its database and files become the
    /// backup's (a checkpoint is taken first, so `rollback --restore-checkpoint` undoes
    /// it); asks for confirmation. With --wait, follow it until the store is ready again.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The backup to restore (its id, from `storeplane store backups`).
    #[arg(long, value_name = "ID")]
    pub backup: storeplane_domain::BackupId,

    /// Confirm losing what was written since the backup without asking (needed without
    /// a terminal).
    #[arg(long, short)]
    pub yes: bool,

    /// Why, for the store's history.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Why, for the store's timeline.
    #[arg(long)]
    pub reason: Option<String>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The plan to move to (small, medium or large).
    #[arg(long)]
    pub plan: Option<Plan>,

    /// The release to move to (see `storeplane store releases`); a checkpoint of the
    /// database is taken first, and the engine's upgrade step runs.
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,

    /// The shop's new title.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,

    /// Why, for the store's history.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Refuse the change if the store's latest revision is no longer this one (someone
    /// else changed it since you looked).
    #[arg(long, value_name = "REVISION")]
    pub if_match: Option<RevisionNumber>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The revision to diff from (`---`).
    pub from: RevisionNumber,

    /// The revision to diff to (`+++`).
    pub to: RevisionNumber,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The revision to go back to (default: the one deployed before the current one).
    pub revision: Option<RevisionNumber>,

    /// Restore the database from the checkpoint taken before the upgrade the rollback
    /// crosses. Every order and change written since that checkpoint is lost; asks for
    /// confirmation (or pass --yes).
    #[arg(long)]
    pub restore_checkpoint: bool,

    /// Confirm a rollback that loses data without asking (needed without a terminal).
    #[arg(long, short)]
    pub yes: bool,

    /// Why, for the store's history.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The store's name: 3 to 40 lowercase letters, digits and '-'; the store is served at
    /// `<name>.<base domain>`.
    pub name: String,

    /// The e-commerce software the store runs (woocommerce or medusa).
    #[arg(long, default_value_t = Engine::WooCommerce)]
    pub engine: Engine,

    /// How much of the cluster the store may use (small, medium or large).
    #[arg(long, default_value_t = Plan::Small)]
    pub plan: Plan,

    /// Sending the same create again with the same key returns the same store instead of
    /// a second one (safe retries from scripts).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,

    /// Make the store a copy of this backup (of one of your stores, deleted or not, of the
    /// same engine: pass its --engine): its database and files, with new credentials and
    /// its own URL.
    #[arg(long, value_name = "BACKUP ID")]
    pub from_backup: Option<storeplane_domain::BackupId>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Follow the store's timeline, printing each event, until the operation is done.
    #[arg(long)]
    pub wait: bool,

    /// Give up waiting after this many seconds (the operation itself goes on).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "wait")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only stores in this status (pending, provisioning, ready, failed, deleting, deleted).
    #[arg(long)]
    pub status: Option<StoreStatus>,

    /// At most this many stores per page (1 to 200).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200))]
    pub limit: Option<u32>,

    /// Fetch every page, not only the first.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The store's id or name.
    #[arg(value_name = "ID|NAME")]
    pub store: String,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Keep printing new events as they happen (until the store is deleted or Ctrl-C).
    #[arg(long, short)]
    pub follow: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_store_command_line_is_well_formed() {
        StoreArgs::command().debug_assert();
    }

    /// How the `storeplane` binary embeds the store commands.
    #[derive(Debug, Parser)]
    struct Binary {
        #[command(subcommand)]
        command: BinaryCommand,
    }

    #[derive(Debug, Subcommand)]
    enum BinaryCommand {
        Store(StoreArgs),
    }

    #[test]
    fn the_store_commands_embed_as_a_subcommand_of_the_binary() {
        Binary::command().debug_assert();
        let Binary {
            command: BinaryCommand::Store(args),
        } = Binary::try_parse_from(["storeplane", "store", "get", "acme", "--output", "json"])
            .unwrap();
        assert!(matches!(args.command, StoreCommand::Get(TargetArgs { store }) if store == "acme"));
        assert_eq!(args.connection.output, OutputFormat::Json);
    }

    #[test]
    fn connection_flags_may_follow_the_subcommand() {
        let args = StoreArgs::try_parse_from([
            "store",
            "list",
            "--server",
            "http://h:1",
            "--output",
            "json",
        ])
        .unwrap();
        assert_eq!(args.connection.server, "http://h:1");
        assert_eq!(args.connection.output, OutputFormat::Json);
    }

    #[test]
    fn an_unknown_plan_is_refused_with_the_plans_that_exist() {
        let err = StoreArgs::try_parse_from(["store", "create", "acme", "--plan", "huge"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected one of small, medium, large"),
            "{err}"
        );
    }

    #[test]
    fn an_update_takes_each_setting_as_a_flag_and_a_rollback_its_revision_as_an_argument() {
        let args = StoreArgs::try_parse_from([
            "store",
            "update",
            "acme",
            "--plan",
            "medium",
            "--if-match",
            "3",
            "--wait",
        ])
        .unwrap();
        let StoreCommand::Update(update) = args.command else {
            panic!("an update");
        };
        assert_eq!(update.plan, Some(Plan::Medium));
        assert_eq!(update.if_match.map(RevisionNumber::get), Some(3));
        assert!(update.wait.wait);
        let args = StoreArgs::try_parse_from(["store", "rollback", "acme", "2", "--yes"]).unwrap();
        assert!(matches!(
            args.command,
            StoreCommand::Rollback(RollbackArgs { revision: Some(r), yes: true, .. }) if r.get() == 2
        ));
        assert!(StoreArgs::try_parse_from(["store", "diff", "acme", "0", "1"]).is_err());
    }

    #[test]
    fn a_timeout_without_wait_is_refused() {
        assert!(StoreArgs::try_parse_from(["store", "create", "acme", "--timeout", "5"]).is_err());
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let args = StoreArgs::try_parse_from(["store", "--token", "s3cret", "list"]).unwrap();
        assert!(!format!("{args:?}").contains("s3cret"));
    }

    #[test]
    fn help_names_the_environment_variables_but_not_their_values() {
        let help = StoreArgs::command().render_long_help().to_string();
        assert!(help.contains("STOREPLANE_SERVER"), "{help}");
        assert!(help.contains("STOREPLANE_TOKEN"), "{help}");
    }
}

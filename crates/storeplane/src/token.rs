//! `storeplane token create`: mint an API token for a user, straight in the metadata
//! store (run it where `serve` runs, like any administrative command). The token is printed
//! once; only its hash is kept.

use chrono::Utc;
use clap::{Args, Subcommand};
use storeplane_api::secret;
use storeplane_db::NewApiToken;
use storeplane_domain::{Role, UserName};

use crate::database::DatabaseArgs;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token (and the user, if new) and print it once.
    Create(CreateTokenArgs),
}

#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The user the token acts as (created if absent).
    #[arg(long, value_name = "NAME")]
    pub user: String,

    /// Make the user an admin, who sees and acts on every store.
    #[arg(long)]
    pub admin: bool,

    /// A note to tell tokens apart (e.g. "ci", "laptop").
    #[arg(long, default_value = "cli", value_name = "TEXT")]
    pub label: String,
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create(args) => create(args).await,
    }
}

async fn create(args: CreateTokenArgs) -> anyhow::Result<()> {
    let name = UserName::parse(&args.user)?;
    let repo = args.database.connect().await?;
    let now = Utc::now();
    let role = if args.admin {
        Role::Admin
    } else {
        Role::Member
    };
    let user = repo.ensure_user(&name, role, now).await?;
    let token = secret::generate("spt_");
    repo.create_api_token(NewApiToken {
        user: user.id,
        token_hash: secret::hash(&token),
        label: args.label,
        now,
    })
    .await?;
    eprintln!(
        "token for {} ({}); it is shown only this once:",
        user.name, user.role
    );
    println!("{token}");
    Ok(())
}

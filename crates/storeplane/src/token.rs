//! `storeplane token create` mints an API token for a user, and `storeplane token
//! login-link` a one-time dashboard sign-in link, straight in the metadata store (run them
//! where `serve` runs, like any administrative command). Each is printed once; only its
//! hash is kept.

use std::time::Duration;

use chrono::Utc;
use clap::{Args, Subcommand};
use storeplane_api::secret;
use storeplane_db::{NewApiToken, Repository};
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
    /// Print a new one-time link that signs a user in to the dashboard (the one `serve`
    /// prints at start works once).
    LoginLink(LoginLinkArgs),
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

#[derive(Debug, Args)]
pub struct LoginLinkArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The user the link signs in (created if absent; `admin` is always an admin).
    #[arg(long, default_value = ADMIN_USER, value_name = "NAME")]
    pub user: String,

    /// Make a new user an admin, who sees and acts on every store.
    #[arg(long)]
    pub admin: bool,

    /// The URL people open storeplane at.
    #[arg(
        long,
        env = "STOREPLANE_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub public_url: String,
}

/// The admin user `serve`'s login link signs in.
pub const ADMIN_USER: &str = "admin";
/// How long a login link stays valid.
const LOGIN_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create(args) => create(args).await,
        TokenCommand::LoginLink(args) => {
            let name = UserName::parse(&args.user)?;
            let role = if args.admin || args.user == ADMIN_USER {
                Role::Admin
            } else {
                Role::Member
            };
            let repo = args.database.connect().await?;
            let link = login_link(repo.as_ref(), &name, role, &args.public_url).await?;
            eprintln!("sign-in link for {name}; it works once, within 24 h:");
            println!("{link}");
            Ok(())
        }
    }
}

/// A one-time link that signs `user` (created with `role` if absent) in to the dashboard
/// at `base`. The caller prints it, never logs it: the link is a credential.
pub async fn login_link(
    repo: &dyn Repository,
    user: &UserName,
    role: Role,
    base: &str,
) -> anyhow::Result<String> {
    let now = Utc::now();
    let user = repo.ensure_user(user, role, now).await?;
    let token = secret::generate("spl_");
    repo.create_login_token(&secret::hash(&token), user.id, now + LOGIN_LINK_TTL, now)
        .await?;
    Ok(format!(
        "{}/login?token={token}",
        base.trim_end_matches('/')
    ))
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

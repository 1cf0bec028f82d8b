//! storeplane's API client and the `storeplane store ...` commands built on it.
//!
//! [`Client`] speaks the HTTP API of `docs/api.md` with the API's own JSON types, and
//! [`Client::subscribe`] follows its live updates. [`StoreArgs`] is the clap command line
//! the `storeplane` binary embeds as its `store` subcommand, and [`run`] carries it out.

mod args;
mod backup;
mod client;
mod command_error;
mod error;
mod live;
mod output;
pub mod render;
mod reset;
mod run;
mod watch;

pub use args::{
    ApiToken, BackupArgs, ConnectionArgs, CreateArgs, DeleteArgs, DiffArgs, EventsArgs, ListArgs,
    OutputFormat, ResetPasswordArgs, RestoreArgs, RollbackArgs, StoreArgs, StoreCommand,
    TargetArgs, UpdateArgs, WaitArgs,
};
pub use client::{Client, DEFAULT_REQUEST_TIMEOUT};
pub use command_error::CommandError;
pub use error::{ApiFailure, ClientError};
pub use live::{LiveUpdate, LiveUpdates};
pub use run::{run, run_with_output};

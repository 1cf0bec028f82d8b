//! Where the metadata store lives, as the command line says.

use std::path::PathBuf;

use clap::Args;
use storeplane_db::{ConnectOptions, DatabaseUrl, InvalidDatabaseUrl};

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for storeplane's own files (the SQLite database by default); created if
    /// absent.
    #[arg(
        long,
        env = "STOREPLANE_DATA_DIR",
        default_value = "storeplane-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// Metadata store URL: `sqlite:///path/storeplane.db` or
    /// `postgres://user@host:5432/db` (PostgreSQL for HA and several workers). Default: a
    /// SQLite file in the data directory.
    ///
    /// Parsed after start-up rather than by the argument parser, which would echo a
    /// malformed URL (and its password) back in its error.
    #[arg(
        long,
        env = "STOREPLANE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Database connections to keep open at most.
    #[arg(
        long,
        env = "STOREPLANE_DATABASE_MAX_CONNECTIONS",
        default_value_t = 8,
        value_name = "N"
    )]
    pub database_max_connections: u32,

    /// Seconds to wait for the database to answer before giving up.
    #[arg(
        long,
        env = "STOREPLANE_DATABASE_CONNECT_TIMEOUT",
        default_value_t = 5,
        value_name = "SECONDS"
    )]
    pub database_connect_timeout: u64,
}

impl DatabaseArgs {
    pub fn url(&self) -> Result<DatabaseUrl, InvalidDatabaseUrl> {
        match &self.database_url {
            Some(raw) => raw.parse(),
            None => Ok(DatabaseUrl::in_data_dir(&self.data_dir)),
        }
    }

    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            max_connections: self.database_max_connections.max(1),
            connect_timeout: std::time::Duration::from_secs(self.database_connect_timeout),
            ..ConnectOptions::default()
        }
    }

    /// Opens (and migrates) the metadata store.
    pub async fn connect(&self) -> anyhow::Result<std::sync::Arc<dyn storeplane_db::Repository>> {
        let url = self.url()?;
        let repo = storeplane_db::connect(&url, &self.connect_options()).await?;
        tracing::info!(database = %url, "metadata store ready");
        Ok(repo)
    }
}

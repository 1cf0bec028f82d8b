//! Why a `storeplane store ...` command did not succeed. The binary prints the error as
//! one line, `error: <message>`, and exits non-zero; it can tell a store that failed
//! (`StoreFailed`) from a command that could not run by downcasting to this type.

use crate::error::ClientError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The API call failed.
    #[error(transparent)]
    Client(#[from] ClientError),

    /// The store being waited for failed.
    #[error("store {name:?} failed: {reason} (`storeplane store retry {name}` tries again)")]
    StoreFailed { name: String, reason: String },

    /// The store being waited for was deleted before it became ready.
    #[error("store {name:?} was deleted while waiting for it to be ready")]
    Deleted { name: String },

    /// The revision being waited for failed, or was rolled back.
    #[error(
        "revision {revision} of store {name:?} was not deployed: {reason} (`storeplane store history {name}` shows its revisions)"
    )]
    RevisionFailed {
        name: String,
        revision: u32,
        reason: String,
    },

    /// The backup being waited for failed.
    #[error(
        "the backup of store {name:?} failed: {reason} (`storeplane store backups {name}` lists its backups; the last good one is still the latest)"
    )]
    BackupFailed { name: String, reason: String },

    /// A rollback that restores a checkpoint (losing data) was not confirmed.
    #[error("{0}")]
    NotConfirmed(String),

    /// The wait took longer than `--timeout`; the operation itself goes on.
    #[error(
        "gave up waiting for store {name:?} after {seconds}s: it is still {status} (the operation goes on; `storeplane store events {name} --follow` keeps watching)"
    )]
    WaitTimedOut {
        name: String,
        seconds: u64,
        status: String,
    },

    /// The live update stream ended, which the server does only when shutting down.
    #[error("the server ended the live updates before the store was done")]
    StreamEnded,

    /// Printing failed (a closed pipe, a full disk).
    #[error("failed to write the output: {0}")]
    Output(#[from] std::io::Error),
}

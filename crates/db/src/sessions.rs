//! Dashboard sign-in: one-time login links and the sessions they open. Only hashes of the
//! link tokens and session ids are stored, as for API tokens.

use chrono::{DateTime, Utc};
use storeplane_domain::{User, UserId};

use crate::DbError;
use crate::repository::{NewSession, Session};
use crate::rows::{IdRow, UserRow, millis};
use crate::sql::{Conn, SqlBackend, args};

const LOGIN_INSERT: &str = "INSERT INTO login_tokens (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)";

/// Deleting the row is what uses the link up: of two concurrent uses, one deletes it.
const LOGIN_CONSUME: &str =
    "DELETE FROM login_tokens WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id AS id";

/// Expired links and sessions are swept whenever a new one is made, so neither table grows.
const LOGIN_SWEEP: &str = "DELETE FROM login_tokens WHERE expires_at <= $1";
const SESSION_SWEEP: &str = "DELETE FROM sessions WHERE expires_at <= $1";

const SESSION_INSERT: &str = "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5)";

const SESSION_GET: &str = "SELECT u.id, u.name, u.role, u.created_at, s.csrf_token \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2";

#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
}

fn user_missing(error: sqlx::Error) -> DbError {
    match error.as_database_error() {
        Some(e) if e.is_foreign_key_violation() => DbError::NotFound { what: "user" },
        _ => error.into(),
    }
}

pub(crate) async fn create_login_token<B: SqlBackend>(
    backend: &B,
    token_hash: &str,
    user: UserId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut tx = backend.begin().await?;
    tx.execute(LOGIN_SWEEP, args![millis(now)]).await?;
    tx.execute(
        LOGIN_INSERT,
        args![
            token_hash,
            user.to_string(),
            millis(expires_at),
            millis(now)
        ],
    )
    .await
    .map_err(user_missing)?;
    B::commit(tx).await?;
    Ok(())
}

pub(crate) async fn consume_login_token<B: SqlBackend>(
    backend: &B,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<User, DbError> {
    let mut conn = backend.writer().await?;
    let used: Option<IdRow> = conn
        .fetch_optional(LOGIN_CONSUME, args![token_hash, millis(now)])
        .await?;
    let user = used.ok_or(DbError::NotFound { what: "login link" })?;
    let row: Option<UserRow> = conn
        .fetch_optional(crate::accounts::BY_ID, args![user.id])
        .await?;
    row.ok_or(DbError::NotFound { what: "user" })?.try_into()
}

pub(crate) async fn create_session<B: SqlBackend>(
    backend: &B,
    session: NewSession,
) -> Result<(), DbError> {
    let mut tx = backend.begin().await?;
    tx.execute(SESSION_SWEEP, args![millis(session.now)])
        .await?;
    let args = args![
        session.token_hash,
        session.user.to_string(),
        session.csrf_token,
        millis(session.expires_at),
        millis(session.now),
    ];
    tx.execute(SESSION_INSERT, args)
        .await
        .map_err(user_missing)?;
    B::commit(tx).await?;
    Ok(())
}

pub(crate) async fn session<B: SqlBackend>(
    backend: &B,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Session, DbError> {
    let mut conn = backend.reader().await?;
    let row: Option<SessionRow> = conn
        .fetch_optional(SESSION_GET, args![token_hash, millis(now)])
        .await?;
    let row = row.ok_or(DbError::NotFound { what: "session" })?;
    Ok(Session {
        user: row.user.try_into()?,
        csrf_token: row.csrf_token,
    })
}

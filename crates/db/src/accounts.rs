//! Users and their API tokens. Only a token's hash is stored; a token is looked up by the
//! hash of what a client presents.

use chrono::{DateTime, Utc};
use storeplane_domain::{Role, User, UserId, UserName};
use uuid::{NoContext, Timestamp, Uuid};

use crate::DbError;
use crate::repository::NewApiToken;
use crate::rows::{UserRow, millis};
use crate::sql::{Conn, SqlBackend, args};

/// Creates the user, or raises an existing one to admin (never lowers it) in the same
/// statement, so concurrent first logins cannot create two users or fail.
const ENSURE: &str = "INSERT INTO users (id, name, role, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (name) DO UPDATE SET role = CASE WHEN excluded.role = 'admin' THEN 'admin' ELSE users.role END \
     RETURNING id, name, role, created_at";

const BY_NAME: &str = "SELECT id, name, role, created_at FROM users WHERE name = $1";

pub(crate) const BY_ID: &str = "SELECT id, name, role, created_at FROM users WHERE id = $1";

const TOKEN_INSERT: &str = "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) \
     VALUES ($1, $2, $3, $4, $5)";

const TOKEN_LOOKUP: &str = "SELECT u.id, u.name, u.role, u.created_at, t.last_used_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL";

const TOKEN_TOUCH: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1";

/// `last_used_at` is refreshed at most this often (milliseconds). Every API request looks
/// its token up; writing on each would put a write on every read request.
const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, sqlx::FromRow)]
struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    last_used_at: Option<i64>,
}

/// Revoking twice keeps the first revocation time.
const TOKEN_REVOKE: &str =
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_hash = $1";

/// A UUIDv7 for a row created at `now` (the clock is the caller's, as everywhere here).
fn new_id(now: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or_default();
    Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        secs,
        now.timestamp_subsec_nanos(),
    ))
}

fn to_user(row: Option<UserRow>) -> Result<User, DbError> {
    row.ok_or(DbError::NotFound { what: "user" })?.try_into()
}

pub(crate) async fn ensure_user<B: SqlBackend>(
    backend: &B,
    name: &UserName,
    role: Role,
    now: DateTime<Utc>,
) -> Result<User, DbError> {
    let mut conn = backend.writer().await?;
    let id = UserId::from_uuid(new_id(now)).to_string();
    to_user(
        conn.fetch_optional(ENSURE, args![id, name.as_str(), role.as_str(), millis(now)])
            .await?,
    )
}

pub(crate) async fn user_by_name<B: SqlBackend>(
    backend: &B,
    name: &UserName,
) -> Result<User, DbError> {
    let mut conn = backend.reader().await?;
    to_user(conn.fetch_optional(BY_NAME, args![name.as_str()]).await?)
}

pub(crate) async fn create_token<B: SqlBackend>(
    backend: &B,
    token: NewApiToken,
) -> Result<(), DbError> {
    let mut conn = backend.writer().await?;
    let args = args![
        new_id(token.now).to_string(),
        token.user.to_string(),
        token.token_hash,
        token.label,
        millis(token.now),
    ];
    conn.execute(TOKEN_INSERT, args)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(d) if d.is_foreign_key_violation() => DbError::NotFound { what: "user" },
            _ => e.into(),
        })?;
    Ok(())
}

pub(crate) async fn user_by_token<B: SqlBackend>(
    backend: &B,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<User, DbError> {
    let row: Option<TokenUserRow> = backend
        .reader()
        .await?
        .fetch_optional(TOKEN_LOOKUP, args![token_hash])
        .await?;
    let row = row.ok_or(DbError::NotFound { what: "api token" })?;
    if row
        .last_used_at
        .is_none_or(|at| millis(now) - at >= TOUCH_INTERVAL_MS)
    {
        let mut conn = backend.writer().await?;
        conn.execute(TOKEN_TOUCH, args![token_hash, millis(now)])
            .await?;
    }
    row.user.try_into()
}

pub(crate) async fn revoke_token<B: SqlBackend>(
    backend: &B,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut conn = backend.writer().await?;
    match conn
        .execute(TOKEN_REVOKE, args![token_hash, millis(now)])
        .await?
    {
        0 => Err(DbError::NotFound { what: "api token" }),
        _ => Ok(()),
    }
}

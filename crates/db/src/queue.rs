//! The durable job queue: at most one active job per store, leases that expire so a dead
//! worker's job is taken over, retries with backoff, and coalescing of repeated requests.
//!
//! Every transition is a single conditional `UPDATE ... RETURNING` (a compare-and-set on
//! the lease holder and state), so two workers can never both believe they hold a job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use storeplane_domain::{Job, JobId, JobKind, JobState, RetryPolicy, StoreId};

use crate::DbError;
use crate::repository::Enqueued;
use crate::rows::{JobRow, millis};
use crate::sql::{Conn, SqlBackend, args, job_columns};

const INSERT: &str = concat!(
    "INSERT INTO jobs (store_id, kind, state, attempts, max_attempts, run_at, rerun, created_at, updated_at) \
     VALUES ($1, $2, 'queued', 0, $3, $4, FALSE, $4, $4) \
     ON CONFLICT (store_id) WHERE state IN ('queued', 'leased') DO NOTHING \
     RETURNING ",
    job_columns!()
);

/// Joins the store's active job: it takes the newer kind (a leased job keeps running as
/// its worker leased it; the rerun it is marked for does the newer kind).
const COALESCE: &str = concat!(
    "UPDATE jobs SET kind = $2, rerun = (state = 'leased'), updated_at = $3 \
     WHERE store_id = $1 AND state IN ('queued', 'leased') \
     RETURNING ",
    job_columns!()
);

const HEARTBEAT: &str = concat!(
    "UPDATE jobs SET lease_expires_at = $4, updated_at = $3 \
     WHERE id = $1 AND lease_holder = $2 AND state = 'leased' AND lease_expires_at >= $3 \
     RETURNING ",
    job_columns!()
);

/// Done, or queued again at once with a fresh attempt budget if a request arrived while
/// the job ran (in SQL every `SET` expression sees the row as it was).
const COMPLETE: &str = concat!(
    "UPDATE jobs SET \
       state = CASE WHEN rerun THEN 'queued' ELSE 'done' END, \
       attempts = CASE WHEN rerun THEN 0 ELSE attempts END, \
       run_at = CASE WHEN rerun THEN $3 ELSE run_at END, \
       rerun = FALSE, lease_holder = NULL, lease_expires_at = NULL, updated_at = $3 \
     WHERE id = $1 AND lease_holder = $2 AND state = 'leased' \
     RETURNING ",
    job_columns!()
);

/// Records a failed attempt; `$4` the next state, `$5` its run_at, `$6` its attempts,
/// `$7` the error. Guarded by `$8`, the attempts the decision was made on.
const FAIL: &str = concat!(
    "UPDATE jobs SET state = $4, run_at = $5, attempts = $6, last_error = $7, rerun = FALSE, \
       lease_holder = NULL, lease_expires_at = NULL, updated_at = $3 \
     WHERE id = $1 AND lease_holder = $2 AND state = 'leased' AND attempts = $8 \
     RETURNING ",
    job_columns!()
);

const RELEASE: &str = concat!(
    "UPDATE jobs SET state = 'queued', run_at = $3, rerun = FALSE, \
       attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
       lease_holder = NULL, lease_expires_at = NULL, updated_at = $3 \
     WHERE id = $1 AND lease_holder = $2 AND state = 'leased' \
     RETURNING ",
    job_columns!()
);

const GET: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

const ACTIVE: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE store_id = $1 AND state IN ('queued', 'leased')"
);

/// Kept from a failure's message; longer errors are cut (at a character boundary).
const MAX_ERROR_LEN: usize = 4096;

fn to_job(row: Option<JobRow>) -> Result<Option<Job>, DbError> {
    row.map(Job::try_from).transpose()
}

fn expiry(now: DateTime<Utc>, lease_for: Duration) -> i64 {
    let span = i64::try_from(lease_for.as_millis()).unwrap_or(i64::MAX);
    millis(now).saturating_add(span)
}

fn attempts_arg(max_attempts: u32) -> i32 {
    i32::try_from(max_attempts).unwrap_or(i32::MAX)
}

/// Queues a job for the store or joins its active one, inside the caller's transaction.
///
/// The insert defers to the partial unique index `jobs_one_active_per_store`, which is
/// what makes this race-free on PostgreSQL: of two concurrent inserts one waits for the
/// other and then does nothing. If the active job it collided with finishes before the
/// coalescing update runs, the update finds nothing and the insert is tried again.
pub(crate) async fn enqueue_in<C: Conn>(
    conn: &mut C,
    store: StoreId,
    kind: JobKind,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<Enqueued, DbError> {
    let store_arg = store.to_string();
    loop {
        let insert = args![
            store_arg.as_str(),
            kind.as_str(),
            attempts_arg(max_attempts),
            millis(now)
        ];
        if let Some(job) = to_job(conn.fetch_optional(INSERT, insert).await?)? {
            notify_workers(conn).await?;
            return Ok(Enqueued {
                job,
                coalesced: false,
            });
        }
        let joined = conn.fetch_optional(
            COALESCE,
            args![store_arg.as_str(), kind.as_str(), millis(now)],
        );
        if let Some(job) = to_job(joined.await?)? {
            notify_workers(conn).await?;
            return Ok(Enqueued {
                job,
                coalesced: true,
            });
        }
    }
}

/// Wakes the idle workers of every process once `conn`'s transaction commits (on
/// PostgreSQL; elsewhere the caller announces the commit, see [`SqlBackend::announce_jobs`]).
async fn notify_workers<C: Conn>(conn: &mut C) -> Result<(), DbError> {
    if let Some(notify) = C::JOBS_NOTIFY {
        conn.execute(notify, Vec::new()).await?;
    }
    Ok(())
}

/// After a statement that may have queued `job` again committed: wakes idle workers if it
/// did (a job queued for later is left to their poll).
async fn requeued<B: SqlBackend>(backend: &B, job: Job) -> Result<Job, DbError> {
    if job.state == JobState::Queued {
        if <<B::Db as sqlx::Database>::Connection as Conn>::JOBS_NOTIFY.is_some() {
            notify_workers(&mut *backend.writer().await?).await?;
        }
        backend.announce_jobs();
    }
    Ok(job)
}

pub(crate) async fn enqueue<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    kind: JobKind,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<Enqueued, DbError> {
    let mut conn = backend.writer().await?;
    let enqueued = enqueue_in(&mut *conn, store, kind, max_attempts, now)
        .await
        .map_err(|e| match e {
            DbError::Query(q)
                if q.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                DbError::NotFound { what: "store" }
            }
            other => other,
        })?;
    drop(conn);
    backend.announce_jobs();
    Ok(enqueued)
}

pub(crate) async fn lease<B: SqlBackend>(
    backend: &B,
    holder: &str,
    lease_for: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Job>, DbError> {
    let mut conn = backend.writer().await?;
    let row = conn
        .fetch_optional(B::LEASE, args![millis(now), holder, expiry(now, lease_for)])
        .await?;
    to_job(row)
}

/// Runs a holder-guarded transition; when it matches nothing, tells a missing job from a
/// lost lease.
async fn transition<B: SqlBackend>(
    backend: &B,
    sql: &'static str,
    args: Vec<crate::sql::Arg>,
    job: JobId,
    holder: &str,
) -> Result<Job, DbError> {
    let mut conn = backend.writer().await?;
    if let Some(updated) = to_job(conn.fetch_optional(sql, args).await?)? {
        return Ok(updated);
    }
    get_in(&mut *conn, job).await?;
    Err(DbError::LeaseLost {
        job,
        holder: holder.to_owned(),
    })
}

pub(crate) async fn heartbeat<B: SqlBackend>(
    backend: &B,
    job: JobId,
    holder: &str,
    lease_for: Duration,
    now: DateTime<Utc>,
) -> Result<Job, DbError> {
    let args = args![job.0, holder, millis(now), expiry(now, lease_for)];
    transition(backend, HEARTBEAT, args, job, holder).await
}

pub(crate) async fn complete<B: SqlBackend>(
    backend: &B,
    job: JobId,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Job, DbError> {
    let done = transition(
        backend,
        COMPLETE,
        args![job.0, holder, millis(now)],
        job,
        holder,
    )
    .await?;
    requeued(backend, done).await
}

pub(crate) async fn release<B: SqlBackend>(
    backend: &B,
    job: JobId,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Job, DbError> {
    let released = transition(
        backend,
        RELEASE,
        args![job.0, holder, millis(now)],
        job,
        holder,
    )
    .await?;
    requeued(backend, released).await
}

/// What a failed attempt leads to: `(state, run_at, attempts)`.
///
/// The job's own `max_attempts` (fixed when it was queued) and the policy's both bound the
/// retries. A job that may not retry but was asked to run again while it ran is queued
/// afresh, as [`complete`] would: that request came after the attempts were spent.
fn after_failure(
    current: &Job,
    policy: &RetryPolicy,
    jitter: f64,
    now: DateTime<Utc>,
) -> (&'static str, i64, u32) {
    let attempt = current.attempts;
    if policy.may_retry(attempt) && attempt < current.max_attempts {
        let delay = i64::try_from(policy.backoff(attempt, jitter).as_millis()).unwrap_or(i64::MAX);
        ("queued", millis(now).saturating_add(delay), attempt)
    } else if current.rerun {
        ("queued", millis(now), 0)
    } else {
        ("dead", millis(current.run_at), attempt)
    }
}

pub(crate) async fn fail<B: SqlBackend>(
    backend: &B,
    job: JobId,
    holder: &str,
    error: &str,
    policy: &RetryPolicy,
    jitter: f64,
    now: DateTime<Utc>,
) -> Result<Job, DbError> {
    let mut conn = backend.writer().await?;
    let current = get_in(&mut *conn, job).await?;
    let lost = || DbError::LeaseLost {
        job,
        holder: holder.to_owned(),
    };
    if current.lease_holder.as_deref() != Some(holder)
        || current.state != storeplane_domain::JobState::Leased
    {
        return Err(lost());
    }
    let (state, run_at, attempts) = after_failure(&current, policy, jitter, now);
    let message = truncate(error, MAX_ERROR_LEN);
    let args = args![
        job.0,
        holder,
        millis(now),
        state,
        run_at,
        attempts_arg(attempts),
        message,
        attempts_arg(current.attempts),
    ];
    // The guard on attempts makes the read and the write one compare-and-set: if the
    // lease expired and was taken in between, nothing matches.
    let failed = to_job(conn.fetch_optional(FAIL, args).await?)?.ok_or_else(lost)?;
    drop(conn);
    // A retry after backoff is found by the workers' poll; one queued afresh (a rerun was
    // requested) is runnable now.
    if failed.run_at <= now {
        return requeued(backend, failed).await;
    }
    Ok(failed)
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(crate) async fn get_in<C: Conn>(conn: &mut C, job: JobId) -> Result<Job, DbError> {
    to_job(conn.fetch_optional(GET, args![job.0]).await?)?.ok_or(DbError::NotFound { what: "job" })
}

pub(crate) async fn get<B: SqlBackend>(backend: &B, job: JobId) -> Result<Job, DbError> {
    get_in(&mut *backend.reader().await?, job).await
}

pub(crate) async fn active<B: SqlBackend>(
    backend: &B,
    store: StoreId,
) -> Result<Option<Job>, DbError> {
    let mut conn = backend.reader().await?;
    to_job(
        conn.fetch_optional(ACTIVE, args![store.to_string()])
            .await?,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::truncate;

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("short", 100), "short");
    }
}

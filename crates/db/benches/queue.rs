//! Job queue throughput: how many jobs per second go through enqueue + lease + complete.
//!
//! Stores are created before the clock starts; each timed round enqueues one job for each
//! of them, and workers lease and complete until every job is done. Each figure is the
//! median of three rounds, after one untimed warm-up round. PostgreSQL workers each have
//! a connection of their own, as separate `storeplane worker` processes would; SQLite
//! workers are tasks sharing one repository, as in a single `storeplane serve`.
//!
//! `cargo bench -p storeplane-db --bench queue`. PostgreSQL is found at
//! `STOREPLANE_BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! the benchmark works in a schema of its own and drops it afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use sqlx::Connection;
use storeplane_db::{ConnectOptions, CreateStore, DatabaseUrl, Repository, connect};
use storeplane_domain::{
    Actor, Engine, JobKind, Plan, Role, StoreId, StoreName, StoreSpec, UserName,
};

const JOBS: usize = 5_000;
const ROUNDS: usize = 3;
const LEASE: Duration = Duration::from_secs(60);
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Opens a repository on the benchmark's database with `connections` connections.
type Open = Box<dyn Fn(u32) -> futures::future::BoxFuture<'static, Result<Arc<dyn Repository>>>>;

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    println!(
        "job queue throughput: enqueue + lease + complete, {JOBS} jobs, median of {ROUNDS} rounds after a warm-up\n"
    );
    println!("| backend    | workers | jobs/s (median) | rounds (jobs/s)        |");
    println!("|------------|---------|-----------------|------------------------|");

    let dir = tempfile::tempdir()?;
    let sqlite_url = DatabaseUrl::Sqlite(dir.path().join("bench.db"));
    let sqlite: Open = {
        let url = sqlite_url.clone();
        Box::new(move |n| {
            let url = url.clone();
            Box::pin(async move { open(&url, n).await })
        })
    };
    let shared = sqlite(4).await?;
    let stores = create_stores(&shared, JOBS).await?;
    for workers in [1, 4] {
        // One repository for every task: SQLite's single writer lives in it.
        let repo = shared.clone();
        let per_worker: Open = Box::new(move |_| {
            let repo = repo.clone();
            Box::pin(async move { Ok(repo) })
        });
        report(
            "SQLite",
            workers,
            measure(&per_worker, &stores, workers).await?,
        );
    }

    let base = std::env::var("STOREPLANE_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    let schema = format!("storeplane_bench_{}", uuid::Uuid::now_v7().simple());
    admin(&base, &format!("CREATE SCHEMA {schema}"))
        .await
        .context("PostgreSQL is needed for the PostgreSQL figures")?;
    let result = postgres(&base, &schema).await;
    admin(&base, &format!("DROP SCHEMA {schema} CASCADE")).await?;
    result
}

async fn postgres(base: &str, schema: &str) -> Result<()> {
    let separator = if base.contains('?') { '&' } else { '?' };
    let url: DatabaseUrl = format!("{base}{separator}options[search_path]={schema}").parse()?;
    let pg: Open = Box::new(move |n| {
        let url = url.clone();
        Box::pin(async move { open(&url, n).await })
    });
    let setup = pg(8).await?;
    let stores = create_stores(&setup, JOBS).await?;
    for workers in [1, 4] {
        report("PostgreSQL", workers, measure(&pg, &stores, workers).await?);
    }
    Ok(())
}

async fn open(url: &DatabaseUrl, connections: u32) -> Result<Arc<dyn Repository>> {
    let options = ConnectOptions {
        max_connections: connections,
        ..ConnectOptions::default()
    };
    Ok(connect(url, &options).await?)
}

async fn admin(url: &str, statement: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connect to PostgreSQL")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Creates `count` stores (untimed) and finishes their provisioning jobs, so every timed
/// enqueue queues a new job rather than joining one.
async fn create_stores(repo: &Arc<dyn Repository>, count: usize) -> Result<Vec<StoreId>> {
    let owner = repo
        .ensure_user(&UserName::parse("bench")?, Role::Member, Utc::now())
        .await?;
    let mut tasks = Vec::new();
    for lane in 0..8 {
        let (repo, owner) = (repo.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (lane..count).step_by(8) {
                let request = CreateStore {
                    id: StoreId::generate(),
                    spec: StoreSpec {
                        name: StoreName::parse(&format!("bench-{n}"))?,
                        engine: Engine::WooCommerce,
                        plan: Plan::Small,
                        release: None,
                        title: None,
                    },
                    owner: owner.id,
                    actor: Actor::System("bench".to_owned()),
                    live_store_limit: None,
                    restore_from: None,
                    max_attempts: 3,
                    idempotency: None,
                    now: Utc::now(),
                };
                ids.push(repo.create_store(request).await?.store().id);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await??);
    }
    drain(repo, "setup").await?;
    Ok(ids)
}

/// Leases and completes until nothing is runnable; returns how many jobs it finished.
async fn drain(repo: &Arc<dyn Repository>, holder: &str) -> Result<usize> {
    let mut done = 0;
    while let Some(job) = repo.lease(holder, LEASE, Utc::now()).await? {
        repo.complete(job.id, holder, Utc::now()).await?;
        done += 1;
    }
    Ok(done)
}

/// Jobs per second of each round.
async fn measure(open: &Open, stores: &[StoreId], workers: usize) -> Result<Vec<f64>> {
    let mut repos = Vec::new();
    for _ in 0..workers {
        repos.push(open(1).await?);
    }
    let mut rounds = Vec::new();
    // One untimed round first: fresh connections prepare their statements on first use.
    for round in 0..=ROUNDS {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (w, repo) in repos.iter().enumerate() {
            let repo = repo.clone();
            let mine: Vec<StoreId> = stores.iter().skip(w).step_by(workers).copied().collect();
            tasks.push(tokio::spawn(async move {
                let holder = format!("bench-{w}");
                let mut done = 0;
                for store in mine {
                    repo.enqueue(store, JobKind::Reconcile, 3, Utc::now())
                        .await?;
                    // Another worker may have leased the job just queued; this worker then
                    // takes whichever is runnable, or moves on.
                    if let Some(job) = repo.lease(&holder, LEASE, Utc::now()).await? {
                        repo.complete(job.id, &holder, Utc::now()).await?;
                        done += 1;
                    }
                }
                done += drain(&repo, &holder).await?;
                anyhow::Ok(done)
            }));
        }
        let mut done = 0;
        for task in tasks {
            done += task.await??;
        }
        done += drain(&repos[0], "straggler").await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            done == stores.len(),
            "finished {done} of {} jobs",
            stores.len()
        );
        if round > 0 {
            rounds.push(done as f64 / elapsed.as_secs_f64());
        }
    }
    Ok(rounds)
}

fn report(backend: &str, workers: usize, mut rounds: Vec<f64>) {
    let shown: Vec<String> = rounds.iter().map(|r| format!("{r:.0}")).collect();
    rounds.sort_by(f64::total_cmp);
    let median = rounds[rounds.len() / 2];
    println!(
        "| {backend:<10} | {workers:>7} | {median:>15.0} | {:<22} |",
        shown.join(", ")
    );
}

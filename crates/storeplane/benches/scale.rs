//! Scale: many stores provisioned on kube-sim with drift checks on, and what that costs
//! in memory. `storeplane serve` (SQLite) against `storeplane sim`, both the release
//! binary, two processes on loopback, driven over HTTP like any client.
//!
//! Stores are created in batches (64 concurrent `POST`s, then every store of the batch
//! waited for), while drift checks re-apply every ready store on a short interval, so
//! drift passes run during the whole run. Prints, does not assert:
//! - after each batch: stores/s for the batch, Kubernetes API requests/s, `serve`'s and
//!   kube-sim's resident memory (RSS);
//! - then `serve` is stopped (SIGTERM) and started again on the same data, and its RSS
//!   is read after start-up and after one full drift pass over every store.
//!
//! `cargo bench -p storeplane --bench scale`; `BENCH_STORES=N` (default 10,000),
//! `BENCH_BATCH=N` (default 1,000) and `BENCH_DRIFT_INTERVAL=SECONDS` (default 60)
//! change the run.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "support/processes.rs"]
mod processes;

use std::time::{Duration, Instant};

use futures::StreamExt;

use processes::{
    Killed, Readiness, bench_token, create_store, sim_requests, start_serve, start_sim,
};

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let stores = knob("BENCH_STORES", 10_000);
    let batch = knob("BENCH_BATCH", 1_000).max(1);
    let drift_interval = knob("BENCH_DRIFT_INTERVAL", 60) as u64;
    let tmp = tempfile::tempdir().unwrap();
    let (sim, kubeconfig, sim_url) = start_sim(tmp.path());
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap().to_owned();
    let (serve, base) = start_serve(&kubeconfig, &data, drift_interval);
    let token = bench_token(&data);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    println!(
        "{stores} stores in batches of {batch}, drift checks every {drift_interval} s (jittered by half)"
    );
    println!(
        "idle: serve {:.0} MB, kube-sim {:.0} MB",
        serve.rss_mb(),
        sim.rss_mb()
    );
    let started = Instant::now();
    runtime.block_on(provision(
        &http, &base, &token, &sim_url, &serve, &sim, stores, batch,
    ));
    println!(
        "all {stores} ready in {:.0} s ({:.1} stores/s); serve peak {:.0} MB, kube-sim peak {:.0} MB",
        started.elapsed().as_secs_f64(),
        stores as f64 / started.elapsed().as_secs_f64(),
        serve.peak_rss_mb(),
        sim.peak_rss_mb()
    );

    serve.terminate();
    let (serve, base) = start_serve(&kubeconfig, &data, drift_interval);
    println!("restarted: serve {:.0} MB", serve.rss_mb());
    let pass = runtime.block_on(drift_pass(&http, &base, stores));
    println!(
        "after one full drift pass ({stores} reconciles, {:.0} s from restart): serve {:.0} MB (peak {:.0} MB), kube-sim {:.0} MB",
        pass.as_secs_f64(),
        serve.rss_mb(),
        serve.peak_rss_mb(),
        sim.rss_mb()
    );
}

#[allow(clippy::too_many_arguments)]
async fn provision(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sim_url: &str,
    serve: &Killed,
    sim: &Killed,
    stores: usize,
    batch: usize,
) {
    let readiness = Readiness::follow(http, base, token).await;
    let mut done = 0;
    while done < stores {
        let size = batch.min(stores - done);
        let requests = sim_requests(http, sim_url).await;
        let started = Instant::now();
        let mut creations = futures::stream::iter(done..done + size)
            .map(|i| create_store(http, base, token, format!("shop-{i:05}")))
            .buffer_unordered(64);
        let mut created = Vec::with_capacity(size);
        while let Some((id, _sent)) = creations.next().await {
            created.push(id);
        }
        for id in &created {
            readiness.wait(id).await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let requests = sim_requests(http, sim_url).await - requests;
        done += size;
        println!(
            "{done:>6} stores: batch {:>5.1} stores/s, {:>6.0} API requests/s; serve {:>4.0} MB, kube-sim {:>5.0} MB",
            size as f64 / elapsed,
            requests as f64 / elapsed,
            serve.rss_mb(),
            sim.rss_mb()
        );
    }
}

/// Waits until the restarted `serve` has finished a reconcile of every store (its
/// `storeplane_jobs_total{kind="reconcile",outcome="done"}`); returns how long it took.
async fn drift_pass(http: &reqwest::Client, base: &str, stores: usize) -> Duration {
    let started = Instant::now();
    loop {
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let reconciled = metrics
            .lines()
            .filter(|l| {
                l.starts_with("storeplane_jobs_total{")
                    && l.contains("kind=\"reconcile\"")
                    && l.contains("outcome=\"done\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
        if reconciled >= stores as f64 {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

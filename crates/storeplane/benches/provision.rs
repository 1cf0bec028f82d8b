//! Provisioning end to end: `storeplane serve` (SQLite) against `storeplane sim`, both the
//! release binary, driven over HTTP like any client.
//!
//! Prints, does not assert:
//! - latency from `POST /api/v1/stores` to the store's "ready" event on the live-update
//!   stream, one store at a time (p50, p99);
//! - 1,000 stores created at once: time until all are ready, and their latencies;
//! - Kubernetes API requests per store, counted by the simulator.
//!
//! `cargo bench -p storeplane --bench provision` (`BENCH_STORES=N` changes the 1,000).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "support/processes.rs"]
mod processes;

use std::time::Instant;

use futures::StreamExt;

use processes::{
    Readiness, bench_token, create_store, sim_requests, start_serve, start_sim, summary,
};

fn main() {
    let stores: usize = std::env::var("BENCH_STORES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().unwrap();
    let (_sim, kubeconfig, sim_url) = start_sim(tmp.path());
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let (_serve, base) = start_serve(&kubeconfig, data, 0);
    let token = bench_token(data);

    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(base, token, sim_url, stores));
}

async fn run(base: String, token: String, sim_url: String, stores: usize) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let readiness = Readiness::follow(&http, &base, &token).await;
    let create = |name: String| create_store(&http, &base, &token, name);
    let requests = || sim_requests(&http, &sim_url);

    // One at a time.
    let mut one_by_one = Vec::new();
    for i in 0..50 {
        let (id, sent) = create(format!("solo-{i:02}")).await;
        one_by_one.push(readiness.wait(&id).await - sent);
    }
    println!(
        "one store at a time (50): POST to ready {}",
        summary(one_by_one)
    );

    // All at once.
    let before = requests().await;
    let started = Instant::now();
    let mut creations = futures::stream::iter(0..stores)
        .map(|i| create(format!("shop-{i:04}")))
        .buffer_unordered(64);
    let mut created = Vec::with_capacity(stores);
    while let Some(store) = creations.next().await {
        created.push(store);
    }
    let accepted = started.elapsed();
    let mut latencies = Vec::with_capacity(stores);
    let mut last = started;
    for (id, sent) in &created {
        let at = readiness.wait(id).await;
        latencies.push(at - *sent);
        last = last.max(at);
    }
    let total = last - started;
    let sent = requests().await - before;
    println!(
        "{stores} stores at once (64 concurrent POSTs): all accepted in {:.2} s, all ready in {:.2} s ({:.0} stores/s)",
        accepted.as_secs_f64(),
        total.as_secs_f64(),
        stores as f64 / total.as_secs_f64()
    );
    println!("  POST to ready {}", summary(latencies));
    println!(
        "  Kubernetes API requests: {sent} ({:.1} per store)",
        sent as f64 / stores as f64
    );
}

//! Changing stores end to end: `storeplane serve` (SQLite) against `storeplane sim`, both
//! the release binary, driven over HTTP like any client.
//!
//! Prints, does not assert:
//! - latency from `PATCH /api/v1/stores/{id}` (a plan change) to the new revision's
//!   "deployed" event on the live-update stream, one store at a time (p50, p99);
//! - every store changed at once: time until all new revisions are deployed, and the
//!   Kubernetes API requests per change, counted by the simulator (beside the requests of
//!   a first provisioning, measured the same way);
//! - one drift pass over every store, all quiet: Kubernetes API requests and the CPU time
//!   `serve` spent on it.
//!
//! `cargo bench -p storeplane --bench change` (`BENCH_STORES=N` changes the 1,000).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "support/processes.rs"]
mod processes;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use processes::{
    Readiness, bench_token, create_store, sim_requests, start_serve, start_sim, summary,
};

/// Changes store `id` to `plan`: the new revision's number and when the request was sent.
async fn change_plan(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    plan: &str,
) -> (u64, Instant) {
    let sent = Instant::now();
    let response = http
        .patch(format!("{base}/api/v1/stores/{id}"))
        .bearer_auth(token)
        .json(&json!({"plan": plan, "reason": "benchmark"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        202,
        "{}",
        response.text().await.unwrap()
    );
    let body: Value = response.json().await.unwrap();
    (body["revision"]["number"].as_u64().unwrap(), sent)
}

/// The sum of a counter's series in `serve`'s metrics.
async fn counter(http: &reqwest::Client, base: &str, name: &str) -> f64 {
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// CPU time (user + system) process `pid` has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports in clock ticks of 1/100 s (USER_HZ) on every platform it runs on.
    Duration::from_millis(ticks * 10)
}

fn main() {
    let stores: usize = std::env::var("BENCH_STORES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().unwrap();
    let (_sim, kubeconfig, sim_url) = start_sim(tmp.path());
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    let (serve, base) = start_serve(&kubeconfig, &data, 0);
    let token = bench_token(&data);
    let ids = runtime.block_on(changes(&http, &base, &token, &sim_url, stores));
    serve.terminate();

    // A drift pass over every store, all of them quiet: serve restarted with checks due
    // within a minute, measured from when it has settled until every store was checked.
    let (serve, base) = start_serve(&kubeconfig, &data, 40);
    runtime.block_on(drift_pass(&http, &base, &sim_url, serve.0.id(), ids.len()));
    serve.terminate();
}

async fn changes(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sim_url: &str,
    stores: usize,
) -> Vec<String> {
    let readiness = Readiness::follow(http, base, token).await;
    let requests = || sim_requests(http, sim_url);

    // The stores to change, provisioned at once (their requests are the baseline).
    let before = requests().await;
    let mut creations = futures::stream::iter(0..stores)
        .map(|i| create_store(http, base, token, format!("shop-{i:04}")))
        .buffer_unordered(64);
    let mut ids = Vec::with_capacity(stores);
    while let Some((id, _sent)) = creations.next().await {
        ids.push(id);
    }
    for id in &ids {
        readiness.wait(id).await;
    }
    let provisioning = (requests().await - before) as f64 / stores as f64;

    // One at a time, on the first 50 stores: small -> medium, small -> large in turn.
    let mut one_by_one = Vec::new();
    for (i, id) in ids.iter().take(50).enumerate() {
        let plan = if i % 2 == 0 { "medium" } else { "large" };
        let (revision, sent) = change_plan(http, base, token, id, plan).await;
        one_by_one.push(readiness.deployed(id, revision).await - sent);
    }
    println!(
        "one change at a time (50): PATCH to deployed {}",
        summary(one_by_one)
    );

    // Every store at once, each to a plan it is not on: medium, or large for those the
    // first phase moved to medium.
    let targets: Vec<(String, &str)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id.clone(),
                if i < 50 && i % 2 == 0 {
                    "large"
                } else {
                    "medium"
                },
            )
        })
        .collect();
    let before = requests().await;
    let started = Instant::now();
    let mut patches = futures::stream::iter(targets)
        .map(|(id, plan)| async move {
            let (revision, sent) = change_plan(http, base, token, &id, plan).await;
            (id, revision, sent)
        })
        .buffer_unordered(64);
    let mut changed = Vec::with_capacity(stores);
    while let Some(change) = patches.next().await {
        changed.push(change);
    }
    let accepted = started.elapsed();
    let mut latencies = Vec::with_capacity(stores);
    let mut last = started;
    for (id, revision, sent) in &changed {
        let at = readiness.deployed(id, *revision).await;
        latencies.push(at - *sent);
        last = last.max(at);
    }
    let total = last - started;
    let sent = requests().await - before;
    println!(
        "{stores} changes at once (64 concurrent PATCHes): all accepted in {:.2} s, all deployed in {:.2} s ({:.0} changes/s)",
        accepted.as_secs_f64(),
        total.as_secs_f64(),
        stores as f64 / total.as_secs_f64()
    );
    println!("  PATCH to deployed {}", summary(latencies));
    println!(
        "  Kubernetes API requests: {:.1} per change ({:.1} per first provisioning)",
        sent as f64 / stores as f64,
        provisioning
    );
    ids
}

async fn drift_pass(
    http: &reqwest::Client,
    base: &str,
    sim_url: &str,
    serve_pid: u32,
    stores: usize,
) {
    let checks = "storeplane_drift_checks_total";
    // Let the restart's own work (the backfill, the feed) finish first.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before_checks = counter(http, base, checks).await;
    let before_requests = sim_requests(http, sim_url).await;
    let before_cpu = cpu_time(serve_pid);
    let started = Instant::now();
    loop {
        let done = counter(http, base, checks).await - before_checks;
        if done >= stores as f64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "only {done} of {stores} stores were checked"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let requests = sim_requests(http, sim_url).await - before_requests;
    let cpu = cpu_time(serve_pid) - before_cpu;
    let clean = counter(http, base, &format!("{checks}{{result=\"clean\"}}")).await;
    println!(
        "drift pass over {stores} quiet stores: {requests} Kubernetes API requests ({:.1} per store), serve CPU {:.2} s ({:.2} ms per store); {clean:.0} found clean",
        requests as f64 / stores as f64,
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / stores as f64
    );
}

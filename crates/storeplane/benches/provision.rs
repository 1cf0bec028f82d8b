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

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

const BIN: &str = env!("CARGO_BIN_EXE_storeplane");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn storeplane(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("STOREPLANE_LOG", "warn");
    command
}

/// When each store became ready, as the live-update stream told it.
#[derive(Default)]
struct Readiness {
    at: Mutex<HashMap<String, Instant>>,
    changed: Notify,
}

impl Readiness {
    async fn wait(&self, id: &str) -> Instant {
        loop {
            let notified = self.changed.notified();
            if let Some(at) = self.at.lock().unwrap().get(id) {
                return *at;
            }
            notified.await;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    )
}

fn main() {
    let stores: usize = std::env::var("BENCH_STORES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    let _sim = Killed(
        storeplane(&["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    while !kubeconfig.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let sim_url = std::fs::read_to_string(&kubeconfig)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("server:")
                .map(|s| s.trim().to_owned())
        })
        .unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let mut serve = storeplane(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data,
        "--workers",
        "32",
        "--kube-qps",
        "100000",
        "--kube-burst",
        "100000",
        "--store-quota",
        "0",
        "--rate-limit-per-minute",
        "0",
        "--drift-interval",
        "0",
        "--storefront-check-timeout",
        "0",
        "--kubeconfig",
    ]);
    serve
        .arg(&kubeconfig)
        .env("STOREPLANE_LOG", "info")
        .env("STOREPLANE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut serve = Killed(serve.spawn().unwrap());
    let mut logs = BufReader::new(serve.0.stderr.take().unwrap()).lines();
    let base = loop {
        let line = logs.next().unwrap().unwrap();
        let log: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if let Some(address) = log["address"].as_str() {
            break format!("http://{address}");
        }
    };
    std::thread::spawn(move || for _ in logs {});
    let output = storeplane(&["token", "create", "--user", "bench", "--data-dir", data])
        .output()
        .unwrap();
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(base, token, sim_url, stores));
}

async fn run(base: String, token: String, sim_url: String, stores: usize) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let readiness = Arc::new(Readiness::default());
    let stream = http
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes_stream()
        .eventsource();
    let ready = readiness.clone();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(Ok(event)) = stream.next().await {
            let Ok(event) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if event["detail"]["step"] == "ready" {
                let id = event["store_id"].as_str().unwrap_or_default().to_owned();
                ready.at.lock().unwrap().insert(id, Instant::now());
                ready.changed.notify_waiters();
            }
        }
    });
    let create = |name: String| {
        let http = http.clone();
        let (base, token) = (base.clone(), token.clone());
        async move {
            let sent = Instant::now();
            let response = http
                .post(format!("{base}/api/v1/stores"))
                .bearer_auth(&token)
                .json(&json!({"name": name, "engine": "woocommerce", "plan": "small"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
            let store: Value = response.json().await.unwrap();
            (store["id"].as_str().unwrap().to_owned(), sent)
        }
    };
    let requests = || {
        let http = http.clone();
        let url = format!("{sim_url}/kube-sim/stats");
        async move {
            let stats: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            stats["requests"].as_u64().unwrap()
        }
    };

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

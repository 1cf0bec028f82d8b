//! What the benchmarks share: `storeplane sim` and `storeplane serve` started as two
//! processes of the release binary on loopback, a bench token, the live-update stream
//! that tells when each store is ready, and the memory of a process.

// Each benchmark uses part of this.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

const BIN: &str = env!("CARGO_BIN_EXE_storeplane");

/// A child process, killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// Resident memory now, in MB (`VmRSS`).
    pub fn rss_mb(&self) -> f64 {
        status_kb(self.0.id(), "VmRSS:") / 1024.0
    }

    /// The most resident memory so far, in MB (`VmHWM`).
    pub fn peak_rss_mb(&self) -> f64 {
        status_kb(self.0.id(), "VmHWM:") / 1024.0
    }

    /// Sends SIGTERM and waits for the process to exit, as Kubernetes stops a pod.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn status_kb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

pub fn storeplane(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("STOREPLANE_LOG", "warn");
    command
}

/// `storeplane sim` on a free port: the process, its kubeconfig and its URL.
pub fn start_sim(dir: &Path) -> (Killed, PathBuf, String) {
    let kubeconfig = dir.join("kubeconfig");
    let sim = Killed(
        storeplane(&["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    while !kubeconfig.exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = std::fs::read_to_string(&kubeconfig)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("server:")
                .map(|s| s.trim().to_owned())
        })
        .unwrap();
    (sim, kubeconfig, url)
}

/// `storeplane serve` on a free port against the simulator, 32 workers, no client or API
/// rate limits, no storefront check, drift checks every `drift_interval` seconds (0: off):
/// the process and its base URL.
pub fn start_serve(kubeconfig: &Path, data: &str, drift_interval: u64) -> (Killed, String) {
    let drift_interval = drift_interval.to_string();
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
        &drift_interval,
        "--storefront-check-timeout",
        "0",
        "--kubeconfig",
    ]);
    serve
        .arg(kubeconfig)
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
    (serve, base)
}

/// A token for user `bench` in the data directory `data`.
pub fn bench_token(data: &str) -> String {
    let output = storeplane(&["token", "create", "--user", "bench", "--data-dir", data])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A store's moment on its timeline: ready, or a revision deployed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Milestone {
    Ready(String),
    Deployed(String, u64),
}

/// When each store became ready, and each of its revisions was deployed, as the
/// live-update stream told it.
#[derive(Default)]
pub struct Readiness {
    at: Mutex<HashMap<Milestone, Instant>>,
    changed: Notify,
}

impl Readiness {
    /// Follows the live-update stream of `base` and records every store's "ready" step
    /// and every revision's move to deployed.
    pub async fn follow(http: &reqwest::Client, base: &str, token: &str) -> Arc<Self> {
        let readiness = Arc::new(Self::default());
        let stream = http
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .bytes_stream()
            .eventsource();
        let seen = readiness.clone();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(Ok(event)) = stream.next().await {
                let Ok(event) = serde_json::from_str::<Value>(&event.data) else {
                    continue;
                };
                let id = event["store_id"].as_str().unwrap_or_default().to_owned();
                let detail = &event["detail"];
                let milestone = if detail["step"] == "ready" {
                    Milestone::Ready(id)
                } else if detail["step"] == "revision" && detail["status"] == "deployed" {
                    Milestone::Deployed(id, detail["revision"].as_u64().unwrap_or_default())
                } else {
                    continue;
                };
                seen.at.lock().unwrap().insert(milestone, Instant::now());
                seen.changed.notify_waiters();
            }
        });
        readiness
    }

    /// When store `id` became ready, waiting for it if need be.
    pub async fn wait(&self, id: &str) -> Instant {
        self.reached(Milestone::Ready(id.to_owned())).await
    }

    /// When revision `revision` of store `id` was deployed, waiting for it if need be.
    pub async fn deployed(&self, id: &str, revision: u64) -> Instant {
        self.reached(Milestone::Deployed(id.to_owned(), revision))
            .await
    }

    async fn reached(&self, milestone: Milestone) -> Instant {
        loop {
            let notified = self.changed.notified();
            if let Some(at) = self.at.lock().unwrap().get(&milestone) {
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

/// `p50 ..., p99 ..., max ...` of `latencies`, in milliseconds.
pub fn summary(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    )
}

/// Creates a small WooCommerce store named `name`: its id and when the request was sent.
pub async fn create_store(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: String,
) -> (String, Instant) {
    let sent = Instant::now();
    let response = http
        .post(format!("{base}/api/v1/stores"))
        .bearer_auth(token)
        .json(&json!({"name": name, "engine": "woocommerce", "plan": "small"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let store: Value = response.json().await.unwrap();
    (store["id"].as_str().unwrap().to_owned(), sent)
}

/// Kubernetes API requests the simulator at `sim_url` has served.
pub async fn sim_requests(http: &reqwest::Client, sim_url: &str) -> u64 {
    let stats: Value = http
        .get(format!("{sim_url}/kube-sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"].as_u64().unwrap()
}

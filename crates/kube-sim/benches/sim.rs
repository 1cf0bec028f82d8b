//! Benchmark of kube-sim itself, so later provisioning benchmarks measure storeplane and
//! not the simulator: server-side apply throughput of Deployments (with the simulated
//! controllers running), list and watch throughput, and watch delivery latency.
//!
//! Run with `cargo bench -p kube-sim --bench sim`; it prints figures, it does not assert.
//! `KUBE_SIM_BENCH_DEPLOYMENTS` and `KUBE_SIM_BENCH_CONCURRENCY` change the workload.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube_sim::{SimConfig, SimHandle};
use serde_json::json;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn deployment(name: &str, generation: usize) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name, "bench/round": generation.to_string()}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "wordpress",
                    "image": "wordpress:6.6-php8.3-apache",
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "env": [
                        {"name": "WORDPRESS_DB_HOST", "value": "mariadb"},
                        {"name": "WORDPRESS_DB_NAME", "value": "shop"},
                    ],
                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                }]},
            },
        },
    })
}

/// Applies `count` Deployments with `concurrency` workers; returns applies per second.
async fn apply_round(api: &Api<Deployment>, count: usize, concurrency: usize, round: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let api = api.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let params = PatchParams::apply("storeplane-bench").force();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let name = format!("store-{i}");
                    api.patch(&name, &params, &Patch::Apply(deployment(&name, round)))
                        .await
                        .expect("apply succeeds");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker finishes");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The same applies with the request body serialized up front and the response left
/// undecoded: what the server sustains when the client's own costs are taken out.
async fn raw_apply_round(
    client: &kube::Client,
    count: usize,
    concurrency: usize,
    round: usize,
) -> f64 {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| {
                serde_json::to_vec(&deployment(&format!("store-{i}"), round)).expect("serializable")
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let next = next.clone();
            let bodies = bodies.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let request = http::Request::builder()
                        .method("PATCH")
                        .uri(format!(
                            "/apis/apps/v1/namespaces/bench/deployments/store-{i}\
                             ?fieldManager=storeplane-bench&force=true"
                        ))
                        .header("content-type", "application/apply-patch+yaml")
                        .body(bodies[i].clone())
                        .expect("valid request");
                    client.request_text(request).await.expect("apply succeeds");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker finishes");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// CPU time this process has used (user + system), from `/proc/self/stat` on Linux.
/// Throughput on a shared 2-core machine swings with whatever else runs; CPU time per
/// apply does not, so both are printed.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every mainstream Linux configuration.
    Some(Duration::from_millis(ticks * 10))
}

/// Runs one round and prints its rate and its CPU cost per apply.
async fn report<F: std::future::Future<Output = f64>>(label: &str, count: usize, round: F) {
    let cpu_before = cpu_time();
    let rate = round.await;
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| (after - before).as_secs_f64() * 1e6 / count as f64);
    match cpu {
        Some(us) => println!(
            "  {label:<34} {rate:>7.0} applies/s  ({us:>4.0} us CPU per apply, client + server)"
        ),
        None => println!("  {label:<34} {rate:>7.0} applies/s"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Creates objects one at a time and times until a watcher sees each one.
async fn watch_latency(sim: &SimHandle, samples: usize) -> Vec<Duration> {
    let client = sim.client().expect("client");
    let maps: Api<ConfigMap> = Api::namespaced(client, "latency");
    let mut stream = maps
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch opens")
        .boxed();
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("cm-{i}")}}))
                .expect("valid config map");
        let sent = Instant::now();
        maps.create(&PostParams::default(), &cm)
            .await
            .expect("created");
        loop {
            match stream
                .try_next()
                .await
                .expect("watch healthy")
                .expect("watch open")
            {
                WatchEvent::Added(_) => break,
                _ => continue,
            }
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    latencies
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let deployments = env_or("KUBE_SIM_BENCH_DEPLOYMENTS", 2000);
    let concurrency = env_or("KUBE_SIM_BENCH_CONCURRENCY", 32);
    let sim = SimHandle::start(SimConfig {
        watch_history: 50_000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let client = sim.client().expect("client");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in ["bench", "latency"] {
        let object: Namespace =
            serde_json::from_value(json!({"metadata": {"name": ns}})).expect("valid namespace");
        namespaces
            .create(&PostParams::default(), &object)
            .await
            .expect("namespace");
    }
    let api: Api<Deployment> = Api::namespaced(client.clone(), "bench");

    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let all: Api<Deployment> = Api::all(client.clone());
    let watcher = tokio::spawn(async move {
        let mut stream = all
            .watch(&WatchParams::default(), "0")
            .await
            .expect("watch opens")
            .boxed();
        while let Some(Ok(_)) = stream.next().await {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });

    println!("kube-sim benchmark (a test double measuring itself)");
    println!(
        "  workload: {deployments} Deployments, {concurrency} concurrent kube-rs workers, controllers on"
    );
    let started = Instant::now();
    report(
        "server-side apply (create):",
        deployments,
        apply_round(&api, deployments, concurrency, 0),
    )
    .await;
    report(
        "server-side apply (update):",
        deployments,
        apply_round(&api, deployments, concurrency, 1),
    )
    .await;
    report(
        "server-side apply (no change):",
        deployments,
        apply_round(&api, deployments, concurrency, 1),
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    report(
        "raw server-side apply (update):",
        deployments,
        raw_apply_round(&client, deployments, concurrency, 2),
    )
    .await;
    report(
        "raw server-side apply (no change):",
        deployments,
        raw_apply_round(&client, deployments, concurrency, 2),
    )
    .await;
    let events = seen.load(Ordering::Relaxed);
    println!(
        "  watch events delivered meanwhile:  {:>9.0} events/s ({events} events)",
        events as f64 / elapsed
    );
    watcher.abort();

    let list_started = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        let list = api.list(&ListParams::default()).await.expect("listed");
        assert_eq!(list.items.len(), deployments);
    }
    let per_list = list_started.elapsed() / rounds;
    println!(
        "  list of {deployments} Deployments:         {:>9.1} ms ({:.0} objects/s)",
        per_list.as_secs_f64() * 1e3,
        deployments as f64 / per_list.as_secs_f64()
    );

    let latencies = watch_latency(&sim, 1000).await;
    println!(
        "  watch latency, create sent -> event received: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3,
    );
    sim.shutdown().await;
}

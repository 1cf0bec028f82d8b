//! The `storeplane` binary as a person runs it: start-up errors, serving, and shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_storeplane");

fn storeplane(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("STOREPLANE_LOG", "warn");
    command
}

fn run_to_end(mut command: Command) -> (i32, String, String) {
    let output = command.output().expect("storeplane runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn pg_url() -> String {
    std::env::var("STOREPLANE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[test]
fn serve_with_an_unreachable_database_exits_with_one_line_naming_it() {
    let started = std::time::Instant::now();
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "postgres://app:hunter2@127.0.0.1:1/storeplane",
        "--database-connect-timeout",
        "2",
    ]));
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(
        stderr.starts_with(
            "error: failed to connect to the database at postgres://app:***@127.0.0.1:1/storeplane"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "gave up in time"
    );
}

#[test]
fn a_malformed_database_url_is_refused_before_anything_starts() {
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--database-url",
        "postgres://u:pw@db:notaport/x",
    ]));
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(
        stderr.starts_with("error: invalid database URL \"postgres://u:***@db:notaport/x\""),
        "{stderr}"
    );
    assert!(!stderr.contains(":pw@"), "the password leaked: {stderr}");
}

#[test]
fn a_data_directory_that_cannot_be_written_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let data_dir = file.join("data");
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]));
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "data directory {} is not writable",
            data_dir.display()
        )),
        "{stderr}"
    );
}

#[test]
fn migrate_brings_a_fresh_sqlite_database_up_to_date_and_is_repeatable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    for _ in 0..2 {
        let (code, stdout, stderr) = run_to_end(storeplane(&["migrate", "--data-dir", dir]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("is up to date"), "{stdout}");
    }
    assert!(tmp.path().join("storeplane.db").exists());
}

#[test]
fn migrate_brings_postgres_up_to_date() {
    let (code, stdout, stderr) = run_to_end(storeplane(&["migrate", "--database-url", &pg_url()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("is up to date"), "{stdout}");
}

/// A running `storeplane serve` on a port the OS chose.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &std::path::Path) -> Self {
        let mut child = storeplane(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ])
        .env("STOREPLANE_LOG", "info")
        .env("STOREPLANE_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("storeplane starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines.next().expect("storeplane logs its address").unwrap();
            let log: serde_json::Value = serde_json::from_str(&line).expect("json log lines");
            if let Some(address) = log["address"].as_str() {
                break format!("http://{address}");
            }
        };
        // Keep draining the logs so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // reqwest leaves the TLS provider choice to us; storeplane uses ring only.
        let _ = rustls::crypto::ring::default_provider().install_default();
        runtime.block_on(async {
            let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("storeplane did not stop within 5 s of SIGTERM");
    }
}

#[test]
fn serve_answers_health_readiness_and_metrics_then_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());

    assert_eq!(
        server.get("/healthz"),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""database":"ok""#), "{body}");
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{metrics}"
    );

    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}

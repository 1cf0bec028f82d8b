//! Running the real `storeplane` binary: one-shot commands and servers on port 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_storeplane");

/// `storeplane ARGS` with a clean environment and quiet logs.
pub fn storeplane(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("STOREPLANE_LOG", "warn");
    command
}

/// Runs to the end: exit code, stdout, stderr.
pub fn run_to_end(mut command: Command) -> (i32, String, String) {
    let output = command.output().expect("storeplane runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn pg_url() -> String {
    std::env::var("STOREPLANE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A PostgreSQL schema of its own for one test, dropped at the end.
pub struct PgSchema {
    pub url: String,
    name: String,
}

impl PgSchema {
    pub fn create() -> Self {
        let name = format!("storeplane_cli_{}", uuid::Uuid::now_v7().simple());
        admin(&format!("CREATE SCHEMA {name}"));
        let separator = if pg_url().contains('?') { '&' } else { '?' };
        Self {
            url: format!("{}{separator}options[search_path]={name}", pg_url()),
            name,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        admin(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

fn admin(statement: &str) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&pg_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be reachable for this test: {e}"));
        // A DROP SCHEMA right after a test's processes were killed can meet their server
        // sessions still finishing a transaction in it, and PostgreSQL breaks the lock
        // cycle by failing one side: the drop is tried again.
        for attempt in 1.. {
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut conn)
                .await;
            match result {
                Ok(_) => break,
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some("40P01") && attempt < 5 =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{statement}: {e}"),
            }
        }
    });
}

/// Mints an API token with `storeplane token create`.
pub fn token(database: &[&str], user: &str, admin: bool) -> String {
    let mut args = vec!["token", "create", "--user", user];
    if admin {
        args.push("--admin");
    }
    args.extend_from_slice(database);
    let (code, stdout, stderr) = run_to_end(storeplane(&args));
    assert_eq!(code, 0, "{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("spt_"), "{stdout}");
    token
}

/// A running `storeplane serve` on a port the OS chose.
pub struct Server {
    child: Child,
    pub base: String,
    /// Everything the server printed on standard output (the login link).
    pub stdout: mpsc::Receiver<String>,
    /// Its log lines (JSON).
    pub logs: mpsc::Receiver<String>,
    /// The log lines before the one with its address (what it did at start).
    pub startup_logs: Vec<String>,
}

impl Server {
    /// `storeplane serve --sim ARGS` (the built-in simulated cluster).
    pub fn start(args: &[&str]) -> Self {
        Self::start_on_cluster(&[&["--sim"], args].concat())
    }

    /// `storeplane serve ARGS`, which must say which cluster.
    pub fn start_on_cluster(args: &[&str]) -> Self {
        Self::start_on_cluster_with_env(args, &[])
    }

    /// `storeplane serve ARGS` with `env` set, which must say which cluster.
    pub fn start_on_cluster_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = storeplane(&[&["serve", "--listen", "127.0.0.1:0"], args].concat());
        command.envs(env.iter().copied());
        let mut child = command
            .env("STOREPLANE_LOG", "info")
            .env("STOREPLANE_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("storeplane starts");
        let logs = lines_of(child.stderr.take().unwrap());
        let stdout = lines_of(child.stdout.take().unwrap());
        let mut startup_logs = Vec::new();
        let base = loop {
            let line = logs
                .recv_timeout(Duration::from_secs(30))
                .expect("storeplane logs its address");
            let log: serde_json::Value = serde_json::from_str(&line).expect("json log lines");
            if let Some(address) = log["address"].as_str() {
                break format!("http://{address}");
            }
            startup_logs.push(line);
        };
        Self {
            child,
            base,
            stdout,
            logs,
            startup_logs,
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        block_on(async {
            let response = client()
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }

    /// Sends SIGTERM and waits (at most 5 s) for the process to end.
    pub fn terminate(mut self) -> std::process::ExitStatus {
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `storeplane sim` running until dropped, with the kubeconfig it wrote.
pub struct Sim {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Sim {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// `storeplane sim ARGS` (fault flags, `--ready-delay`, ...).
    pub fn start_with(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let child = storeplane(
            &[
                &[
                    "sim",
                    "--listen",
                    "127.0.0.1:0",
                    "--kubeconfig-out",
                    kubeconfig.to_str().unwrap(),
                ],
                args,
            ]
            .concat(),
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let started = Instant::now();
        while !kubeconfig.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no kubeconfig written"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, dir }
    }

    /// Runs kubectl against the simulator: its stdout, or a panic with its stderr.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let kubeconfig = self.dir.path().join("kubeconfig");
        let mut child = std::process::Command::new("kubectl")
            .args([
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--request-timeout",
                "10s",
            ])
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl is installed");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            std::io::Write::write_all(&mut input, text.as_bytes()).unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    /// The kubeconfig `storeplane sim` wrote.
    pub fn kubeconfig(&self) -> std::path::PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Replaces the simulator's faults through its admin endpoint.
    pub fn set_faults(&self, faults: &serde_json::Value) {
        let kubeconfig = std::fs::read_to_string(self.kubeconfig()).unwrap();
        let server = kubeconfig
            .lines()
            .find_map(|line| line.trim().strip_prefix("server:"))
            .expect("the kubeconfig names the server")
            .trim()
            .to_owned();
        block_on(async {
            let response = client()
                .put(format!("{server}/kube-sim/faults"))
                .json(faults)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{}", response.status());
        });
    }

    /// `--kubeconfig FILE`, for the storeplane processes that use this simulator.
    pub fn kubeconfig_args(&self) -> [String; 2] {
        [
            "--kubeconfig".to_owned(),
            self.kubeconfig().to_str().unwrap().to_owned(),
        ]
    }
}

/// Reads a pipe line by line on a thread of its own, so the child never blocks on it.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn client() -> reqwest::Client {
    // reqwest leaves the TLS provider choice to us; storeplane uses ring only.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

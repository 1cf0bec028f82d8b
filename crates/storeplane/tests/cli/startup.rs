//! Starting and stopping: start-up errors name their problem in one line, and a running
//! server answers health, readiness and metrics, then stops cleanly on SIGTERM.

use std::time::{Duration, Instant};

use crate::support::{Server, pg_url, run_to_end, storeplane};

#[test]
fn serve_with_an_unreachable_database_exits_with_one_line_naming_it() {
    let started = Instant::now();
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--sim",
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
fn serve_without_a_cluster_or_sim_says_so_and_stops() {
    let home = tempfile::tempdir().unwrap();
    let mut command = storeplane(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        home.path().to_str().unwrap(),
    ]);
    command.env("HOME", home.path());
    let (code, _, stderr) = run_to_end(command);
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(stderr.contains("no Kubernetes cluster found"), "{stderr}");
    assert!(stderr.contains("--sim"), "it names the way out: {stderr}");
}

#[test]
fn serve_names_a_kubeconfig_whose_cluster_does_not_answer() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube_sim::kubeconfig_yaml("http://127.0.0.1:1")).unwrap();
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        home.path().to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]));
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(
        stderr.contains(
            "failed to reach the Kubernetes API server of cluster kube-sim (http://127.0.0.1:1/)"
        ),
        "{stderr}"
    );
}

#[test]
fn running_without_authentication_is_refused_off_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_to_end(storeplane(&[
        "serve",
        "--sim",
        "--auth",
        "none",
        "--listen",
        "0.0.0.0:0",
        "--data-dir",
        tmp.path().to_str().unwrap(),
    ]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--auth none is refused on 0.0.0.0:0"),
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

#[test]
fn serve_answers_health_readiness_and_metrics_then_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", tmp.path().to_str().unwrap()]);

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

#[test]
fn the_login_link_goes_to_standard_output_and_never_to_the_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", tmp.path().to_str().unwrap()]);
    let link = std::iter::from_fn(|| server.stdout.recv_timeout(Duration::from_secs(10)).ok())
        .find(|line| line.contains("/login?token="))
        .expect("a login link on stdout");
    let token = link.split("token=").nth(1).unwrap().trim().to_owned();
    assert!(
        link.trim()
            .starts_with(&format!("{}/login?token=spl_", server.base)),
        "{link}"
    );
    let logs: Vec<String> = server.logs.try_iter().collect();
    drop(server);
    assert!(
        logs.iter().all(|line| !line.contains(&token)),
        "the link's token is in the logs"
    );
}

#[test]
fn token_login_link_prints_a_fresh_one_time_link_for_a_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&data);
    let (code, stdout, stderr) = run_to_end(storeplane(
        &[
            &["token", "login-link", "--public-url", &server.base],
            &data[..],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{stderr}");
    let link = stdout.trim().to_owned();
    assert!(
        link.starts_with(&format!("{}/login?token=spl_", server.base)),
        "{stdout}"
    );
    assert!(stderr.contains("works once"), "{stderr}");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (first, cookie, second) = crate::support::block_on(async {
        let first = browser.get(&link).send().await.unwrap();
        let cookie = first
            .headers()
            .get("set-cookie")
            .map(|value| value.to_str().unwrap().to_owned());
        let second = browser.get(&link).send().await.unwrap();
        (first.status(), cookie, second.status())
    });
    assert!(first.is_redirection(), "{first}");
    assert!(
        cookie.is_some_and(|cookie| cookie.starts_with("storeplane_session=")),
        "signed in"
    );
    assert_eq!(second, 401, "the link works once");
}

//! An admin password reset through the binary, on a simulated cluster kubectl can read:
//! the new credentials are revealed once, and neither password reaches anything but the
//! store's Secret (no other object, Job argument, Event, timeline event, metadata row or
//! log line).

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::support::{Server, Sim, run_to_end, storeplane, token};

fn store_command(server: &Server, token: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = storeplane(&[&["store"], args].concat());
    command
        .env("STOREPLANE_SERVER", &server.base)
        .env("STOREPLANE_TOKEN", token);
    run_to_end(command)
}

/// Reveals the store's credentials: the password.
fn reveal(server: &Server, token: &str) -> String {
    let (code, stdout, stderr) =
        store_command(server, token, &["reveal", "acme", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let credentials: Value = serde_json::from_str(&stdout).unwrap();
    credentials["password"].as_str().unwrap().to_owned()
}

/// Every object of every kind a store has, as kubectl prints them, except Secrets.
fn every_object_but_secrets(sim: &Sim) -> String {
    let kinds = "namespaces,configmaps,services,pods,events,jobs,deployments,statefulsets,\
                 replicasets,networkpolicies,persistentvolumeclaims,resourcequotas,limitranges,\
                 ingresses,httproutes";
    sim.kubectl(&["get", kinds, "--all-namespaces", "-o", "json"], None)
}

fn assert_nowhere(password: &str, places: &[(&str, &str)]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(password);
    for (place, text) in places {
        assert!(!text.contains(password), "a password is in {place}");
        assert!(
            !text.contains(&encoded),
            "a password (base64) is in {place}"
        );
    }
}

#[test]
fn a_reset_password_is_revealed_once_and_reaches_nothing_but_the_secret() {
    // Job pods take a moment, so the reset Job can be read before it is removed.
    let sim = Sim::start_with(&["--ready-delay", "1500"]);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = sim.kubeconfig();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start_on_cluster(
        &[&data[..], &["--kubeconfig", kubeconfig.to_str().unwrap()]].concat(),
    );
    let alice = token(&data, "alice", false);
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let first = reveal(&server, &alice);
    let (_, shown, _) = store_command(&server, &alice, &["get", "acme", "--output", "json"]);
    let id = serde_json::from_str::<Value>(&shown).unwrap()["id"]
        .as_str()
        .unwrap()
        .replace('-', "");
    let namespace = format!("store-{id}");

    let (code, stdout, stderr) = store_command(&server, &alice, &["reset-password", "acme"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let reset_job = wait_for_reset_job(&sim, &namespace);
    wait_for_reset(&server, &alice);

    let second = reveal(&server, &alice);
    assert_ne!(first, second, "a new password");
    let (code, _, stderr) = store_command(&server, &alice, &["reveal", "acme"]);
    assert_ne!(code, 0, "the new credentials are shown once");
    assert!(stderr.contains("already revealed"), "{stderr}");

    // The reset Job takes the password from the Secret, never from its command line.
    let container = &reset_job["spec"]["template"]["spec"]["containers"][0];
    let env = container["env"].as_array().unwrap();
    let password_var = env
        .iter()
        .find(|v| v["name"] == "WORDPRESS_ADMIN_PASSWORD")
        .expect("the reset Job is given the password");
    assert!(password_var.get("value").is_none(), "{password_var}");
    assert!(
        password_var["valueFrom"]["secretKeyRef"]["name"].is_string(),
        "{password_var}"
    );
    let job_text = reset_job.to_string();
    let (_, timeline, _) = store_command(&server, &alice, &["events", "acme", "--output", "json"]);
    assert!(
        timeline.contains("resetting the admin password"),
        "{timeline}"
    );
    let objects = every_object_but_secrets(&sim);
    let database = database_bytes(tmp.path());
    // The server runs the workers: their log lines are its.
    let logs = server.logs.try_iter().collect::<Vec<_>>().join("\n");
    assert!(
        logs.contains("secret value replaced"),
        "the worker logged the reset"
    );
    for password in [&first, &second] {
        assert_nowhere(
            password,
            &[
                ("the reset Job", &job_text),
                ("the cluster's objects", &objects),
                ("the timeline", &timeline),
                ("the metadata store", &database),
                ("the server's log", &logs),
            ],
        );
    }
    let secret = sim.kubectl(&["get", "secret", "-n", &namespace, "-o", "json"], None);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&second);
    assert!(
        secret.contains(&encoded),
        "the new password is in the Secret"
    );

    // `--wait` follows the reset to its end and says how to see the result.
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["reset-password", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("resetting the admin password"), "{stdout}");
    assert!(
        stdout.contains("`storeplane store reveal acme` shows the new credentials once"),
        "{stdout}"
    );
    let third = reveal(&server, &alice);
    assert!(third != second && third != first);
}

/// The reset Job as kubectl shows it, once it exists.
fn wait_for_reset_job(sim: &Sim, namespace: &str) -> Value {
    let started = Instant::now();
    loop {
        let jobs: Value = serde_json::from_str(
            &sim.kubectl(&["get", "jobs", "-n", namespace, "-o", "json"], None),
        )
        .unwrap();
        if let Some(job) = jobs["items"].as_array().unwrap().iter().find(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("reset-admin-password"))
        }) {
            return job.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no reset Job appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the timeline says the new credentials can be revealed.
fn wait_for_reset(server: &Server, token: &str) {
    let started = Instant::now();
    loop {
        let (_, timeline, _) =
            store_command(server, token, &["events", "acme", "--output", "json"]);
        if timeline.contains("the new credentials can be revealed once") {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the reset did not finish: {timeline}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every file of the data directory (the database and its write-ahead log), as text.
fn database_bytes(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

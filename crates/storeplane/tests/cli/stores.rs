//! The store commands against a real server, and live updates shared by server processes.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::support::{PgSchema, Server, block_on, client, run_to_end, storeplane, token};

/// `storeplane store ARGS` against `server` as `token`'s user.
fn store_command(server: &Server, token: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = storeplane(&[&["store"], args].concat());
    command
        .env("STOREPLANE_SERVER", &server.base)
        .env("STOREPLANE_TOKEN", token);
    run_to_end(command)
}

#[test]
fn the_store_commands_create_list_show_and_delete_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    // No workers: the store stays where the commands put it (provisioning would otherwise
    // make it ready, credentials and all, within milliseconds).
    let server = Server::start(&[&data[..], &["--workers", "0"]].concat());
    let alice = token(&data, "alice", false);

    let (code, stdout, stderr) =
        store_command(&server, &alice, &["create", "acme", "--plan", "medium"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("acme") && stdout.contains("pending"),
        "{stdout}"
    );

    let (code, stdout, _) = store_command(&server, &alice, &["list", "--output", "json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["items"][0]["name"], "acme");
    assert_eq!(list["items"][0]["plan"], "medium");

    let (code, stdout, _) = store_command(&server, &alice, &["get", "acme"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("http://acme.127.0.0.1.nip.io"), "{stdout}");

    let (code, _, stderr) = store_command(&server, &alice, &["reveal", "acme"]);
    assert_ne!(code, 0, "no credentials before provisioning");
    assert!(
        stderr.contains("once provisioning creates them"),
        "{stderr}"
    );

    let (code, stdout, stderr) = store_command(&server, &alice, &["delete", "acme"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("deleting"), "{stdout}");

    let (code, stdout, _) = store_command(&server, &alice, &["events", "acme"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("created") && stdout.contains("deleting"),
        "{stdout}"
    );
}

#[test]
fn another_users_store_is_not_found_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&data);
    let alice = token(&data, "alice", false);
    let bob = token(&data, "bob", false);
    let (code, _, _) = store_command(&server, &alice, &["create", "acme"]);
    assert_eq!(code, 0);
    let (code, _, stderr) = store_command(&server, &bob, &["get", "acme"]);
    assert_ne!(code, 0);
    assert!(stderr.to_lowercase().contains("no store named"), "{stderr}");
}

#[test]
fn live_updates_reach_subscribers_of_another_server_process_sharing_postgres() {
    let schema = PgSchema::create();
    let database = ["--database-url", schema.url.as_str()];
    let writer = Server::start(&database);
    let reader = Server::start(&database);
    let admin = token(&database, "ops", true);

    block_on(async {
        let response = client()
            .get(format!("{}/api/v1/events", reader.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut events = Box::pin(response.bytes_stream().eventsource());

        let created = client()
            .post(format!("{}/api/v1/stores", writer.base))
            .bearer_auth(&admin)
            .json(&json!({"name": "acme", "engine": "woocommerce", "plan": "small"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 202);
        let store: Value = created.json().await.unwrap();

        let event = tokio::time::timeout(Duration::from_secs(1), events.next())
            .await
            .expect("the other process delivered the event within a second")
            .unwrap()
            .unwrap();
        let timeline: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            (event.event.as_str(), &timeline["kind"]),
            ("timeline", &json!("created"))
        );
        assert_eq!(timeline["store_id"], store["id"]);
    });
}

#[test]
fn a_store_is_provisioned_on_the_simulated_cluster_revealed_once_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&data);
    let alice = token(&data, "alice", false);

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for step in [
        "Namespace",
        "NetworkPolicy",
        "StatefulSet",
        "Deployment",
        "Job",
        "HTTPRoute",
        "ready",
    ] {
        assert!(
            stdout.contains(step),
            "the timeline shows {step}:\n{stdout}"
        );
    }

    let (code, stdout, stderr) = store_command(&server, &alice, &["reveal", "acme"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("admin") && stdout.contains("/wp-admin/"),
        "{stdout}"
    );
    let (code, _, stderr) = store_command(&server, &alice, &["reveal", "acme"]);
    assert_ne!(code, 0, "credentials are shown once");
    assert!(stderr.contains("already revealed"), "{stderr}");

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["delete", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (_, list, _) = store_command(&server, &alice, &["list", "--output", "json"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["items"][0]["status"], "deleted", "{list}");
}

#[test]
fn a_medusa_store_beside_a_woocommerce_store_is_provisioned_revealed_once_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&data);
    let alice = token(&data, "alice", false);

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "wooshop", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &[
            "create",
            "medusashop",
            "--engine",
            "medusa",
            "--wait",
            "--timeout",
            "60",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for step in [
        "/postgres created",
        "/redis created",
        "/medusa-server created",
        "/medusa-worker created",
        "/medusa-setup created",
        "medusa-setup published publishable_key",
        "is ready at http://medusashop.127.0.0.1.nip.io/store",
    ] {
        assert!(
            stdout.contains(step),
            "the timeline shows {step}:\n{stdout}"
        );
    }

    // The publishable key the setup published is shown with the store, by the CLI and the
    // API alike; the WooCommerce store publishes nothing.
    let (code, shown, stderr) = store_command(&server, &alice, &["get", "medusashop"]);
    assert_eq!(code, 0, "{stderr}");
    let (_, json, _) = store_command(&server, &alice, &["get", "medusashop", "--output", "json"]);
    let medusa: Value = serde_json::from_str(&json).unwrap();
    let key = medusa["outputs"]["publishable_key"]
        .as_str()
        .unwrap_or_default();
    assert!(key.starts_with("pk_") && key.len() > 10, "{medusa}");
    assert!(
        shown.contains(&format!("publishable key: {key}")),
        "{shown}"
    );
    assert_eq!(medusa["status"], "ready");
    assert_eq!(
        medusa["admin_url"],
        "http://medusashop.127.0.0.1.nip.io/app"
    );
    let (_, json, _) = store_command(&server, &alice, &["get", "wooshop", "--output", "json"]);
    let woo: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(woo["outputs"], json!({}));
    assert_eq!(woo["status"], "ready");

    // A store keeps its engine: another engine's release is refused, saying so.
    let (code, _, stderr) = store_command(
        &server,
        &alice,
        &["update", "wooshop", "--release", "medusa2.21"],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("release medusa2.21 is a medusa release; this store runs woocommerce"),
        "{stderr}"
    );

    let (code, stdout, stderr) = store_command(&server, &alice, &["reveal", "medusashop"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("admin@example.com") && stdout.contains("/app"),
        "{stdout}"
    );
    let (code, _, stderr) = store_command(&server, &alice, &["reveal", "medusashop"]);
    assert_ne!(code, 0, "credentials are shown once");
    assert!(stderr.contains("already revealed"), "{stderr}");

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["delete", "medusashop", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (_, json, _) = store_command(&server, &alice, &["get", "wooshop", "--output", "json"]);
    let woo: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(woo["status"], "ready", "the other store is untouched");
}

#[test]
fn worker_processes_provision_stores_for_a_server_that_runs_none() {
    let schema = PgSchema::create();
    let sim = crate::support::Sim::start();
    let kubeconfig = sim.kubeconfig();
    let shared = [
        "--database-url",
        schema.url.as_str(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ];
    let server = Server::start_on_cluster(&[&shared[..], &["--workers", "0"]].concat());
    let mut worker = storeplane(&[&["worker"], &shared[..]].concat())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let alice = token(&shared[..2], "alice", false);

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("is ready"), "{stdout}");
    let namespaces = sim.kubectl(&["get", "namespaces", "-o", "name"], None);
    assert!(namespaces.contains("namespace/store-"), "{namespaces}");
}

#[test]
fn a_network_policy_deleted_by_hand_is_restored_by_the_drift_check() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = crate::support::Sim::start();
    let kubeconfig = sim.kubeconfig();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start_on_cluster(
        &[
            &data[..],
            &[
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--drift-interval",
                "1",
            ],
        ]
        .concat(),
    );
    let alice = token(&data, "alice", false);
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (_, list, _) = store_command(&server, &alice, &["list", "--output", "json"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    let namespace = list["items"][0]["namespace"].as_str().unwrap().to_owned();

    sim.kubectl(
        &["delete", "networkpolicy", "default-deny", "-n", &namespace],
        None,
    );
    let started = std::time::Instant::now();
    loop {
        let (_, events, _) = store_command(&server, &alice, &["events", "acme"]);
        if events.contains("NetworkPolicy") && events.contains("default-deny was missing; restored")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no drift restored within 20 s:\n{events}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let policies = sim.kubectl(
        &["get", "networkpolicies", "-n", &namespace, "-o", "name"],
        None,
    );
    assert!(policies.contains("default-deny"), "{policies}");
}

#[test]
fn a_store_is_changed_from_the_command_line_and_its_history_and_diff_show_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&data);
    let alice = token(&data, "alice", false);
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    let (code, stdout, _) = store_command(&server, &alice, &["releases"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("wp6.8-wc9.8") && stdout.contains("mariadb="),
        "{stdout}"
    );

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &[
            "update",
            "acme",
            "--plan",
            "medium",
            "--reason",
            "more traffic",
            "--if-match",
            "1",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("revision 2 recorded: plan small -> medium"),
        "{stdout}"
    );

    let (code, stdout, stderr) = store_command(&server, &alice, &["history", "acme"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("REV") && lines[0].contains("REASON/FAILURE"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with('2') && lines[1].contains("plan small -> medium"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("user:alice") && lines[1].contains("more traffic"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with('1') && lines[2].contains("first provisioning"),
        "{stdout}"
    );

    let (code, stdout, _) =
        store_command(&server, &alice, &["history", "acme", "--output", "json"]);
    assert_eq!(code, 0);
    let history: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");

    let (code, stdout, stderr) = store_command(&server, &alice, &["diff", "acme", "1", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("--- revision 1\n+++ revision 2\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("cpu")),
        "{stdout}"
    );

    let (code, _, stderr) = store_command(
        &server,
        &alice,
        &["update", "acme", "--plan", "large", "--if-match", "1"],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("still being applied") || stderr.contains("has changed since"),
        "{stderr}"
    );
}

#[test]
fn a_rollback_that_restores_a_checkpoint_is_refused_without_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(&[&data[..], &["--workers", "0"]].concat());
    let alice = token(&data, "alice", false);
    let (code, _, stderr) = store_command(&server, &alice, &["create", "acme"]);
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) = store_command(
        &server,
        &alice,
        &["rollback", "acme", "1", "--restore-checkpoint"],
    );

    assert_ne!(code, 0);
    assert!(
        stderr.contains("every order, customer and change written since then is lost"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --yes"), "{stderr}");
}

//! The chart's RBAC exercised, not only compared: `storeplane serve` and its workers run a
//! store's whole lifecycle on kube-sim authenticated as the chart's ServiceAccount, bound
//! to the chart's ClusterRole as `helm template` renders it, and kube-sim authorizes every
//! request as a real API server's RBAC would. A verb taken out of the ClusterRole fails the
//! store with the API server's 403 on its timeline.
//!
//! helm is the one `scripts/fetch-helm.sh` fetches and pins: `STOREPLANE_HELM` (which
//! `scripts/test.sh` sets), or its copy in the tools cache (`STOREPLANE_TOOLS_CACHE`,
//! default `~/.cache/storeplane-tools`). Without it the test fails, saying how to get it.

use std::path::{Path, PathBuf};

use crate::support::{Server, Sim, run_to_end, storeplane, token};

/// The helm version `scripts/fetch-helm.sh` pins.
const HELM_VERSION: &str = "v4.1.4";
const RELEASE: &str = "sp";
const NAMESPACE: &str = "storeplane";
/// The ServiceAccount the chart renders for release `sp`.
const ACCOUNT: &str = "sp-storeplane";

fn helm() -> PathBuf {
    if let Some(helm) = std::env::var_os("STOREPLANE_HELM") {
        return PathBuf::from(helm);
    }
    let cache = std::env::var_os("STOREPLANE_TOOLS_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/storeplane-tools")))
        .expect("HOME or STOREPLANE_TOOLS_CACHE is set");
    let helm = cache.join(format!("helm-{HELM_VERSION}/helm"));
    assert!(
        helm.is_file(),
        "helm {HELM_VERSION} is not at {} (scripts/fetch-helm.sh fetches it; or set \
         STOREPLANE_HELM to a helm binary)",
        helm.display()
    );
    helm
}

/// The chart's ClusterRole and ClusterRoleBinding, as helm renders them.
fn rendered_cluster_role() -> String {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/storeplane");
    let output = std::process::Command::new(helm())
        .args(["template", RELEASE])
        .arg(&chart)
        .args([
            "--namespace",
            NAMESPACE,
            "--show-only",
            "templates/clusterrole.yaml",
        ])
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 manifest")
}

/// Installs the chart's identity on `sim` (namespace, ServiceAccount, `role`) and writes a
/// kubeconfig that authenticates as the ServiceAccount with a token from TokenRequest.
fn chart_identity(sim: &Sim, role: &str, dir: &Path) -> PathBuf {
    sim.kubectl(&["create", "namespace", NAMESPACE], None);
    sim.kubectl(
        &["create", "serviceaccount", ACCOUNT, "-n", NAMESPACE],
        None,
    );
    sim.kubectl(
        &["apply", "--server-side", "--field-manager=helm", "-f", "-"],
        Some(role),
    );
    let token = sim.kubectl(&["create", "token", ACCOUNT, "-n", NAMESPACE], None);
    let admin = std::fs::read_to_string(sim.kubeconfig()).expect("kubeconfig");
    assert!(admin.contains("  user: {}\n"), "{admin}");
    let as_account = admin.replace(
        "  user: {}\n",
        &format!("  user:\n    token: {}\n", token.trim()),
    );
    let path = dir.join("storeplane-kubeconfig");
    std::fs::write(&path, as_account).expect("kubeconfig written");
    path
}

fn serve_as_chart_account(role: &str, dir: &Path) -> (Sim, Server, Vec<String>) {
    let sim = Sim::start();
    let kubeconfig = chart_identity(&sim, role, dir);
    let data = vec![
        "--data-dir".to_owned(),
        dir.to_str().expect("utf-8 path").to_owned(),
    ];
    let server = Server::start_on_cluster(&[
        data[0].as_str(),
        data[1].as_str(),
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8 path"),
    ]);
    (sim, server, data)
}

fn store(server: &Server, token: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = storeplane(&[&["store"], args].concat());
    command
        .env("STOREPLANE_SERVER", &server.base)
        .env("STOREPLANE_TOKEN", token);
    run_to_end(command)
}

fn succeeds(server: &Server, token: &str, args: &[&str]) -> String {
    let (code, stdout, stderr) = store(server, token, args);
    assert_eq!(code, 0, "store {args:?}:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn the_whole_store_lifecycle_runs_as_the_chart_s_service_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, server, data) = serve_as_chart_account(&rendered_cluster_role(), dir.path());
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let alice = token(&data, "alice", false);
    let wait = ["--wait", "--timeout", "90"];

    succeeds(&server, &alice, &[&["create", "acme"][..], &wait].concat());
    succeeds(&server, &alice, &["reveal", "acme"]);
    // Backups: the key made in the chart's namespace, the backup Job, a restore behind
    // the maintenance page, a copy as a new store; after the delete, another copy.
    succeeds(&server, &alice, &[&["backup", "acme"][..], &wait].concat());
    let listed = succeeds(&server, &alice, &["backups", "acme", "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON backups");
    let backup = listed["items"][0]["id"]
        .as_str()
        .expect("a backup")
        .to_owned();
    succeeds(
        &server,
        &alice,
        &[
            &["restore", "acme", "--backup", &backup, "--yes"][..],
            &wait,
        ]
        .concat(),
    );
    succeeds(
        &server,
        &alice,
        &[
            &["create", "acme-copy", "--from-backup", &backup][..],
            &wait,
        ]
        .concat(),
    );
    succeeds(
        &server,
        &alice,
        &[&["update", "acme", "--plan", "medium"][..], &wait].concat(),
    );
    succeeds(
        &server,
        &alice,
        &[&["reset-password", "acme"][..], &wait].concat(),
    );
    succeeds(
        &server,
        &alice,
        &[&["rollback", "acme", "--yes"][..], &wait].concat(),
    );
    succeeds(&server, &alice, &[&["delete", "acme"][..], &wait].concat());
    succeeds(
        &server,
        &alice,
        &[
            &["create", "acme-again", "--from-backup", &backup][..],
            &wait,
        ]
        .concat(),
    );

    for name in ["acme", "acme-copy", "acme-again"] {
        let (_, events, _) = store(&server, &alice, &["events", name]);
        assert!(!events.contains("forbidden"), "{events}");
    }
}

#[test]
fn a_verb_taken_out_of_the_chart_s_cluster_role_fails_the_store_with_the_403_naming_it() {
    let full = rendered_cluster_role();
    // Secrets are created (POST) only if absent, so their `create` is checked in front of
    // the handler, where the API server's 403 names the verb. (A server-side apply's
    // create is checked inside it, and RBAC's answer there names nothing:
    // `namespaces "store-…" is forbidden: `.)
    let rule = "resources: [secrets]\n    verbs: [create, delete, get, list, patch]";
    assert!(
        full.contains(rule),
        "the rendered secrets rule changed:\n{full}"
    );
    let without_create = full.replace(rule, &rule.replace("create, ", ""));
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, server, data) = serve_as_chart_account(&without_create, dir.path());
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let alice = token(&data, "alice", false);

    let (code, stdout, stderr) = store(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_ne!(code, 0, "the store should fail:\n{stdout}\n{stderr}");

    let (_, events, _) = store(&server, &alice, &["events", "acme"]);
    let denial = format!(
        "secrets is forbidden: User \"system:serviceaccount:{NAMESPACE}:{ACCOUNT}\" cannot \
         create resource \"secrets\" in API group \"\" in the namespace \"store-"
    );
    assert!(
        events.contains(&denial),
        "no 403 naming the verb on the timeline:\n{events}"
    );
    let (_, shown, _) = store(&server, &alice, &["get", "acme"]);
    assert!(shown.contains("failed"), "{shown}");
}

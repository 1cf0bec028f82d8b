//! The real kubectl against kube-sim, with a throwaway kubeconfig and cache so nothing
//! leaks into the user's environment.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use crate::fixtures::sim;

const NAMESPACE_YAML: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: store-demo
  labels:
    storeplane.dev/plan: gold
";

/// kubectl pointed at one simulator through a temporary kubeconfig, HOME and cache.
struct Kubectl {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn new(kubeconfig_yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml).expect("kubeconfig written");
        Self { dir, kubeconfig }
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--request-timeout", "10s"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("KUBECACHEDIR", self.dir.path().join("cache"));
        let input = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            command.stdin(std::process::Stdio::piped());
            command.stdout(std::process::Stdio::piped());
            command.stderr(std::process::Stdio::piped());
            let mut child = command
                .spawn()
                .expect("kubectl is on PATH (see the kube-sim README to install it)");
            if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
                pipe.write_all(input.as_bytes()).expect("stdin written");
            }
            child.wait_with_output().expect("kubectl runs")
        })
        .await
        .expect("kubectl task completes")
    }

    async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(args, stdin).await;
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

#[tokio::test]
async fn kubectl_creates_reads_selects_and_deletes_a_namespace() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    let applied = kubectl
        .ok(&["apply", "-f", "-"], Some(NAMESPACE_YAML))
        .await;
    assert!(
        applied.contains("namespace/store-demo created"),
        "{applied}"
    );

    let json: Value = serde_json::from_str(
        &kubectl
            .ok(&["get", "namespace", "store-demo", "-o", "json"], None)
            .await,
    )
    .expect("kubectl prints JSON");
    assert_eq!(json["metadata"]["name"], "store-demo");
    assert_eq!(json["status"]["phase"], "Active");

    let selected = kubectl
        .ok(
            &[
                "get",
                "namespaces",
                "-l",
                "storeplane.dev/plan=gold",
                "-o",
                "name",
            ],
            None,
        )
        .await;
    assert_eq!(selected.trim(), "namespace/store-demo");

    let table = kubectl.ok(&["get", "ns"], None).await;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("store-demo") && l.contains("Active")),
        "{table}"
    );
    kubectl.ok(&["get", "all", "-n", "store-demo"], None).await;
    kubectl
        .ok(&["get", "networkpolicies,resourcequotas", "-A"], None)
        .await;
    let described = kubectl
        .ok(&["describe", "namespace", "store-demo"], None)
        .await;
    assert!(described.contains("Status:       Active"), "{described}");

    let deleted = kubectl
        .ok(&["delete", "namespace", "store-demo"], None)
        .await;
    assert!(deleted.contains("deleted"), "{deleted}");
    let gone = kubectl.run(&["get", "namespace", "store-demo"], None).await;
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"));
}

const ROUTE_YAML: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: store-route
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: storefront
  namespace: store-route
spec:
  parentRefs:
  - name: platform
    namespace: gateways
  hostnames:
  - shop.example.test
  rules:
  - backendRefs:
    - name: web
      port: 80
";

#[tokio::test]
async fn kubectl_applies_and_lists_http_routes_with_their_hostnames() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    let applied = kubectl
        .ok(
            &[
                "apply",
                "--server-side",
                "--field-manager",
                "test",
                "-f",
                "-",
            ],
            Some(ROUTE_YAML),
        )
        .await;
    assert!(
        applied.contains("httproute.gateway.networking.k8s.io/storefront serverside-applied"),
        "{applied}"
    );

    let table = kubectl
        .ok(&["get", "httproutes", "-n", "store-route"], None)
        .await;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("storefront") && l.contains("shop.example.test")),
        "{table}"
    );
    let host = kubectl
        .ok(
            &[
                "get",
                "httproute",
                "storefront",
                "-n",
                "store-route",
                "-o",
                "jsonpath={.spec.hostnames[0]}",
            ],
            None,
        )
        .await;
    assert_eq!(host, "shop.example.test");
    kubectl
        .ok(&["get", "gateways,gatewayclasses", "-A"], None)
        .await;
    kubectl.ok(&["get", "gateway-api", "-A"], None).await;
}

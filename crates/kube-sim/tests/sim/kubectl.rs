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
pub struct Kubectl {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    pub fn new(kubeconfig_yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml).expect("kubeconfig written");
        Self { dir, kubeconfig }
    }

    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
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

    pub async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
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

const RESTRICTED_NAMESPACE_YAML: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: store-demo
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
";

const PRIVILEGED_POD_YAML: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: x
  namespace: store-demo
spec:
  containers:
  - name: c
    image: nginx
    securityContext:
      privileged: true
";

const ROOT_DEPLOYMENT_YAML: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: store-demo
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
";

#[tokio::test]
async fn kubectl_is_refused_a_privileged_pod_in_a_restricted_namespace_with_upstreams_message() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["apply", "-f", "-"], Some(RESTRICTED_NAMESPACE_YAML))
        .await;

    let refused = kubectl
        .run(&["apply", "-f", "-"], Some(PRIVILEGED_POD_YAML))
        .await;

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "Error from server (Forbidden): error when creating \"STDIN\": pods \"x\" is \
             forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"c\" \
             must not set securityContext.privileged=true), allowPrivilegeEscalation != false \
             (container \"c\" must set securityContext.allowPrivilegeEscalation=false)"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn kubectl_apply_of_a_deployment_violating_restricted_warns_and_describe_says_why_it_has_no_pods()
 {
    use k8s_openapi::api::apps::v1::Deployment;

    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["apply", "-f", "-"], Some(RESTRICTED_NAMESPACE_YAML))
        .await;

    let applied = kubectl
        .run(&["apply", "-f", "-"], Some(ROOT_DEPLOYMENT_YAML))
        .await;

    assert!(applied.status.success());
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(
        stderr.starts_with(
            "Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation \
             != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false)"
        ),
        "{stderr}"
    );
    let deployments = sim.api::<Deployment>("store-demo");
    crate::fixtures::wait_for(&deployments, "web", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()?.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "ReplicaFailure"))
    })
    .await;
    let described = kubectl
        .ok(&["describe", "deployment", "web", "-n", "store-demo"], None)
        .await;
    assert!(
        described
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["ReplicaFailure", "True", "FailedCreate"]),
        "{described}"
    );
    let events = kubectl
        .ok(&["get", "events", "-n", "store-demo"], None)
        .await;
    assert!(
        events.contains("FailedCreate")
            && events.contains("Error creating: pods \"web-")
            && events.contains("is forbidden: violates PodSecurity \"restricted:latest\""),
        "{events}"
    );
    let pods = kubectl
        .ok(&["get", "pods", "-n", "store-demo", "-o", "name"], None)
        .await;
    assert_eq!(pods.trim(), "");
}

const JOB_YAML: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: woocommerce-setup
  namespace: store-demo
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: setup
        image: wordpress:cli
        args: [\"SCRIPT\"]
";

#[tokio::test]
async fn kubectl_apply_of_a_changed_job_template_reports_the_immutable_field() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["apply", "--server-side", "-f", "-"], Some(NAMESPACE_YAML))
        .await;
    let job = |script: &str| JOB_YAML.replace("SCRIPT", script);
    let apply = ["apply", "--server-side", "--force-conflicts", "-f", "-"];
    kubectl.ok(&apply, Some(&job("install"))).await;
    kubectl.ok(&apply, Some(&job("install"))).await;

    let refused = kubectl.run(&apply, Some(&job("install v2"))).await;

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        // kubectl rewrites the message from the Status details: `The Job "..." is invalid`.
        stderr.contains("The Job \"woocommerce-setup\" is invalid: spec.template: Invalid value:")
            && stderr.contains("field is immutable"),
        "{stderr}"
    );
}

#[tokio::test]
async fn kubectl_apply_with_a_server_dry_run_reports_and_stores_nothing() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    let answered = kubectl
        .ok(
            &["apply", "--dry-run=server", "-f", "-"],
            Some(NAMESPACE_YAML),
        )
        .await;

    assert!(
        answered.contains("namespace/store-demo created (server dry run)"),
        "{answered}"
    );
    let got = kubectl.run(&["get", "namespace", "store-demo"], None).await;
    assert!(!got.status.success(), "the namespace was not stored");
    assert!(
        String::from_utf8_lossy(&got.stderr).contains("NotFound"),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
}

const QUOTA_AND_LIMITS_YAML: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: store-quota
  namespace: shop
spec:
  hard:
    limits.memory: 1Gi
---
apiVersion: v1
kind: LimitRange
metadata:
  name: container-limits
  namespace: shop
spec:
  limits:
  - type: Container
    max:
      memory: 768Mi
    default:
      memory: 512Mi
";

fn pod_yaml(name: &str, memory: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
spec:
  containers:
  - name: web
    image: nginx
    resources:
      limits:
        memory: {memory}
"
    )
}

#[tokio::test]
async fn kubectl_is_refused_pods_past_the_quota_or_outside_the_limit_range_with_upstreams_messages()
{
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["apply", "-f", "-"], Some(QUOTA_AND_LIMITS_YAML))
        .await;
    kubectl
        .ok(&["apply", "-f", "-"], Some(&pod_yaml("a", "512Mi")))
        .await;

    let over_quota = kubectl
        .run(&["apply", "-f", "-"], Some(&pod_yaml("b", "768Mi")))
        .await;
    let over_max = kubectl
        .run(&["apply", "-f", "-"], Some(&pod_yaml("c", "2Gi")))
        .await;
    let used = kubectl
        .ok(
            &[
                "get",
                "resourcequota",
                "store-quota",
                "-n",
                "shop",
                "-o",
                "jsonpath={.status.used.limits\\.memory}/{.status.hard.limits\\.memory}",
            ],
            None,
        )
        .await;

    let stderr = String::from_utf8_lossy(&over_quota.stderr);
    assert!(
        stderr.contains(
            "Error from server (Forbidden): error when creating \"STDIN\": pods \"b\" is \
             forbidden: exceeded quota: store-quota, requested: limits.memory=768Mi, used: \
             limits.memory=512Mi, limited: limits.memory=1Gi"
        ),
        "{stderr}"
    );
    let stderr = String::from_utf8_lossy(&over_max.stderr);
    assert!(
        stderr.contains(
            "Error from server (Forbidden): error when creating \"STDIN\": pods \"c\" is \
             forbidden: maximum memory usage per Container is 768Mi, but limit is 2Gi"
        ),
        "{stderr}"
    );
    assert_eq!(used, "512Mi/1Gi");
}

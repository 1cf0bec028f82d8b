//! `storeplane sim` and `storeplane render`: the simulated cluster from the storeplane
//! binary, used by the real kubectl, and a rendered store applied to it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{run_to_end, storeplane};

/// `storeplane sim` running until dropped, with the kubeconfig it wrote.
struct Sim {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Sim {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let child = storeplane(&[
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--kubeconfig-out",
            kubeconfig.to_str().unwrap(),
        ])
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
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
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

#[test]
fn storeplane_sim_writes_a_kubeconfig_that_kubectl_can_use() {
    let sim = Sim::start();
    let namespaces = sim.kubectl(&["get", "namespaces", "-o", "name"], None);
    assert!(
        namespaces
            .lines()
            .any(|line| line == "namespace/kube-system"),
        "{namespaces}"
    );
}

#[test]
fn a_rendered_store_applies_to_the_simulated_cluster_and_comes_up() {
    let id = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";
    let (code, manifests, stderr) = run_to_end(storeplane(&[
        "render", "--name", "demo", "--plan", "small", "--id", id,
    ]));
    assert_eq!(code, 0, "{stderr}");
    // Secrets are placeholders: render never makes or prints a real one.
    let placeholder = "Z2VuZXJhdGVkLWF0LXByb3Zpc2lvbmluZ"; // base64 of "generated-at-provisioning"
    assert!(manifests.contains(placeholder), "{manifests}");

    let sim = Sim::start();
    sim.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager",
            "storeplane",
            "-f",
            "-",
        ],
        Some(&manifests),
    );
    let namespace = "store-01936f3e8b7a7c2d9e4f0123456789ab";
    sim.kubectl(
        &[
            "wait",
            "-n",
            namespace,
            "--for=condition=complete",
            "job/woocommerce-setup",
            "--timeout=20s",
        ],
        None,
    );
    sim.kubectl(
        &[
            "wait",
            "-n",
            namespace,
            "--for=condition=available",
            "deployment/wordpress",
            "--timeout=20s",
        ],
        None,
    );
    let policies = sim.kubectl(
        &["get", "networkpolicies", "-n", namespace, "-o", "name"],
        None,
    );
    assert!(
        policies.contains("networkpolicy.networking.k8s.io/default-deny"),
        "{policies}"
    );
}

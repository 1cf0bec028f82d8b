//! `storeplane sim`: kube-sim from the storeplane binary, usable by kubectl.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::storeplane;

#[test]
fn storeplane_sim_writes_a_kubeconfig_that_kubectl_can_use() {
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    let mut sim = storeplane(&[
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
    let output = std::process::Command::new("kubectl")
        .args([
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "get",
            "namespaces",
            "-o",
            "name",
        ])
        .env("HOME", tmp.path())
        .output()
        .expect("kubectl is installed");
    let _ = sim.kill();
    let _ = sim.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.lines().any(|line| line == "namespace/kube-system"),
        "{stdout}"
    );
}

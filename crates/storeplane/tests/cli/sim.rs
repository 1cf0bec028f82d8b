//! `storeplane sim` and `storeplane render`: the simulated cluster from the storeplane
//! binary, used by the real kubectl, and a rendered store applied to it.

use crate::support::{Sim, run_to_end, storeplane};

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

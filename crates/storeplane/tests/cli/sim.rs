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

#[test]
fn platform_settings_come_from_the_settings_file_with_flags_laid_over_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("platform.yaml");
    std::fs::write(
        &file,
        "base_domain: shops.example.com\ningress_class: traefik\ningress_namespace: kube-system\nstorage_class: fast-ssd\n",
    )
    .unwrap();
    let (code, yaml, stderr) = run_to_end(storeplane(&[
        "render",
        "--name",
        "acme",
        "--platform-config",
        file.to_str().unwrap(),
        "--ingress-class",
        "nginx-internal",
        "--front-door",
        "ingress",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(yaml.contains("ingressClassName: nginx-internal"), "{yaml}");
    assert!(!yaml.contains("traefik"), "the flag wins over the file");
    assert!(yaml.contains("storageClassName: fast-ssd"), "{yaml}");
    assert!(yaml.contains("host: acme.shops.example.com"), "{yaml}");
    assert!(
        yaml.contains("kubernetes.io/metadata.name: kube-system"),
        "{yaml}"
    );
}

#[test]
fn a_wrong_platform_setting_stops_serve_with_one_line_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("platform.yaml");
    for (text, names) in [
        ("ingres_class: nginx\n", "ingres_class"),
        ("ingress_class: Not_A_Label\n", "ingress_class"),
    ] {
        std::fs::write(&file, text).unwrap();
        let (code, _, stderr) = run_to_end(storeplane(&[
            "serve",
            "--sim",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            tmp.path().join("data").to_str().unwrap(),
            "--platform-config",
            file.to_str().unwrap(),
        ]));
        assert_ne!(code, 0);
        assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
        assert!(
            stderr.contains("platform.yaml") || names == "ingress_class",
            "{stderr}"
        );
        assert!(stderr.contains(names), "{stderr}");
    }
}

#[test]
fn the_printed_settings_read_back_as_a_settings_file_to_the_same_stores() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, printed, stderr) = run_to_end(storeplane(&[
        "render",
        "--print-settings",
        "--base-domain",
        "shops.example.com",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        printed.contains("base_domain: shops.example.com"),
        "{printed}"
    );
    assert!(
        printed.contains("small:"),
        "plan sizes are printed: {printed}"
    );
    let file = tmp.path().join("platform.yaml");
    std::fs::write(&file, &printed).unwrap();
    let id = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";
    let render = |extra: &[&str]| {
        let args = [
            &["render", "--name", "acme", "--plan", "large", "--id", id],
            extra,
        ]
        .concat();
        let (code, yaml, stderr) = run_to_end(storeplane(&args));
        assert_eq!(code, 0, "{stderr}");
        yaml
    };
    assert_eq!(
        render(&["--platform-config", file.to_str().unwrap()]),
        render(&["--base-domain", "shops.example.com"])
    );
}

#[test]
fn the_revision_flags_show_in_the_printed_settings_and_bad_values_are_named() {
    let (code, printed, stderr) = run_to_end(storeplane(&[
        "render",
        "--print-settings",
        "--auto-rollback",
        "false",
        "--revision-deadline",
        "120",
        "--keep-manifests",
        "3",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let settings: serde_json::Value = serde_saphyr::from_str(&printed).unwrap();
    assert_eq!(
        settings["revisions"],
        serde_json::json!({"auto_rollback": false, "deadline_seconds": 120, "keep_manifests": 3}),
        "{printed}"
    );
    let (code, printed, _) = run_to_end(storeplane(&["render", "--print-settings"]));
    assert_eq!(code, 0);
    assert!(
        printed.contains(
            "revisions:\n  auto_rollback: true\n  deadline_seconds: 600\n  keep_manifests: 10"
        ),
        "{printed}"
    );
    for (flag, value, field) in [
        ("--keep-manifests", "0", "revisions.keep_manifests"),
        ("--revision-deadline", "5", "revisions.deadline_seconds"),
    ] {
        let (code, _, stderr) =
            run_to_end(storeplane(&["render", "--print-settings", flag, value]));
        assert_ne!(code, 0, "{flag} {value}");
        assert!(stderr.contains(field), "{flag} {value}: {stderr}");
    }
}

#[test]
fn the_gateway_flags_shape_each_store_route_and_show_in_the_printed_settings() {
    let gateway = [
        "--front-door",
        "gateway",
        "--gateway-name",
        "public",
        "--gateway-namespace",
        "infra",
        "--gateway-listener",
        "websecure",
        "--gateway-data-plane-namespace",
        "kube-system",
    ];
    let (code, yaml, stderr) = run_to_end(storeplane(
        &[&["render", "--name", "acme"][..], &gateway].concat(),
    ));
    assert_eq!(code, 0, "{stderr}");
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let route = documents
        .iter()
        .find(|d| d["kind"] == "HTTPRoute")
        .expect("an HTTPRoute");
    assert_eq!(
        route["spec"]["parentRefs"][0],
        serde_json::json!({
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "namespace": "infra",
            "name": "public",
            "sectionName": "websecure",
        })
    );
    assert!(!documents.iter().any(|d| d["kind"] == "Ingress"), "{yaml}");
    assert!(
        yaml.contains("kubernetes.io/metadata.name: kube-system"),
        "{yaml}"
    );

    let (code, printed, stderr) = run_to_end(storeplane(
        &[&["render", "--print-settings"][..], &gateway].concat(),
    ));
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "front_door: gateway",
        "  name: public",
        "  namespace: infra",
        "  listener: websecure",
        "  data_plane_namespace: kube-system",
    ] {
        assert!(printed.lines().any(|l| l == line), "{line:?} in {printed}");
    }
}

#[test]
fn a_cluster_issuer_with_the_gateway_stops_with_one_line_naming_the_field_and_why() {
    let (code, _, stderr) = run_to_end(storeplane(&[
        "render",
        "--name",
        "acme",
        "--cluster-issuer",
        "letsencrypt",
    ]));
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "exactly one line:\n{stderr}");
    assert!(stderr.contains("cluster_issuer"), "{stderr}");
    assert!(stderr.contains("front_door: ingress"), "{stderr}");
}

#[test]
fn render_builds_the_store_from_the_release_and_title_given_and_refuses_an_unknown_release() {
    let (code, yaml, stderr) = run_to_end(storeplane(&[
        "render",
        "--name",
        "acme",
        "--release",
        "wp6.8-wc9.8",
        "--title",
        "Acme Outfitters",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(yaml.contains("value: Acme Outfitters"), "{yaml}");
    assert!(
        yaml.contains("image: docker.io/library/mariadb:11.4.5"),
        "{yaml}"
    );
    let (code, _, stderr) = run_to_end(storeplane(&[
        "render",
        "--name",
        "acme",
        "--release",
        "wp5.0-wc8.0",
    ]));
    assert_ne!(code, 0);
    assert!(stderr.contains("release wp5.0-wc8.0"), "{stderr}");
    assert!(stderr.contains("woocommerce"), "{stderr}");
}

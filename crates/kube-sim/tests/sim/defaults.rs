//! API defaults: objects read back as from a real server, whether written by kube-rs or
//! kubectl, and a server-side applier neither owns nor fights over the defaulted fields.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::fixtures::sim;
use crate::kubectl::Kubectl;

/// A Deployment as storeplane writes one: a named port and an HTTP readiness probe.
fn web(replicas: i32, pull_policy: Option<&str>) -> Value {
    let mut container = json!({
        "name": "web",
        "image": "wordpress:6.8-apache",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/wp-login.php", "port": "http"}},
    });
    if let Some(policy) = pull_policy {
        container["imagePullPolicy"] = json!(policy);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    })
}

fn apply() -> PatchParams {
    PatchParams::apply("storeplane").force()
}

fn json_of(object: &impl serde::Serialize) -> Value {
    serde_json::to_value(object).expect("serializes")
}

#[tokio::test]
async fn an_applied_deployment_reads_back_with_the_defaults_a_real_server_sets() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);

    deployments
        .patch("web", &apply(), &Patch::Apply(web(1, None)))
        .await
        .expect("applied");

    let live = json_of(&deployments.get("web").await.expect("read back"));
    assert_eq!(
        live["spec"]["strategy"],
        json!({"type": "RollingUpdate",
               "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(
        (
            &live["spec"]["revisionHistoryLimit"],
            &live["spec"]["progressDeadlineSeconds"]
        ),
        (&json!(10), &json!(600))
    );
    let pod = &live["spec"]["template"]["spec"];
    assert_eq!(
        (
            &pod["restartPolicy"],
            &pod["dnsPolicy"],
            &pod["schedulerName"],
            &pod["terminationGracePeriodSeconds"],
            &pod["securityContext"],
        ),
        (
            &json!("Always"),
            &json!("ClusterFirst"),
            &json!("default-scheduler"),
            &json!(30),
            &json!({})
        )
    );
    let container = &pod["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container["terminationMessagePolicy"], "File");
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(
        container["readinessProbe"],
        json!({"httpGet": {"path": "/wp-login.php", "port": "http", "scheme": "HTTP"},
               "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
               "failureThreshold": 3})
    );
}

/// storeplane's managedFields entry of `deployment`.
fn storeplane_entry(deployment: &Deployment) -> Value {
    let entries = json_of(&deployment.metadata.managed_fields);
    entries
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["manager"] == "storeplane"))
        .cloned()
        .expect("storeplane's entry")
}

#[tokio::test]
async fn re_applying_the_same_deployment_changes_nothing_and_owns_no_default() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    deployments
        .patch("web", &apply(), &Patch::Apply(web(1, None)))
        .await
        .expect("applied");
    // The simulated controllers write status meanwhile; compare after they have.
    let before = deployments.get("web").await.expect("read back");
    // managedFields times have second precision: let a second pass, so a re-apply that
    // rewrote the entry would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let again = deployments
        .patch("web", &apply(), &Patch::Apply(web(1, None)))
        .await
        .expect("re-applied");

    assert_eq!(again.metadata.generation, Some(1));
    assert_eq!(json_of(&again.spec), json_of(&before.spec));
    let entry = storeplane_entry(&again);
    assert_eq!(entry, storeplane_entry(&before), "the entry keeps its time");
    let fields = entry["fieldsV1"].to_string();
    for default in [
        "f:strategy",
        "f:revisionHistoryLimit",
        "f:imagePullPolicy",
        "f:terminationMessagePath",
        "f:successThreshold",
        "f:dnsPolicy",
    ] {
        assert!(!fields.contains(default), "{default} owned: {fields}");
    }
}

#[tokio::test]
async fn a_later_apply_keeps_the_defaults_and_a_dropped_field_falls_back_to_its_default() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    deployments
        .patch("web", &apply(), &Patch::Apply(web(1, Some("Always"))))
        .await
        .expect("applied");

    let scaled = deployments
        .patch("web", &apply(), &Patch::Apply(web(3, None)))
        .await
        .expect("re-applied without a pull policy");

    let live = json_of(&scaled);
    assert_eq!(live["spec"]["replicas"], 3);
    assert_eq!(live["spec"]["strategy"]["type"], "RollingUpdate");
    let container = &live["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["readinessProbe"]["successThreshold"], 1);
}

#[tokio::test]
async fn a_service_and_a_job_read_back_with_their_defaults() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let services: Api<Service> = sim.api(&ns);
    let service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]},
    }))
    .expect("a service");
    let service = json_of(
        &services
            .create(&PostParams::default(), &service)
            .await
            .expect("created"),
    );
    assert_eq!(
        service["spec"]["ports"][0],
        json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80})
    );
    for (field, value) in [
        ("type", json!("ClusterIP")),
        ("sessionAffinity", json!("None")),
        ("ipFamilyPolicy", json!("SingleStack")),
        ("internalTrafficPolicy", json!("Cluster")),
    ] {
        assert_eq!(service["spec"][field], value, "{field}");
    }

    let jobs: Api<Job> = sim.api(&ns);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "setup"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "setup", "image": "wordpress:cli"}]}}}});
    let job = json_of(
        &jobs
            .patch("setup", &apply(), &Patch::Apply(job))
            .await
            .expect("applied"),
    );
    for (field, value) in [
        ("backoffLimit", json!(6)),
        ("completions", json!(1)),
        ("parallelism", json!(1)),
        ("completionMode", json!("NonIndexed")),
        ("suspend", json!(false)),
    ] {
        assert_eq!(job["spec"][field], value, "{field}");
    }
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
}

#[tokio::test]
async fn kubectl_describe_shows_the_probe_as_a_real_server_returns_it() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    deployments
        .patch("web", &apply(), &Patch::Apply(web(1, None)))
        .await
        .expect("applied");
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    let described = kubectl
        .ok(&["describe", "deployment", "web", "-n", "shop"], None)
        .await;

    assert!(
        described.contains(
            "http-get http://:http/wp-login.php delay=0s timeout=1s period=10s #success=1 \
             #failure=3"
        ),
        "{described}"
    );
    assert!(
        described.contains("25% max unavailable, 25% max surge"),
        "{described}"
    );
    assert!(!described.contains("#success=0"), "{described}");
}

#[tokio::test]
async fn re_applying_a_network_policy_whose_rules_are_defaulted_keeps_its_resource_version() {
    let sim = sim().await;
    let policies: Api<NetworkPolicy> = sim.api(&sim.namespace("shop").await);
    // Rules are a list without a key: an apply replaces it whole, dropping the defaulted
    // `protocol` until defaulting puts it back.
    let policy = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "web"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}],
                 "egress": [{"ports": [{"port": 53}]}]}});
    let first = policies
        .patch("web", &apply(), &Patch::Apply(policy.clone()))
        .await
        .expect("applied");
    let live = json_of(&first);
    assert_eq!(live["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(live["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP");

    // managedFields times have second precision: let a second pass, so a re-apply that
    // rewrote the entry would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let again = policies
        .patch("web", &apply(), &Patch::Apply(policy))
        .await
        .expect("re-applied");

    assert_eq!(
        again.metadata.resource_version,
        first.metadata.resource_version
    );
}

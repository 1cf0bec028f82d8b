//! Validation: invalid names, labels and missing required fields are refused with `422
//! Invalid` naming the field, and unknown fields are refused or reported as
//! `fieldValidation` asks, with upstream's messages, through kube-rs and kubectl.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::fixtures::{Sim, deployment, sim, status_of};
use crate::kubectl::Kubectl;

fn causes(status: &kube::core::Status) -> Vec<(String, String)> {
    status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| (c.reason.clone(), c.field.clone()))
        .collect()
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a typed object")
}

#[tokio::test]
async fn a_service_named_like_a_number_is_invalid_as_a_dns_1035_label() {
    let sim = sim().await;
    let services: Api<Service> = sim.api(&sim.namespace("shop").await);
    let service = typed(json!({"metadata": {"name": "8080-web"},
        "spec": {"ports": [{"port": 80}]}}));

    let status = status_of(services.create(&PostParams::default(), &service).await);

    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert!(
        status.message.starts_with(
            "Service \"8080-web\" is invalid: metadata.name: Invalid value: \"8080-web\": a \
             DNS-1035 label must consist of lower case alphanumeric characters or '-', start \
             with an alphabetic character"
        ),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_deployment_whose_selector_misses_its_template_labels_is_invalid() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    let mut web = deployment("web", 1, "nginx:1");
    web.spec.as_mut().expect("spec").selector.match_labels =
        Some([("app".to_string(), "shop".to_string())].into());

    let status = status_of(deployments.create(&PostParams::default(), &web).await);

    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: \
         {\"app\":\"web\"}: `selector` does not match template `labels`"
    );
}

#[tokio::test]
async fn a_job_left_to_restart_always_and_a_container_without_a_name_list_every_cause() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api(&sim.namespace("shop").await);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "setup"},
        "spec": {"template": {"spec": {"containers": [{"image": "wordpress:cli"}]}}}});

    let status = status_of(
        jobs.patch(
            "setup",
            &PatchParams::apply("storeplane"),
            &Patch::Apply(job),
        )
        .await,
    );

    assert_eq!(status.code, 422);
    assert_eq!(
        causes(&status),
        [
            (
                "FieldValueRequired".into(),
                "spec.template.spec.containers[0].name".into()
            ),
            (
                "FieldValueNotSupported".into(),
                "spec.template.spec.restartPolicy".into()
            ),
        ]
    );
    assert!(
        status.message.starts_with(
            "Job.batch \"setup\" is invalid: [spec.template.spec.containers[0].name: Required \
             value, spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported \
             values: \"OnFailure\", \"Never\"]"
        ),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_label_update_with_an_invalid_value_is_refused_and_the_object_kept() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api(&sim.namespace("shop").await);
    maps.create(
        &PostParams::default(),
        &typed(json!({"metadata": {"name": "cfg"}})),
    )
    .await
    .expect("created");

    let status = status_of(
        maps.patch(
            "cfg",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"plan": "gold plan"}}})),
        )
        .await,
    );

    assert_eq!(status.code, 422);
    assert_eq!(
        causes(&status),
        [("FieldValueInvalid".into(), "metadata.labels".into())]
    );
    assert!(
        status
            .message
            .starts_with("ConfigMap \"cfg\" is invalid: metadata.labels: Invalid value: \"gold plan\": a valid label must be an empty string"),
        "{}",
        status.message
    );
    let kept = maps.get("cfg").await.expect("still there");
    assert_eq!(kept.metadata.labels, None);
}

/// POSTs `body` to `path` and returns the status code, the `Warning` headers and the body.
async fn post_raw(sim: &Sim, path: &str, body: &Value) -> (u16, Vec<String>, Value) {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("json").into())
        .expect("request builds");
    let response = sim.client.send(request).await.expect("request is answered");
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().expect("ascii header").to_string())
        .collect();
    let bytes = axum::body::to_bytes(axum::body::Body::new(response.into_body()), 1 << 20)
        .await
        .expect("body");
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).expect("json body"),
    )
}

fn config_map_with_unknown_field() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
           "data": {"a": "b"}, "spec": {"foo": 1}})
}

#[tokio::test]
async fn an_unknown_field_is_a_warning_by_default_and_a_bad_request_when_strict() {
    let sim = sim().await;
    sim.namespace("shop").await;

    let (code, warnings, _) = post_raw(
        &sim,
        "/api/v1/namespaces/shop/configmaps",
        &config_map_with_unknown_field(),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(warnings, ["299 - \"unknown field \\\"spec\\\"\""]);

    let mut other = config_map_with_unknown_field();
    other["metadata"]["name"] = json!("other");
    let (code, _, status) = post_raw(
        &sim,
        "/api/v1/namespaces/shop/configmaps?fieldValidation=Strict",
        &other,
    )
    .await;
    assert_eq!((code, &status["reason"]), (400, &json!("BadRequest")));
    assert_eq!(
        status["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: \
         unknown field \"spec\""
    );
}

#[tokio::test]
async fn a_server_side_apply_of_an_undeclared_field_fails_as_upstreams_field_manager_does() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api(&sim.namespace("shop").await);
    let mut web = serde_json::to_value(deployment("web", 1, "nginx:1")).expect("json");
    web["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");

    let status = status_of(
        deployments
            .patch("web", &PatchParams::apply("storeplane"), &Patch::Apply(web))
            .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (500, ""));
    assert_eq!(
        status.message,
        "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): \
         .spec.template.spec.containers[name=\"web\"].imagePolicy: field not declared in schema"
    );
}

const DEPLOYMENT_WITH_TYPO: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replica: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1
";

#[tokio::test]
async fn kubectl_refuses_a_typo_strictly_and_warns_of_it_when_asked_to() {
    let sim = sim().await;
    sim.namespace("shop").await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    let refused = kubectl
        .run(&["create", "-f", "-"], Some(DEPLOYMENT_WITH_TYPO))
        .await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "Error from server (BadRequest): error when creating \"STDIN\": Deployment in \
             version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown \
             field \"spec.replica\""
        ),
        "{stderr}"
    );

    let warned = kubectl
        .run(
            &["create", "--validate=warn", "-f", "-"],
            Some(DEPLOYMENT_WITH_TYPO),
        )
        .await;
    assert!(warned.status.success());
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("Warning: unknown field \"spec.replica\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn kubectl_prints_an_invalid_label_as_a_real_server_reports_it() {
    let sim = sim().await;
    sim.namespace("shop").await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());

    kubectl
        .ok(
            &[
                "create",
                "configmap",
                "cfg",
                "-n",
                "shop",
                "--from-literal=a=b",
            ],
            None,
        )
        .await;
    let relabelled = kubectl
        .run(
            &[
                "patch",
                "configmap",
                "cfg",
                "-n",
                "shop",
                "--type",
                "merge",
                "-p",
                r#"{"metadata":{"labels":{"plan":"-gold"}}}"#,
            ],
            None,
        )
        .await;

    assert!(!relabelled.status.success());
    let stderr = String::from_utf8_lossy(&relabelled.stderr);
    assert!(
        stderr.contains(
            "The ConfigMap \"cfg\" is invalid: metadata.labels: Invalid value: \"-gold\": a \
             valid label must be an empty string or consist of alphanumeric characters"
        ),
        "{stderr}"
    );
}

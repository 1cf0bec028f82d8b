//! Fixtures: a running simulator with a client, and builders for the objects tests use.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use kube::{Client, Resource};
use kube_sim::{SimConfig, SimHandle};
use serde::de::DeserializeOwned;
use serde_json::json;

/// A simulator and a kube-rs client for it.
pub struct Sim {
    pub handle: SimHandle,
    pub client: Client,
}

/// A simulator with the default configuration.
pub async fn sim() -> Sim {
    sim_with(SimConfig::default()).await
}

/// A simulator with `config`.
pub async fn sim_with(config: SimConfig) -> Sim {
    let handle = SimHandle::start(config).await.expect("simulator starts");
    let client = handle.client().expect("client builds");
    Sim { handle, client }
}

impl Sim {
    /// A client that does not retry 429/503 answers (kube-rs retries those by default,
    /// honouring Retry-After), for observing injected faults directly.
    pub fn client_without_retries(&self) -> Client {
        let mut config = self.handle.kube_config();
        config.default_retry = false;
        Client::try_from(config).expect("client builds")
    }

    /// A namespaced API.
    pub fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    /// The Namespace API.
    pub fn namespaces(&self) -> Api<Namespace> {
        Api::all(self.client.clone())
    }

    /// Creates a namespace and returns its name.
    pub async fn namespace(&self, name: &str) -> String {
        self.namespaces()
            .create(&PostParams::default(), &namespace(name))
            .await
            .expect("namespace is created");
        name.to_string()
    }
}

/// A namespace object.
pub fn namespace(name: &str) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name}})).expect("valid namespace")
}

/// A config map with one data key.
pub fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "shop"}},
        "data": {"greeting": "hello"},
    }))
    .expect("valid config map")
}

/// A config map with labels.
pub fn labelled_config_map(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
        .expect("valid config map")
}

/// A Deployment of one container.
pub fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }))
    .expect("valid deployment")
}

/// Waits (up to 10 s) until `name` satisfies `condition`, returning it.
pub async fn wait_for<K>(api: &Api<K>, name: &str, condition: impl Condition<K>) -> K
where
    K: Clone + std::fmt::Debug + Send + DeserializeOwned + Resource + 'static,
{
    tokio::time::timeout(
        Duration::from_secs(10),
        await_condition(api.clone(), name, condition),
    )
    .await
    .expect("condition is met in time")
    .expect("watch works")
    .expect("object exists")
}

/// Waits (up to 10 s) until `name` is gone.
pub async fn wait_gone<K>(api: &Api<K>, name: &str)
where
    K: Clone + std::fmt::Debug + Send + DeserializeOwned + Resource + 'static,
{
    tokio::time::timeout(
        Duration::from_secs(10),
        await_condition(api.clone(), name, |o: Option<&K>| o.is_none()),
    )
    .await
    .expect("object goes away in time")
    .expect("watch works");
}

/// The Status of a failed API call.
pub fn status_of<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

//! The Helm chart's ClusterRole against what the apply engine really sends: every request
//! of a store's whole lifecycle (apply, a dry run, re-apply, a setup Job re-created, wait,
//! the reasons read when a store is not ready, credentials, an admin password reset,
//! prune, teardown, a stuck teardown) is recorded as the RBAC
//! permission it needs, and the set must equal the rules in
//! `charts/storeplane/files/clusterrole-rules.yaml`: a permission missing from the chart
//! would fail in production, an unused one is privilege nobody needs. A request maps to
//! the verbs the API server authorizes it as: a server-side apply that creates its object
//! needs `create` as well as `patch`.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{ResourceQuota, Service};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube::client::ClientBuilder;
use kube_sim::{SimConfig, SimHandle};
use serde::Deserialize;
use storeplane_blueprint::{FrontDoor, ReadinessKind, StoreResources};
use storeplane_kube::{Applier, ObjectRef, Outcome};

use super::fixtures::{namespace, refs, store, store_behind, store_id, store_titled};

/// One RBAC permission: a verb on a resource (`plural` or `plural/subresource`) of an API
/// group (empty for the core group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Permission {
    group: String,
    resource: String,
    verb: String,
}

impl Permission {
    fn new(group: &str, resource: &str, verb: &str) -> Self {
        Self {
            group: group.to_owned(),
            resource: resource.to_owned(),
            verb: verb.to_owned(),
        }
    }
}

/// `patch apps/deployments`, or `patch core/namespaces` for the core group.
impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {group}/{}", self.verb, self.resource)
    }
}

/// The permission a request needs, as the API server's authorizer derives it; `None` for
/// non-resource paths (`/version`, discovery), which every authenticated caller may read.
fn permission(method: &http::Method, uri: &http::Uri) -> Option<Permission> {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    // `namespaces/{ns}/{plural}...` is a namespaced resource; `namespaces` and
    // `namespaces/{name}[/status|finalize]` address namespaces themselves.
    let (resource, name) = match rest {
        [] => return None,
        ["namespaces", _ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            match tail {
                [] => (plural.to_string(), None),
                [name] => (plural.to_string(), Some(*name)),
                [name, sub] => (format!("{plural}/{sub}"), Some(*name)),
                _ => return None,
            }
        }
        [plural] => (plural.to_string(), None),
        [plural, name] => (plural.to_string(), Some(*name)),
        [plural, name, sub] => (format!("{plural}/{sub}"), Some(*name)),
        _ => return None,
    };
    let watching = uri.query().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair == "watch=true" || pair == "watch=1")
    });
    let verb = match (method.as_str(), name.is_some()) {
        ("GET", _) if watching => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return None,
    };
    Some(Permission::new(group, &resource, verb))
}

type Seen = Arc<Mutex<BTreeSet<Permission>>>;

/// Records the permission of every request that passes through it.
#[derive(Clone)]
struct Recording<S> {
    inner: S,
    seen: Seen,
}

impl<S, B, R> tower::Service<http::Request<B>> for Recording<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let permission = permission(request.method(), request.uri());
        let applying = is_apply(&request);
        let seen = self.seen.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(permission) = permission {
                let created = response.status() == http::StatusCode::CREATED;
                let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                // The API server authorizes an apply that creates its object as `create`
                // as well as `patch`: the create path of its patch handler runs with
                // create attributes (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
                // patch.go). A 201 answer is how the client sees that path was taken.
                if applying && created {
                    seen.insert(Permission {
                        verb: "create".to_owned(),
                        ..permission.clone()
                    });
                }
                seen.insert(permission);
            }
            Ok(response)
        })
    }
}

/// A server-side apply: a PATCH whose body is an apply configuration.
fn is_apply<B>(request: &http::Request<B>) -> bool {
    request.method() == http::Method::PATCH
        && request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/apply-patch"))
}

/// A fresh simulator and an applier whose requests are recorded in `seen`. What a test
/// does to the simulator by other means (`sim.client()`) is not recorded.
async fn recording_sim(seen: &Seen) -> anyhow::Result<(SimHandle, Applier)> {
    let sim = SimHandle::start(SimConfig::default()).await?;
    let seen = seen.clone();
    let client = ClientBuilder::try_from(sim.kube_config())?
        .with_layer(&tower::layer::layer_fn(move |inner| Recording {
            inner,
            seen: seen.clone(),
        }))
        .build();
    Ok((sim, Applier::new(client)))
}

/// One rule of a ClusterRole, as the chart's rules file spells it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
}

/// The chart's rules, from the repository root.
const RULES: &str = "charts/storeplane/files/clusterrole-rules.yaml";

fn rules_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(RULES)
}

/// Every permission the chart's ClusterRole grants, one per (group, resource, verb).
fn granted() -> anyhow::Result<BTreeSet<Permission>> {
    let path = rules_file();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("failed to read {RULES}: {e}"))?;
    let rules: Vec<Rule> = serde_saphyr::from_str(&text)?;
    let mut granted = BTreeSet::new();
    for rule in &rules {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                for verb in &rule.verbs {
                    anyhow::ensure!(
                        ![group, resource, verb].iter().any(|s| s.contains('*')),
                        "{RULES} grants a wildcard ({group:?} {resource:?} {verb:?})"
                    );
                    granted.insert(Permission::new(group, resource, verb));
                }
            }
        }
    }
    Ok(granted)
}

/// The demo store's admin password reset step, generation 1.
fn reset_step() -> storeplane_blueprint::StepResources {
    storeplane_blueprint::Blueprint::new(storeplane_blueprint::PlatformSettings::default())
        .and_then(|blueprint| {
            blueprint.step(
                store_id(),
                &storeplane_blueprint::StoreSpec::new(
                    "demo".parse().expect("a valid name"),
                    storeplane_blueprint::Engine::WooCommerce,
                    storeplane_blueprint::Plan::Small,
                ),
                storeplane_blueprint::Step::ResetAdminPassword { generation: 1 },
            )
        })
        .expect("the reset step builds")
}

/// Runs every path of the engine that talks to the cluster, and returns what it needed.
async fn whole_lifecycle() -> anyhow::Result<BTreeSet<Permission>> {
    let seen = Seen::default();

    // For each front door: a store provisioned, reconciled again (the drift check), its
    // credentials read, objects of an earlier revision pruned, and the store deleted.
    for front_door in [FrontDoor::Gateway, FrontDoor::Ingress] {
        let (sim, applier) = recording_sim(&seen).await?;
        let resources = store_behind(front_door, "first");
        applier.apply(&resources.ordered()).await?;
        applier
            .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(30))
            .await?;
        applier
            .apply(&store_behind(front_door, "second").ordered())
            .await?;
        applier
            .read_admin_credentials(&namespace(), &resources.credentials)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the admin Secret exists"))?;
        // A revision validated by a dry run before it is applied, and an admin password
        // reset: the new password written into the Secret, the reset step's Job applied,
        // waited for and removed.
        applier
            .dry_run(&store_behind(front_door, "second").ordered())
            .await?;
        let credentials = &resources.credentials;
        applier
            .set_secret_value(
                &namespace(),
                credentials.secret,
                credentials.password_key,
                "a-new-password",
                1,
            )
            .await?;
        let reset = reset_step();
        applier.apply(&reset.ordered()).await?;
        applier
            .wait_ready(&namespace(), &[reset.readiness()], Duration::from_secs(30))
            .await?;
        applier.remove(&reset.ordered()).await?;
        applier
            .prune(
                &namespace(),
                &StoreResources::selector(store_id()),
                &refs(&resources.ordered()),
            )
            .await?;
        // A revision that wants none of them: every kind prune may delete is deleted.
        let keep_nothing: [ObjectRef; 0] = [];
        let pruned = applier
            .prune(
                &namespace(),
                &StoreResources::selector(store_id()),
                &keep_nothing,
            )
            .await?;
        anyhow::ensure!(
            !pruned.is_empty(),
            "a pass that keeps nothing prunes the store's objects"
        );
        applier
            .delete_namespace(&namespace(), Duration::from_secs(30))
            .await?;
        sim.shutdown().await;
    }

    let resources = store();

    // A release that changes the setup Job's pod template: the Job is deleted, watched
    // until gone, and applied again.
    let (sim, applier) = recording_sim(&seen).await?;
    applier.apply(&resources.ordered()).await?;
    let recreated = applier
        .apply(&store_titled("Another shop").ordered())
        .await?;
    anyhow::ensure!(
        recreated.iter().any(|a| a.outcome == Outcome::Recreated),
        "the changed setup Job is re-created"
    );
    sim.shutdown().await;

    // Workloads that never become ready: each kind's wait times out and the engine reads
    // the workload and its pods to say why.
    let (sim, applier) = recording_sim(&seen).await?;
    sim.faults().update(|f| {
        f.never_ready_namespaces.insert(namespace());
    });
    applier.apply(&resources.ordered()).await?;
    for check in resources.readiness.clone() {
        let waited = applier
            .wait_ready(&namespace(), &[check], Duration::from_millis(200))
            .await;
        anyhow::ensure!(
            waited.is_err(),
            "pods in a never-ready namespace are not ready"
        );
    }
    sim.shutdown().await;

    // Pods that admission refuses (here a quota of the platform's allowing none): no pod
    // exists to say why, so the engine reads the controllers' `FailedCreate` events.
    let (sim, applier) = recording_sim(&seen).await?;
    let ordered = resources.ordered();
    let (namespace_object, rest) = ordered.split_at(1);
    applier.apply(namespace_object).await?;
    let quotas: Api<ResourceQuota> = Api::namespaced(sim.client()?, &namespace());
    let no_pods: ResourceQuota = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "platform-hold"},
        "spec": {"hard": {"pods": "0"}},
    }))?;
    quotas.create(&PostParams::default(), &no_pods).await?;
    applier.apply(rest).await?;
    let stateful_set = resources
        .readiness
        .iter()
        .find(|c| c.kind == ReadinessKind::StatefulSet)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the store has a StatefulSet"))?;
    let refused = applier
        .wait_ready(&namespace(), &[stateful_set], Duration::from_millis(300))
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("no pod may be created"))?;
    anyhow::ensure!(
        refused.reason.contains("exceeded quota"),
        "the refusal is the reason: {}",
        refused.reason
    );
    sim.shutdown().await;

    // A setup Job that fails, and a namespace held by a finalizer at teardown.
    let (sim, applier) = recording_sim(&seen).await?;
    sim.faults().update(|f| {
        f.failing_jobs.insert(format!("{}/*", namespace()));
    });
    applier.apply(&resources.ordered()).await?;
    let waited = applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(30))
        .await;
    anyhow::ensure!(waited.is_err(), "the setup Job fails");
    let services: Api<Service> = Api::namespaced(sim.client()?, &namespace());
    let hold = serde_json::json!({"metadata": {"finalizers": ["example.com/hold"]}});
    services
        .patch("wordpress", &PatchParams::default(), &Patch::Merge(&hold))
        .await?;
    let stuck = applier
        .delete_namespace(&namespace(), Duration::from_millis(300))
        .await;
    anyhow::ensure!(stuck.is_err(), "a finalizer holds the namespace");
    sim.shutdown().await;

    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    Ok(seen)
}

#[tokio::test]
async fn the_chart_cluster_role_grants_exactly_what_the_apply_engine_uses() -> anyhow::Result<()> {
    let used = whole_lifecycle().await?;
    let granted = granted()?;

    let list = |set: BTreeSet<&Permission>| {
        set.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missing = list(used.difference(&granted).collect());
    let unused = list(granted.difference(&used).collect());
    assert!(
        missing.is_empty() && unused.is_empty(),
        "{RULES} does not match what the apply engine uses\n  \
         missing (the engine needs them): {missing}\n  \
         unused (nothing needs them): {unused}"
    );
    Ok(())
}

fn request(method: &str, uri: &str) -> Option<String> {
    let method = http::Method::from_bytes(method.as_bytes()).expect("a method");
    let uri: http::Uri = uri.parse().expect("a uri");
    permission(&method, &uri).map(|p| p.to_string())
}

#[test]
fn requests_map_to_the_verbs_rbac_checks() {
    let ns = "/apis/apps/v1/namespaces/store-x/deployments";
    assert_eq!(request("GET", ns).as_deref(), Some("list apps/deployments"));
    assert_eq!(
        request(
            "GET",
            &format!("{ns}?fieldSelector=metadata.name%3Dweb&watch=true")
        )
        .as_deref(),
        Some("watch apps/deployments")
    );
    assert_eq!(
        request("GET", &format!("{ns}/web")).as_deref(),
        Some("get apps/deployments")
    );
    assert_eq!(
        request(
            "PATCH",
            &format!("{ns}/web?fieldManager=storeplane&force=true")
        )
        .as_deref(),
        Some("patch apps/deployments")
    );
    assert_eq!(
        request("PUT", &format!("{ns}/web/status")).as_deref(),
        Some("update apps/deployments/status")
    );
    assert_eq!(
        request("DELETE", ns).as_deref(),
        Some("deletecollection apps/deployments")
    );
    assert_eq!(
        request("POST", "/api/v1/namespaces/store-x/secrets").as_deref(),
        Some("create core/secrets")
    );
}

#[test]
fn namespaces_are_told_apart_from_what_lives_in_them() {
    assert_eq!(
        request("DELETE", "/api/v1/namespaces/store-x").as_deref(),
        Some("delete core/namespaces")
    );
    assert_eq!(
        request("GET", "/api/v1/namespaces?watch=true").as_deref(),
        Some("watch core/namespaces")
    );
    assert_eq!(
        request("PUT", "/api/v1/namespaces/store-x/finalize").as_deref(),
        Some("update core/namespaces/finalize")
    );
    assert_eq!(request("GET", "/version"), None);
    assert_eq!(request("GET", "/apis/apps/v1"), None);
}

//! A simulated cluster, a metadata store and a worker, with the helpers the tests share.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use kube_sim::{SimConfig, SimHandle};
use serde_json::Value;
use storeplane_blueprint::{
    Blueprint, EngineReleases, PlatformSettings, ReleaseCatalog, WooCommerceRelease,
};
use storeplane_db::{
    ChangeCause, ChangeOutcome, ConnectOptions, CreateStore, DatabaseUrl, RecordChange,
    RecordRollback, Repository, RollbackRecorded,
};
use storeplane_domain::{
    Actor, ChangeRequest, Engine, EventKind, JobKind, Plan, ReleaseName, RetryPolicy, Revision,
    RevisionContent, RevisionNumber, RevisionStatus, Role, Store, StoreEvent, StoreId, StoreName,
    StoreSpec, StoreStatus, UserName,
};
use storeplane_kube::Applier;
use storeplane_worker::{ProvisionRunner, Timeouts, Worker, WorkerSettings};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const OLD: &str = "wp6.8-wc9.8";
pub const NEW: &str = "wp6.9-wc10.1";

pub fn release(name: &str) -> ReleaseName {
    ReleaseName::parse(name).unwrap()
}

/// A catalog of two WooCommerce releases, `OLD` the default.
pub fn two_releases() -> PlatformSettings {
    let old = WooCommerceRelease {
        name: release(OLD),
        wordpress: "docker.io/library/wordpress:6.8.1-php8.3-apache".to_owned(),
        mariadb: "docker.io/library/mariadb:11.4.5".to_owned(),
        wp_cli: "docker.io/library/wordpress:cli-2.12.0-php8.3".to_owned(),
        woocommerce_version: "9.8.5".to_owned(),
        wordpress_woo: None,
        wordpress_user: None,
    };
    let new = WooCommerceRelease {
        name: release(NEW),
        wordpress: "docker.io/library/wordpress:6.9.0-php8.3-apache".to_owned(),
        mariadb: "docker.io/library/mariadb:11.8.2".to_owned(),
        wp_cli: "docker.io/library/wordpress:cli-2.12.0-php8.3".to_owned(),
        woocommerce_version: "10.1.2".to_owned(),
        wordpress_woo: None,
        wordpress_user: None,
    };
    PlatformSettings {
        releases: Some(ReleaseCatalog {
            woocommerce: EngineReleases {
                default: release(OLD),
                available: vec![old, new],
            },
            ..ReleaseCatalog::default()
        }),
        ..PlatformSettings::default()
    }
}

/// One simulated cluster and metadata store, with a worker running against them.
pub struct Harness {
    pub sim: SimHandle,
    pub repo: Arc<dyn Repository>,
    pub settings: PlatformSettings,
    /// How long a pass waits for readiness outside a change's deadline.
    pub ready_timeout: Duration,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    /// The simulator runs on a runtime of its own, as a cluster runs apart from
    /// storeplane: the worker's stalls and the cluster's never share threads.
    sim_runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(runtime) = self.sim_runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Starts kube-sim on a runtime of its own (on another thread, since this one is async).
fn start_sim(config: SimConfig) -> (SimHandle, tokio::runtime::Runtime) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime.block_on(SimHandle::start(config)).unwrap();
        (sim, runtime)
    })
    .join()
    .unwrap()
}

impl Harness {
    pub async fn start(settings: PlatformSettings) -> Self {
        Self::start_with(settings, SimConfig::default()).await
    }

    pub async fn start_with(settings: PlatformSettings, sim: SimConfig) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("TEST_LOG").unwrap_or_else(|_| "off".to_owned()))
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("storeplane.db"));
        let repo = storeplane_db::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        let (sim, sim_runtime) = start_sim(sim);
        let mut harness = Self {
            sim,
            sim_runtime: Some(sim_runtime),
            repo,
            settings: settings.clone(),
            ready_timeout: Duration::from_secs(20),
            worker: None,
            _dir: dir,
        };
        harness.start_worker(settings);
        harness
    }

    pub fn blueprint(&self) -> Blueprint {
        Blueprint::new(self.settings.clone()).unwrap()
    }

    /// (Re)starts the worker with `settings` (what `serve --platform-config` would load).
    pub fn start_worker(&mut self, settings: PlatformSettings) {
        self.settings = settings.clone();
        let runner = ProvisionRunner::new(
            self.repo.clone(),
            Blueprint::new(settings).unwrap(),
            Applier::new(self.worker_client()),
            Timeouts {
                ready: self.ready_timeout,
                teardown: Duration::from_secs(20),
            },
        );
        let worker_settings = WorkerSettings {
            idle_poll: Duration::from_millis(20),
            heartbeat: Duration::from_millis(300),
            lease: Duration::from_secs(1),
            shutdown_grace: Duration::from_millis(100),
            retry: RetryPolicy {
                max_attempts: 5,
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(200),
            },
            ..WorkerSettings::new(format!("test-{}", rand_suffix()))
        };
        let (stop, stop_rx) = watch::channel(false);
        let worker = Worker::new(self.repo.clone(), Arc::new(runner), worker_settings);
        self.worker = Some((stop, tokio::spawn(worker.run(stop_rx))));
    }

    /// Stops the worker cleanly.
    /// Waits until the clock is in a later second. A restarted worker's applier remembers
    /// no object, so its first pass tells a created object from an existing one by the
    /// server's timestamps, which have one-second resolution: an object made in the same
    /// second as that pass reads as just created (see `storeplane_kube`'s outcome docs).
    pub async fn next_second(&self) {
        let into_second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_millis();
        let rest = 1000 - u64::from(into_second) + 10;
        tokio::time::sleep(Duration::from_millis(rest)).await;
    }

    pub async fn stop_worker(&mut self) {
        if let Some((stop, task)) = self.worker.take() {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }

    /// Kills the worker where it stands, as `kill -9` would: its job's lease is neither
    /// handed back nor completed, and expires.
    pub async fn kill_worker(&mut self) {
        if let Some((_stop, task)) = self.worker.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Creates a store of `plan` (release: the catalog's default) and waits until it is
    /// ready with revision 1 deployed.
    pub async fn ready_store(&self, name: &str, plan: Plan) -> Store {
        let id = self.create_store(StoreId::generate(), name, plan, 5).await;
        self.wait_revision(id, 1, RevisionStatus::Deployed, Duration::from_secs(30))
            .await;
        self.wait_status(id, StoreStatus::Ready, Duration::from_secs(10))
            .await
    }

    /// Creates store `id` (alice's, of `plan`, the catalog's default release), its first
    /// provisioning tried at most `max_attempts` times; returns its id.
    pub async fn create_store(
        &self,
        id: StoreId,
        name: &str,
        plan: Plan,
        max_attempts: u32,
    ) -> StoreId {
        let owner = self
            .repo
            .ensure_user(&UserName::parse("alice").unwrap(), Role::Member, Utc::now())
            .await
            .unwrap();
        self.repo
            .create_store(CreateStore {
                id,
                spec: StoreSpec {
                    name: StoreName::parse(name).unwrap(),
                    engine: Engine::WooCommerce,
                    plan,
                    release: None,
                    title: None,
                },
                owner: owner.id,
                actor: Actor::User("alice".into()),
                live_store_limit: None,
                restore_from: None,
                max_attempts,
                idempotency: None,
                now: Utc::now(),
            })
            .await
            .unwrap()
            .store()
            .id
    }

    pub async fn store(&self, id: StoreId) -> Store {
        self.repo.get_store(id).await.unwrap()
    }

    pub async fn revision(&self, id: StoreId, n: u32) -> Revision {
        self.repo
            .get_revision(id, RevisionNumber::new(n).unwrap())
            .await
            .unwrap()
    }

    pub async fn manifest(&self, id: StoreId, n: u32) -> String {
        self.repo
            .revision_manifest(id, RevisionNumber::new(n).unwrap())
            .await
            .unwrap()
            .expect("the manifest is kept")
    }

    pub async fn wait_status(&self, id: StoreId, status: StoreStatus, within: Duration) -> Store {
        let started = Instant::now();
        loop {
            let store = self.store(id).await;
            if store.status == status {
                return store;
            }
            assert!(
                started.elapsed() < within,
                "store not {status} within {within:?} (it is {}):\n{}",
                store.status,
                self.timeline(id).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until revision `n` is `status`; panics early if it reaches another final one.
    pub async fn wait_revision(
        &self,
        id: StoreId,
        n: u32,
        status: RevisionStatus,
        within: Duration,
    ) -> Revision {
        let started = Instant::now();
        loop {
            if let Ok(revision) = self
                .repo
                .get_revision(id, RevisionNumber::new(n).unwrap())
                .await
            {
                if revision.status == status {
                    return revision;
                }
                assert!(
                    !revision.status.is_final() || revision.status == status,
                    "revision {n} became {} instead of {status}:\n{}",
                    revision.status,
                    self.timeline(id).await
                );
            }
            assert!(
                started.elapsed() < within,
                "revision {n} not {status} within {within:?}:\n{}",
                self.timeline(id).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn events(&self, id: StoreId) -> Vec<StoreEvent> {
        self.repo.store_events(id, 0, 10_000).await.unwrap()
    }

    pub async fn timeline(&self, id: StoreId) -> String {
        self.events(id)
            .await
            .iter()
            .map(|e| format!("{} {} {}", e.kind, e.message, e.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Records a change asked for by alice, rendered against the deployed revision.
    pub async fn change(&self, id: StoreId, request: ChangeRequest) -> Revision {
        let deployed = self
            .repo
            .store_revisions(id)
            .await
            .unwrap()
            .deployed
            .unwrap();
        let spec = request.apply_to(&deployed.spec);
        let rendered = self.blueprint().render(id, &spec).unwrap();
        let outcome = self
            .repo
            .record_change(RecordChange {
                store: id,
                cause: ChangeCause::Request(request),
                content: RevisionContent {
                    spec,
                    platform_digest: rendered.platform_digest,
                    manifest: rendered.manifest.text,
                    manifest_digest: rendered.manifest.digest,
                },
                actor: Actor::User("alice".into()),
                reason: "test".to_owned(),
                max_attempts: 5,
                now: Utc::now(),
            })
            .await
            .unwrap();
        match outcome {
            ChangeOutcome::Recorded { revision, .. } => revision,
            ChangeOutcome::NoOp { .. } => panic!("the change was a no-op"),
        }
    }

    pub async fn rollback(
        &self,
        id: StoreId,
        target: u32,
        restore_checkpoint: bool,
    ) -> Result<RollbackRecorded, storeplane_db::DbError> {
        self.repo
            .record_rollback(RecordRollback {
                store: id,
                target: RevisionNumber::new(target).unwrap(),
                restore_checkpoint,
                rerendered: None,
                actor: Actor::User("alice".into()),
                reason: "test".to_owned(),
                max_attempts: 5,
                now: Utc::now(),
            })
            .await
    }

    /// Queues a drift check of the store and waits until it ran (its last-checked time
    /// moved on).
    pub async fn drift_pass(&self, id: StoreId) {
        let before = self.store(id).await.last_checked_at;
        self.repo
            .enqueue(id, JobKind::Reconcile, 5, Utc::now())
            .await
            .unwrap();
        let started = Instant::now();
        while self.store(id).await.last_checked_at == before {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no drift pass:\n{}",
                self.timeline(id).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The worker's client. A request kube-sim never answers (seen now and then under
    /// load) times out and is retried like any transient error, instead of holding the
    /// job until the test gives up.
    fn worker_client(&self) -> kube::Client {
        let mut config = self.sim.kube_config();
        config.read_timeout = Some(Duration::from_secs(8));
        kube::Client::try_from(config).unwrap()
    }

    fn client(&self) -> kube::Client {
        self.sim.client().unwrap()
    }

    /// The live object `kind/name` in the store's namespace, as JSON.
    pub async fn object(&self, store: &Store, api_version: &str, kind: &str, name: &str) -> Value {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client(), &store.namespace(), &resource);
        serde_json::to_value(api.get(name).await.unwrap()).unwrap()
    }

    /// `kind/name` -> uid of what the store's namespace holds of `kinds`, step objects
    /// included.
    pub async fn uids(&self, store: &Store, kinds: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut uids = BTreeMap::new();
        for (api_version, kind) in kinds {
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client(), &store.namespace(), &resource);
            for object in api.list(&Default::default()).await.unwrap() {
                uids.insert(
                    format!("{kind}/{}", object.metadata.name.unwrap()),
                    object.metadata.uid.unwrap(),
                );
            }
        }
        uids
    }

    /// Asserts that the cluster holds exactly the store objects of `manifest` (step
    /// objects aside), each with every field the manifest sets (server-set fields aside;
    /// Secrets by their keys: their values are the store's own).
    pub async fn assert_cluster_is(&self, store: &Store, manifest: &str) {
        let documents: Vec<Value> = serde_saphyr::from_multiple(manifest).unwrap();
        let mut wanted = BTreeSet::new();
        for document in &documents {
            let kind = document["kind"].as_str().unwrap();
            let name = document["metadata"]["name"].as_str().unwrap();
            if kind == "Namespace" {
                continue;
            }
            wanted.insert(format!("{kind}/{name}"));
            let live = self
                .object(store, document["apiVersion"].as_str().unwrap(), kind, name)
                .await;
            if kind == "Secret" {
                let keys = |v: &Value| {
                    v["data"]
                        .as_object()
                        .map(|d| d.keys().cloned().collect::<Vec<_>>())
                };
                assert_eq!(keys(&live), keys(document), "Secret/{name}");
                continue;
            }
            let mut document = document.clone();
            if kind == "PersistentVolumeClaim" {
                // A claim grows with a bigger plan and never shrinks back.
                document["spec"]["resources"] = Value::Null;
            }
            if let Err(path) = contains(&live, &document, String::new()) {
                panic!("{kind}/{name} differs from the manifest at {path}:\nlive: {live:#}");
            }
        }
        let live: BTreeSet<String> = self
            .uids(store, STORE_KINDS)
            .await
            .into_keys()
            .filter(|object| !is_step_object(object))
            .collect();
        assert_eq!(
            live, wanted,
            "the namespace holds exactly the manifest's objects"
        );
    }

    /// The events of the store of `kind` whose message contains `text`.
    pub async fn events_saying(&self, id: StoreId, kind: EventKind, text: &str) -> Vec<StoreEvent> {
        self.events(id)
            .await
            .into_iter()
            .filter(|e| e.kind == kind && e.message.contains(text))
            .collect()
    }
}

/// Objects of engine steps (their Jobs, their policies, the checkpoints claim): kept
/// beside the store's own, never pruned with them.
fn is_step_object(object: &str) -> bool {
    let name = object.split_once('/').map_or(object, |(_, n)| n);
    [
        "checkpoint-r",
        "upgrade-r",
        "restore-r",
        "maintenance-",
        "mariadb-ingress-maintenance",
        // A checkpoint kept off the cluster too: the backup Job, its key and policy.
        "backup-",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || object == "PersistentVolumeClaim/checkpoints"
}

pub const STORE_KINDS: &[(&str, &str)] = &[
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
];

/// Whether `live` has every field `wanted` sets, with the same value; lists element by
/// element. The path of the first difference otherwise.
pub fn contains(live: &Value, wanted: &Value, path: String) -> Result<(), String> {
    match (live, wanted) {
        (_, Value::Null) => Ok(()),
        (Value::Object(live), Value::Object(wanted)) => {
            for (key, value) in wanted {
                let at = format!("{path}.{key}");
                match live.get(key) {
                    Some(found) => contains(found, value, at)?,
                    None if value.is_null() => {}
                    None => return Err(at),
                }
            }
            Ok(())
        }
        (Value::Array(live), Value::Array(wanted)) => {
            if live.len() != wanted.len() {
                return Err(format!("{path} (length)"));
            }
            for (i, (l, w)) in live.iter().zip(wanted).enumerate() {
                contains(l, w, format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (live, wanted) if live == wanted => Ok(()),
        _ => Err(format!("{path}: {live} != {wanted}")),
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
    hasher.finish() as u32
}

pub fn plan(plan: Plan) -> ChangeRequest {
    ChangeRequest {
        plan: Some(plan),
        ..ChangeRequest::default()
    }
}

pub fn to_release(name: &str) -> ChangeRequest {
    ChangeRequest {
        release: Some(release(name)),
        ..ChangeRequest::default()
    }
}

//! Store revisions through the real binary: `storeplane serve` processes against a
//! `storeplane sim` cluster that kubectl reads. A bigger plan, a release upgrade and a
//! rollback across it, an exact rollback to revision 1, a catalog edit, a failed upgrade
//! that rolls back by itself, a server killed mid-upgrade, racing changes and quiet drift
//! passes, each judged by what the API says and what the cluster holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, Sim, block_on, client, token};

/// A WooCommerce release of a test catalog.
struct Release {
    name: &'static str,
    wordpress: &'static str,
    mariadb: &'static str,
    woocommerce: &'static str,
}

const WP_CLI: &str = "docker.io/library/wordpress:cli-2.12.0-php8.3";

/// The built-in release, as new stores get it from an unedited catalog.
const OLD: Release = Release {
    name: "wp6.8-wc9.8",
    wordpress: "docker.io/library/wordpress:6.8.1-php8.3-apache",
    mariadb: "docker.io/library/mariadb:11.4.5",
    woocommerce: "9.8.5",
};

/// A newer release: other WordPress and MariaDB images, so an upgrade swaps both.
const NEW: Release = Release {
    name: "wp6.9-wc10.1",
    wordpress: "docker.io/library/wordpress:6.9.0-php8.3-apache",
    mariadb: "docker.io/library/mariadb:11.8.2",
    woocommerce: "10.1.2",
};

/// A release added to the catalog later and made its default.
const NEWER: Release = Release {
    name: "wp6.9-wc10.2",
    wordpress: "docker.io/library/wordpress:6.9.1-php8.3-apache",
    mariadb: "docker.io/library/mariadb:11.8.2",
    woocommerce: "10.2.0",
};

/// A release whose WordPress image cannot be pulled (the simulator is told so).
const BROKEN: Release = Release {
    name: "wp7.0-wc10.3",
    wordpress: "docker.io/library/wordpress:7.0.0-does-not-exist",
    mariadb: "docker.io/library/mariadb:11.4.5",
    woocommerce: "10.3.0",
};

/// Writes a platform settings file with a catalog of `releases`, `default` its default.
fn platform_config(dir: &Path, default: &Release, releases: &[&Release]) -> String {
    let mut yaml = format!(
        "releases:\n  woocommerce:\n    default: {}\n    available:\n",
        default.name
    );
    for release in releases {
        yaml.push_str(&format!(
            "      - name: {}\n        wordpress: {}\n        mariadb: {}\n        wp_cli: {WP_CLI}\n        woocommerce_version: \"{}\"\n",
            release.name, release.wordpress, release.mariadb, release.woocommerce
        ));
    }
    let path = dir.join(format!("platform-{}.yaml", default.name));
    std::fs::write(&path, yaml).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `storeplane serve` on the data directory `data`, against `sim`, with `flags`.
fn serve(sim: &Sim, data: &Path, flags: &[&str]) -> Server {
    let [kube_flag, kubeconfig] = sim.kubeconfig_args();
    Server::start_on_cluster(
        &[
            &[
                "--data-dir",
                data.to_str().unwrap(),
                kube_flag.as_str(),
                kubeconfig.as_str(),
                "--rate-limit-per-minute",
                "0",
            ],
            flags,
        ]
        .concat(),
    )
}

/// The HTTP API as one user.
struct Api {
    base: String,
    token: String,
}

/// A response: status, body, and the ETag header when there is one.
struct Reply {
    status: u16,
    body: Value,
    etag: Option<String>,
}

impl Api {
    fn new(server: &Server, token: &str) -> Self {
        Self {
            base: server.base.clone(),
            token: token.to_owned(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        block_on(self.send(method, path, body, None))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        // A server that stops answering fails the test with what it was asked, rather
        // than holding it until CI gives up.
        let mut request = client()
            .request(method.clone(), format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(revision) = if_match {
            request = request.header("If-Match", revision);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer from the server: {e}"));
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: the answer was cut short: {e}"));
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            etag,
        }
    }

    fn create(&self, name: &str) -> Value {
        let reply = self.request(
            reqwest::Method::POST,
            "/stores",
            Some(json!({"name": name, "engine": "woocommerce", "plan": "small"})),
        );
        assert_eq!(reply.status, 202, "creating {name}: {}", reply.body);
        reply.body
    }

    fn store(&self, id: &str) -> Value {
        let reply = self.request(reqwest::Method::GET, &format!("/stores/{id}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// `PATCH /stores/{id}` with `body`.
    fn patch(&self, id: &str, body: Value) -> Reply {
        self.request(reqwest::Method::PATCH, &format!("/stores/{id}"), Some(body))
    }

    /// A change that must be accepted: the revision it recorded.
    fn change(&self, id: &str, body: Value) -> Value {
        let reply = self.patch(id, body.clone());
        assert_eq!(reply.status, 202, "PATCH {body}: {}", reply.body);
        assert_eq!(reply.body["changed"], true, "{}", reply.body);
        reply.body["revision"].clone()
    }

    fn rollback(&self, id: &str, body: Value) -> Reply {
        self.request(
            reqwest::Method::POST,
            &format!("/stores/{id}/rollback"),
            Some(body),
        )
    }

    /// `GET .../revisions/{n}`: the revision with its manifest.
    fn revision(&self, id: &str, n: u64) -> Value {
        let reply = self.request(
            reqwest::Method::GET,
            &format!("/stores/{id}/revisions/{n}"),
            None,
        );
        assert_eq!(reply.status, 200, "revision {n}: {}", reply.body);
        reply.body
    }

    /// Every revision of the store, newest first.
    fn revisions(&self, id: &str) -> Vec<Value> {
        let mut revisions = Vec::new();
        let mut cursor = String::new();
        loop {
            let reply = self.request(
                reqwest::Method::GET,
                &format!("/stores/{id}/revisions?limit=100{cursor}"),
                None,
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
            revisions.extend(reply.body["items"].as_array().unwrap().iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return revisions,
            }
        }
    }

    /// Every event of the store, oldest first.
    fn events(&self, id: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor = String::new();
        loop {
            let reply = self.request(
                reqwest::Method::GET,
                &format!("/stores/{id}/events?limit=200{cursor}"),
                None,
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
            events.extend(reply.body["items"].as_array().unwrap().iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return events,
            }
        }
    }

    /// The timeline as lines, for assertion messages.
    fn timeline(&self, id: &str) -> String {
        lines(&self.events(id))
    }

    /// Waits until the store is ready with revision 1 deployed.
    fn ready_store(&self, name: &str) -> Value {
        let store = self.create(name);
        let id = store["id"].as_str().unwrap();
        self.wait_revision(id, 1, "deployed", Duration::from_secs(60));
        self.wait_settled(id, Duration::from_secs(30))
    }

    /// Waits until revision `n` is `status`, failing early when it reaches another status
    /// it cannot leave (`failed` passes on to `rolled_back` by itself).
    fn wait_revision(&self, id: &str, n: u64, status: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let reply = self.request(
                reqwest::Method::GET,
                &format!("/stores/{id}/revisions/{n}"),
                None,
            );
            if reply.status == 200 {
                let now = &reply.body["status"];
                if now == status {
                    return reply.body;
                }
                assert!(
                    !["deployed", "superseded", "rolled_back"].contains(&now.as_str().unwrap()),
                    "revision {n} of {id} became {now} instead of {status}: {}\n{}",
                    reply.body["failure"],
                    self.timeline(id)
                );
            }
            assert!(
                started.elapsed() < within,
                "revision {n} of {id} not {status} within {within:?}: {}\n{}",
                reply.body,
                self.timeline(id)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the store is ready with nothing in progress, and returns it.
    fn wait_settled(&self, id: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let store = self.store(id);
            if store["status"] == "ready" && store["operation"].is_null() {
                return store;
            }
            assert!(
                started.elapsed() < within,
                "store {id} not settled within {within:?}: {store}\n{}",
                self.timeline(id)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the store's `last_checked_at` is set and differs from `since`.
    fn next_check(&self, id: &str, since: &Value, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let checked = self.store(id)["last_checked_at"].clone();
            if !checked.is_null() && &checked != since {
                return checked;
            }
            assert!(
                started.elapsed() < within,
                "no drift check of {id} after {since} within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn lines(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("{} {} {}", e["kind"], e["message"], e["detail"]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn position(events: &[Value], what: &str, test: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(test)
        .unwrap_or_else(|| panic!("no event {what} on the timeline:\n{}", lines(events)))
}

/// Every kind a store's namespace may hold, for kubectl.
const KINDS: &str = "secrets,services,persistentvolumeclaims,statefulsets,deployments,jobs,\
                     ingresses,httproutes,networkpolicies,resourcequotas,limitranges";

/// Every object of the store's kinds in `namespace`, as `Kind/name` -> the live object.
fn live(sim: &Sim, namespace: &str) -> BTreeMap<String, Value> {
    live_of(sim, namespace, KINDS)
}

fn live_of(sim: &Sim, namespace: &str, kinds: &str) -> BTreeMap<String, Value> {
    let list: Value =
        serde_json::from_str(&sim.kubectl(&["get", kinds, "-n", namespace, "-o", "json"], None))
            .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                o.clone(),
            )
        })
        .collect()
}

/// `Kind/name` -> uid of the objects of `kinds`.
fn uids(sim: &Sim, namespace: &str, kinds: &str) -> BTreeMap<String, String> {
    live_of(sim, namespace, kinds)
        .into_iter()
        .map(|(k, o)| (k, o["metadata"]["uid"].as_str().unwrap().to_owned()))
        .collect()
}

/// Objects of engine steps (their Jobs and policies, the checkpoints claim): kept beside
/// the store's own objects, outside any revision's manifest.
fn is_step_object(object: &str) -> bool {
    let name = object.split_once('/').map_or(object, |(_, n)| n);
    [
        "checkpoint-r",
        "upgrade-r",
        "restore-r",
        "maintenance-",
        "mariadb-ingress-maintenance",
        // The checkpoint kept off the cluster too: the backup Job, its key and policy.
        "backup-",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || object == "PersistentVolumeClaim/checkpoints"
}

/// Whether `live` has every field `wanted` sets, with the same value (lists element by
/// element); the path of the first difference otherwise.
fn contains(live: &Value, wanted: &Value, path: String) -> Result<(), String> {
    match (live, wanted) {
        (_, Value::Null) => Ok(()),
        (Value::Object(live), Value::Object(wanted)) => {
            for (key, value) in wanted {
                let at = format!("{path}.{key}");
                match live.get(key) {
                    Some(found) => contains(found, value, at)?,
                    None => return Err(format!("{at}: missing, wanted {value}")),
                }
            }
            Ok(())
        }
        (Value::Array(live), Value::Array(wanted)) => {
            if live.len() != wanted.len() {
                return Err(format!(
                    "{path}: {} elements, wanted {}",
                    live.len(),
                    wanted.len()
                ));
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

/// Asserts that the namespace holds exactly the store objects of `manifest` (step objects
/// aside), each with every field the manifest sets (fields the server sets aside; Secrets
/// by their keys, their values being the store's own).
fn assert_cluster_is(sim: &Sim, namespace: &str, manifest: &str, what: &str) {
    let documents: Vec<Value> = serde_saphyr::from_multiple(manifest).unwrap();
    let live = live(sim, namespace);
    let mut wanted = BTreeSet::new();
    for document in documents.iter().filter(|d| d["kind"] != "Namespace") {
        let object = format!(
            "{}/{}",
            document["kind"].as_str().unwrap(),
            document["metadata"]["name"].as_str().unwrap()
        );
        let found = live
            .get(&object)
            .unwrap_or_else(|| panic!("{what}: {object} of the manifest is not in the cluster"));
        if document["kind"] == "Secret" {
            let keys = |v: &Value| {
                v["data"]
                    .as_object()
                    .map(|d| d.keys().cloned().collect::<BTreeSet<_>>())
            };
            assert_eq!(keys(found), keys(document), "{what}: the keys of {object}");
        } else if let Err(path) = contains(found, document, String::new()) {
            panic!("{what}: {object} differs from the manifest at {path}\nlive: {found:#}");
        }
        wanted.insert(object);
    }
    let present: BTreeSet<String> = live
        .into_keys()
        .filter(|object| !is_step_object(object))
        .collect();
    assert_eq!(
        present, wanted,
        "{what}: the namespace holds exactly the manifest's objects"
    );
}

/// The image of every container (init containers too) of the store's workloads, as
/// `Kind/name/container` -> image.
fn images(sim: &Sim, namespace: &str) -> BTreeMap<String, String> {
    let mut images = BTreeMap::new();
    for (object, live) in live_of(sim, namespace, "deployments,statefulsets") {
        let pod = &live["spec"]["template"]["spec"];
        for container in ["initContainers", "containers"]
            .iter()
            .filter_map(|k| pod[k].as_array())
            .flatten()
        {
            images.insert(
                format!("{object}/{}", container["name"].as_str().unwrap()),
                container["image"].as_str().unwrap().to_owned(),
            );
        }
    }
    images
}

/// The image of the main container of each workload.
fn main_images(sim: &Sim, namespace: &str) -> (String, String) {
    let images = images(sim, namespace);
    (
        images["Deployment/wordpress/wordpress"].clone(),
        images["StatefulSet/mariadb/mariadb"].clone(),
    )
}

/// The Job `name` in `namespace`, if it exists.
fn job(sim: &Sim, namespace: &str, name: &str) -> Option<Value> {
    live_of(sim, namespace, "jobs").remove(&format!("Job/{name}"))
}

/// A small -> medium change keeps the store ready while it resizes everything, and
/// touches no volume or secret; two changes at once get one 202 and one 409; a stale
/// If-Match gets 412; drift passes of a quiet store write nothing.
#[test]
fn a_bigger_plan_resizes_a_ready_store_racing_changes_conflict_and_quiet_drift_writes_nothing() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&sim, tmp.path(), &["--drift-interval", "1"]);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();

    // small -> medium.
    let before = live(&sim, namespace);
    let kept = uids(&sim, namespace, "persistentvolumeclaims,secrets");
    let images_before = images(&sim, namespace);
    let revision = api.change(id, json!({"plan": "medium", "reason": "more traffic"}));
    assert_eq!(revision["number"], 2, "{revision}");
    let mut polls = 0;
    let started = Instant::now();
    loop {
        let now = api.store(id);
        assert_eq!(
            now["status"],
            "ready",
            "the store left ready during the change: {now}\n{}",
            api.timeline(id)
        );
        polls += 1;
        let second = api.revision(id, 2);
        if second["status"] == "deployed" {
            break;
        }
        assert!(
            ["pending", "applying"].contains(&second["status"].as_str().unwrap()),
            "revision 2: {second}\n{}",
            api.timeline(id)
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "revision 2 not deployed within 30 s: {second}\n{}",
            api.timeline(id)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(polls >= 1);
    let store = api.wait_settled(id, Duration::from_secs(10));
    assert_eq!(
        (&store["plan"], &store["revision"]),
        (&json!("medium"), &json!(2)),
        "{store}"
    );
    assert_eq!(api.revision(id, 1)["status"], "superseded");
    let after = live(&sim, namespace);
    for kind in ["ResourceQuota/", "LimitRange/"] {
        let resized: Vec<&String> = before.keys().filter(|k| k.starts_with(kind)).collect();
        assert!(!resized.is_empty(), "no {kind} in {:?}", before.keys());
        for object in resized {
            let (was, is) = (&before[object]["spec"], &after[object]["spec"]);
            assert_ne!(was, is, "{object} was not resized");
        }
    }
    let containers = |objects: &BTreeMap<String, Value>| {
        let mut resources = BTreeMap::new();
        for (object, live) in objects
            .iter()
            .filter(|(k, _)| k.starts_with("Deployment/") || k.starts_with("StatefulSet/"))
        {
            let pod = &live["spec"]["template"]["spec"];
            for container in ["initContainers", "containers"]
                .iter()
                .filter_map(|k| pod[k].as_array())
                .flatten()
            {
                resources.insert(
                    format!("{object}/{}", container["name"].as_str().unwrap()),
                    container["resources"].clone(),
                );
            }
        }
        resources
    };
    let (small, medium) = (containers(&before), containers(&after));
    assert_eq!(
        small.keys().collect::<Vec<_>>(),
        medium.keys().collect::<Vec<_>>(),
        "the same containers"
    );
    assert!(!small.is_empty());
    for (container, resources) in &small {
        assert_ne!(
            resources, &medium[container],
            "{container} kept its small resources"
        );
    }
    assert_eq!(images(&sim, namespace), images_before, "no image changed");
    assert_eq!(
        uids(&sim, namespace, "persistentvolumeclaims,secrets"),
        kept,
        "volumes and secrets were re-created"
    );
    for (object, was) in before.iter().filter(|(k, _)| k.starts_with("Secret/")) {
        assert_eq!(
            was["data"], after[object]["data"],
            "{object}'s values changed"
        );
    }
    let manifest = api.revision(id, 2)["manifest"].as_str().unwrap().to_owned();
    assert_cluster_is(&sim, namespace, &manifest, "after small -> medium");

    // Two changes at once: one is recorded, the other refused while it is in flight.
    let path = format!("/stores/{id}");
    let (first, second) = block_on(async {
        tokio::join!(
            api.send(
                reqwest::Method::PATCH,
                &path,
                Some(json!({"title": "Acme One"})),
                None,
            ),
            api.send(
                reqwest::Method::PATCH,
                &path,
                Some(json!({"title": "Acme Two"})),
                None,
            ),
        )
    });
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [202, 409],
        "two changes at once: {} / {}",
        first.body,
        second.body
    );
    let refused = if first.status == 409 { &first } else { &second };
    assert_eq!(
        refused.body["error"]["code"], "operation_in_progress",
        "{}",
        refused.body
    );
    api.wait_revision(id, 3, "deployed", Duration::from_secs(30));
    let shown = api.request(reqwest::Method::GET, &format!("/stores/{id}"), None);
    assert_eq!(shown.etag.as_deref(), Some("\"3\""), "{}", shown.body);
    assert_eq!(
        api.revisions(id).len(),
        3,
        "the refused change left no revision"
    );

    // A change based on what the caller saw before revision 3 is refused; one based on
    // the current ETag goes through.
    let stale = block_on(api.send(
        reqwest::Method::PATCH,
        &format!("/stores/{id}"),
        Some(json!({"title": "Acme Stale"})),
        Some("\"2\""),
    ));
    assert_eq!(
        (stale.status, &stale.body["error"]["code"]),
        (412, &json!("stale_revision")),
        "{}",
        stale.body
    );
    let current = block_on(api.send(
        reqwest::Method::PATCH,
        &format!("/stores/{id}"),
        Some(json!({"title": "Acme Current"})),
        shown.etag.as_deref(),
    ));
    assert_eq!(current.status, 202, "{}", current.body);
    api.wait_revision(id, 4, "deployed", Duration::from_secs(30));
    let store = api.wait_settled(id, Duration::from_secs(10));
    assert_eq!(store["title"], "Acme Current", "{store}");

    // Quiet drift passes (every 0.5 to 1.5 s) write nothing for several seconds. The
    // first check after the change lets every event of the change in.
    let mut checked = api.next_check(id, &store["last_checked_at"], Duration::from_secs(10));
    let quiet = api.events(id);
    let started = Instant::now();
    let mut passes = 0;
    while started.elapsed() < Duration::from_secs(5) || passes < 3 {
        checked = api.next_check(id, &checked, Duration::from_secs(10));
        passes += 1;
    }
    let later = api.events(id);
    assert_eq!(
        later.len(),
        quiet.len(),
        "{passes} quiet drift passes wrote events:\n{}",
        lines(&later[quiet.len().min(later.len())..])
    );
    assert_eq!(api.revisions(id).len(), 4, "drift recorded a revision");
    assert_eq!(api.store(id)["status"], "ready");
}

/// A release upgrade takes a checkpoint, applies the new images and runs the upgrade
/// step; going back to revision 1 across it is refused unless the checkpoint is restored,
/// and then applies exactly revision 1's manifest; neither touches the data volumes. A
/// catalog edit afterwards (a new default) changes no running store, and new stores get
/// the new default.
#[test]
fn an_upgrade_and_a_rollback_to_revision_1_keep_the_volumes_and_a_catalog_edit_moves_no_store() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), &OLD, &[&OLD, &NEW]);
    let server = serve(&sim, tmp.path(), &["--platform-config", &config]);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();
    assert_eq!(store["release"], OLD.name, "{store}");
    assert_eq!(
        main_images(&sim, namespace),
        (OLD.wordpress.to_owned(), OLD.mariadb.to_owned())
    );
    let volumes = uids(&sim, namespace, "persistentvolumeclaims");
    assert!(!volumes.is_empty());
    let first = api.revision(id, 1);

    // The upgrade.
    let revision = api.change(id, json!({"release": NEW.name}));
    assert_eq!(
        (&revision["number"], &revision["migrates_data"]),
        (&json!(2), &json!(true)),
        "{revision}"
    );
    let upgraded = api.wait_revision(id, 2, "deployed", Duration::from_secs(60));
    let store = api.wait_settled(id, Duration::from_secs(10));
    assert_eq!(store["release"], NEW.name, "{store}");
    assert_eq!(
        main_images(&sim, namespace),
        (NEW.wordpress.to_owned(), NEW.mariadb.to_owned()),
        "the new release's images"
    );
    let checkpoint = &upgraded["checkpoint"];
    assert!(
        checkpoint["path"]
            .as_str()
            .is_some_and(|p| p.contains("r2")),
        "revision 2 records its checkpoint: {upgraded}"
    );
    assert!(checkpoint["taken_at"].is_string(), "{upgraded}");
    for name in ["checkpoint-r2", "upgrade-r2"] {
        let job = job(&sim, namespace, name)
            .unwrap_or_else(|| panic!("no Job {name}:\n{}", api.timeline(id)));
        assert_eq!(job["status"]["succeeded"], 1, "{name}: {job:#}");
    }
    let checkpoint_job = job(&sim, namespace, "checkpoint-r2").unwrap();
    let dumped = checkpoint_job["spec"]["template"]["spec"].to_string();
    assert!(
        dumped.contains(OLD.mariadb),
        "the checkpoint is taken with the release being left"
    );
    let events = api.events(id);
    let taken = position(&events, "checkpoint taken", |e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("checkpoint taken before revision 2"))
    });
    let new_images = position(&events, "Deployment configured in r2", |e| {
        e["detail"]["pass"] == "r2"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Deployment ") && m.ends_with(" configured"))
    });
    let upgrade_done = position(&events, "upgrade step done", |e| {
        e["message"] == "upgrade step of revision 2 done"
    });
    assert!(
        taken < new_images && new_images < upgrade_done,
        "checkpoint, then the new images, then the upgrade step:\n{}",
        lines(&events)
    );
    assert_eq!(
        uids(&sim, namespace, "persistentvolumeclaims")
            .into_iter()
            .filter(|(k, _)| !is_step_object(k))
            .collect::<BTreeMap<_, _>>(),
        volumes,
        "the upgrade re-created a data volume"
    );

    // Two more changes, then back to revision 1, across the upgrade.
    api.change(id, json!({"title": "Acme"}));
    api.wait_revision(id, 3, "deployed", Duration::from_secs(30));
    api.change(id, json!({"title": "Acme Supplies"}));
    api.wait_revision(id, 4, "deployed", Duration::from_secs(30));
    api.wait_settled(id, Duration::from_secs(10));

    let refused = api.rollback(id, json!({"revision": 1}));
    assert_eq!(
        (refused.status, &refused.body["error"]["code"]),
        (409, &json!("would_lose_data")),
        "{}",
        refused.body
    );
    let message = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("restore_checkpoint") && message.contains("revision 2"),
        "the refusal says what migrated the data and how to go back anyway: {message}"
    );
    assert_eq!(api.revisions(id).len(), 4, "the refusal recorded nothing");

    let accepted = api.rollback(id, json!({"revision": 1, "restore_checkpoint": true}));
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let rollback = &accepted.body["revision"];
    assert_eq!(
        (
            &rollback["number"],
            &rollback["rollback_of"],
            &rollback["restores"],
            &accepted.body["data_loss"]
        ),
        (&json!(5), &json!(1), &json!(2), &json!(true)),
        "{}",
        accepted.body
    );
    let fifth = api.wait_revision(id, 5, "deployed", Duration::from_secs(60));
    let store = api.wait_settled(id, Duration::from_secs(10));
    assert_eq!(store["release"], OLD.name, "{store}");
    assert_eq!(
        fifth["manifest_digest"], first["manifest_digest"],
        "the rollback replays revision 1's manifest"
    );
    let restore = job(&sim, namespace, "restore-r5")
        .unwrap_or_else(|| panic!("no restore Job:\n{}", api.timeline(id)));
    assert_eq!(restore["status"]["succeeded"], 1, "{restore:#}");
    assert_cluster_is(
        &sim,
        namespace,
        first["manifest"].as_str().unwrap(),
        "after rolling back to revision 1",
    );
    assert_eq!(
        main_images(&sim, namespace),
        (OLD.wordpress.to_owned(), OLD.mariadb.to_owned())
    );
    assert_eq!(
        uids(&sim, namespace, "persistentvolumeclaims")
            .into_iter()
            .filter(|(k, _)| !is_step_object(k))
            .collect::<BTreeMap<_, _>>(),
        volumes,
        "the rollback re-created a data volume"
    );
    let statuses: Vec<(u64, String)> = api
        .revisions(id)
        .iter()
        .map(|r| {
            (
                r["number"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [5, 4, 3, 2, 1]
            .into_iter()
            .map(|n| (n, if n == 5 { "deployed" } else { "superseded" }.to_owned()))
            .collect::<Vec<_>>()
    );

    // The catalog gains a release that becomes the default; the server restarts on it
    // with frequent drift checks.
    let written = versions(&sim, namespace);
    let events_before = api.events(id).len();
    assert!(server.terminate().success());
    let edited = platform_config(tmp.path(), &NEWER, &[&OLD, &NEW, &NEWER]);
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &edited, "--drift-interval", "1"],
    );
    let api = Api::new(&server, &alice);
    let mut checked = api.store(id)["last_checked_at"].clone();
    for _ in 0..2 {
        checked = api.next_check(id, &checked, Duration::from_secs(15));
    }
    let store = api.store(id);
    assert_eq!(
        (&store["release"], &store["revision"], &store["status"]),
        (&json!(OLD.name), &json!(5), &json!("ready")),
        "{store}"
    );
    assert_eq!(
        store["release_is_default"], false,
        "the store's release is no longer the default: {store}"
    );
    assert_eq!(
        api.revisions(id).len(),
        5,
        "the catalog edit recorded a revision"
    );
    assert_eq!(
        versions(&sim, namespace),
        written,
        "the catalog edit wrote to the store's objects:\n{}",
        api.timeline(id)
    );
    assert_eq!(
        api.events(id).len(),
        events_before,
        "the catalog edit wrote events:\n{}",
        api.timeline(id)
    );
    let fresh = api.ready_store("fresh");
    assert_eq!(
        (&fresh["release"], &fresh["release_is_default"]),
        (&json!(NEWER.name), &json!(true)),
        "a new store gets the new default: {fresh}"
    );
    assert_eq!(
        main_images(&sim, fresh["namespace"].as_str().unwrap()),
        (NEWER.wordpress.to_owned(), NEWER.mariadb.to_owned())
    );
}

/// `Kind/name` -> uid and generation (resourceVersion for kinds without one) of every
/// object: what tells that nothing was written, since status updates by the cluster's
/// controllers move resourceVersions but not generations.
fn versions(sim: &Sim, namespace: &str) -> BTreeMap<String, String> {
    live(sim, namespace)
        .into_iter()
        .map(|(object, live)| {
            let metadata = &live["metadata"];
            let version = match &metadata["generation"] {
                Value::Null => metadata["resourceVersion"].to_string(),
                generation => generation.to_string(),
            };
            (object, format!("{} {version}", metadata["uid"]))
        })
        .collect()
}

/// An upgrade to a release whose image never pulls fails at its deadline and takes the
/// store back to the revision it ran, saying why.
#[test]
fn an_upgrade_whose_image_never_pulls_rolls_back_by_itself_within_its_deadline() {
    let sim = Sim::start_with(&["--never-ready-image", BROKEN.wordpress]);
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), &OLD, &[&OLD, &BROKEN]);
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--revision-deadline", "10"],
    );
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();
    let first = api.revision(id, 1);

    let started = Instant::now();
    let revision = api.change(id, json!({"release": BROKEN.name}));
    assert_eq!(revision["number"], 2);
    let rolled_back = api.wait_revision(id, 2, "rolled_back", Duration::from_secs(60));
    let took = started.elapsed();
    eprintln!("rolled back {took:?} after the change");
    assert!(
        took < Duration::from_secs(30),
        "rolled back {took:?} after the change, with a deadline of 10 s"
    );
    assert!(
        took >= Duration::from_millis(9_500),
        "rolled back {took:?} after the change: before its deadline of 10 s"
    );
    let failure = rolled_back["failure"].as_str().unwrap_or_default();
    assert!(
        failure.contains("ImagePullBackOff"),
        "the failure says why: {rolled_back}"
    );
    let store = api.wait_settled(id, Duration::from_secs(20));
    assert_eq!(
        (
            &store["revision"],
            &store["latest_revision"],
            &store["release"]
        ),
        (&json!(1), &json!(2), &json!(OLD.name)),
        "back on revision 1, revision 2 the latest: {store}"
    );
    assert_eq!(api.revision(id, 1)["status"], "deployed");
    let events = api.events(id);
    let summary = format!("revision 2 failed ({failure}); rolled back to revision 1");
    let said = events.iter().filter(|e| e["message"] == summary).count();
    assert_eq!(
        said,
        1,
        "the timeline says {summary:?} once:\n{}",
        lines(&events)
    );
    assert_cluster_is(
        &sim,
        namespace,
        first["manifest"].as_str().unwrap(),
        "after the automatic rollback",
    );
    assert_eq!(
        main_images(&sim, namespace),
        (OLD.wordpress.to_owned(), OLD.mariadb.to_owned())
    );
}

/// `kill -9` of the server while it carries out an upgrade (in its checkpoint, in its
/// upgrade step): the server started again on the same data converges to the new revision
/// deployed or the old one restored, never a mix.
#[test]
fn a_server_killed_mid_upgrade_converges_to_one_revision_never_a_mix() {
    // Pods and Jobs take a while, so the kill lands inside the step.
    let sim = Sim::start_with(&["--ready-delay", "1500"]);
    for (kill_at, store_name) in [
        ("taking a checkpoint before revision 2", "during-checkpoint"),
        ("running the upgrade step of revision 2", "during-upgrade"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let config = platform_config(tmp.path(), &OLD, &[&OLD, &NEW]);
        let flags = ["--platform-config", config.as_str(), "--lease-ttl", "3"];
        let server = serve(&sim, tmp.path(), &flags);
        let alice = token(
            &["--data-dir", tmp.path().to_str().unwrap()],
            "alice",
            false,
        );
        let api = Api::new(&server, &alice);
        let store = api.ready_store(store_name);
        let id = store["id"].as_str().unwrap().to_owned();
        let namespace = store["namespace"].as_str().unwrap().to_owned();
        let volumes = uids(&sim, &namespace, "persistentvolumeclaims");

        api.change(&id, json!({"release": NEW.name}));
        let started = Instant::now();
        while !api.events(&id).iter().any(|e| e["message"] == kill_at) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{kill_at:?} never came:\n{}",
                api.timeline(&id)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let in_flight = api.revision(&id, 2);
        assert_eq!(
            in_flight["status"], "applying",
            "{kill_at}: killed mid-change"
        );
        // Dropping the server kills it with SIGKILL: no shutdown, no lease handed back.
        drop(server);

        let server = serve(&sim, tmp.path(), &flags);
        let api = Api::new(&server, &alice);
        let started = Instant::now();
        let second = loop {
            let second = api.revision(&id, 2);
            if ["deployed", "rolled_back"].contains(&second["status"].as_str().unwrap()) {
                break second;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{kill_at}: revision 2 never finished: {second}\n{}",
                api.timeline(&id)
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let store = api.wait_settled(&id, Duration::from_secs(30));
        let revisions = api.revisions(&id);
        let deployed: Vec<&Value> = revisions
            .iter()
            .filter(|r| r["status"] == "deployed")
            .collect();
        assert_eq!(deployed.len(), 1, "{kill_at}: one deployed: {revisions:#?}");
        assert!(
            !revisions
                .iter()
                .any(|r| ["pending", "applying"].contains(&r["status"].as_str().unwrap())),
            "{kill_at}: nothing in flight: {revisions:#?}"
        );
        let (number, release) = if second["status"] == "deployed" {
            (2, &NEW)
        } else {
            (1, &OLD)
        };
        assert_eq!(
            (&deployed[0]["number"], &store["release"]),
            (&json!(number), &json!(release.name)),
            "{kill_at}: {store}"
        );
        assert_eq!(
            main_images(&sim, &namespace),
            (release.wordpress.to_owned(), release.mariadb.to_owned()),
            "{kill_at}: the images of revision {number}'s release"
        );
        let manifest = api.revision(&id, number)["manifest"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_cluster_is(
            &sim,
            &namespace,
            &manifest,
            &format!("{kill_at}: after the restart"),
        );
        assert_eq!(
            uids(&sim, &namespace, "persistentvolumeclaims")
                .into_iter()
                .filter(|(k, _)| volumes.contains_key(k))
                .collect::<BTreeMap<_, _>>(),
            volumes,
            "{kill_at}: a data volume was re-created"
        );
        if number == 2 {
            let upgrade = job(&sim, &namespace, "upgrade-r2").expect("the upgrade Job");
            assert_eq!(upgrade["status"]["succeeded"], 1, "{kill_at}: {upgrade:#}");
        }
        eprintln!("{kill_at}: converged to revision {number}");
    }
}

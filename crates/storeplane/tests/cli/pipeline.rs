//! The whole provisioning pipeline through real processes: `storeplane serve`,
//! `storeplane worker` and `storeplane sim` talking over HTTP, with workers killed,
//! API faults injected, pods that never come up or are refused by admission, and
//! namespaces that will not go.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{PgSchema, Server, Sim, block_on, client, run_to_end, storeplane, token};

/// The HTTP API as one user.
struct Api {
    base: String,
    token: String,
}

impl Api {
    fn new(server: &Server, token: String) -> Self {
        Self {
            base: server.base.clone(),
            token,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        block_on(async {
            let mut request = client()
                .request(method, format!("{}/api/v1{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    fn create(&self, name: &str) -> Value {
        let (status, store) = self.call(
            reqwest::Method::POST,
            "/stores",
            Some(json!({"name": name, "engine": "woocommerce", "plan": "small"})),
        );
        assert_eq!(status, 202, "creating {name}: {store}");
        store
    }

    fn delete(&self, id: &str) {
        let (status, body) = self.call(reqwest::Method::DELETE, &format!("/stores/{id}"), None);
        assert_eq!(status, 202, "deleting {id}: {body}");
    }

    fn store(&self, id: &str) -> Value {
        let (status, store) = self.call(reqwest::Method::GET, &format!("/stores/{id}"), None);
        assert_eq!(status, 200, "{store}");
        store
    }

    /// Every event of the store, oldest first.
    fn events(&self, id: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = self.call(
                reqwest::Method::GET,
                &format!("/stores/{id}/events?limit=200{cursor}"),
                None,
            );
            assert_eq!(status, 200, "{page}");
            events.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return events,
            }
        }
    }

    /// Waits until the store's status is `status`, failing early on another final one.
    fn wait_for(&self, id: &str, status: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let store = self.store(id);
            if store["status"] == status {
                return store;
            }
            assert!(
                started.elapsed() < within,
                "store {id} not {status} within {within:?}: {store}\n{}",
                timeline(&self.events(id))
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The timeline as lines, for assertion messages.
fn timeline(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("{} {}", e["kind"], e["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn messages(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect()
}

/// `storeplane worker ARGS`, killed when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(args: &[&str]) -> Self {
        Self(
            storeplane(&[&["worker"], args].concat())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    /// SIGKILL: no shutdown, no lease handed back.
    fn kill_9(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a namespace holds, as `kind/name` -> uid, for the kinds a store is made of.
fn objects(sim: &Sim, namespace: &str) -> BTreeMap<String, String> {
    let listing = sim.kubectl(
        &[
            "get",
            "secrets,services,persistentvolumeclaims,statefulsets,deployments,jobs,ingresses,httproutes,networkpolicies,resourcequotas,limitranges",
            "-n",
            namespace,
            "-o",
            "jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.uid}{\"\\n\"}{end}",
        ],
        None,
    );
    listing
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(object, uid)| (object.to_owned(), uid.to_owned()))
        .collect()
}

/// The `kind/name` of every namespaced object `storeplane render` makes for this store.
fn rendered(store: &Value) -> BTreeSet<String> {
    rendered_with(store, &[])
}

/// [`rendered`] with platform flags (`--front-door ingress`, say).
fn rendered_with(store: &Value, flags: &[&str]) -> BTreeSet<String> {
    let (code, yaml, stderr) = run_to_end(storeplane(
        &[
            "render",
            "--name",
            store["name"].as_str().unwrap(),
            "--plan",
            store["plan"].as_str().unwrap(),
            "--id",
            store["id"].as_str().unwrap(),
        ]
        .into_iter()
        .chain(flags.iter().copied())
        .collect::<Vec<_>>(),
    ));
    assert_eq!(code, 0, "{stderr}");
    let documents: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    documents
        .iter()
        .filter(|d| d["kind"] != "Namespace")
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Namespaces storeplane made.
/// `storeplane serve` with `data` (its database flags) and `flags`, against `sim`.
fn serve_on(sim: &Sim, data: &[&str], flags: &[&str]) -> Server {
    let [kube_flag, kubeconfig] = sim.kubeconfig_args();
    Server::start_on_cluster(&[data, &[kube_flag.as_str(), kubeconfig.as_str()], flags].concat())
}

/// The database and cluster flags every process of a PostgreSQL test shares.
fn shared_flags(schema: &PgSchema, sim: &Sim) -> Vec<String> {
    let [kube_flag, kubeconfig] = sim.kubeconfig_args();
    vec![
        "--database-url".to_owned(),
        schema.url.clone(),
        kube_flag,
        kubeconfig,
    ]
}

fn store_namespaces(sim: &Sim) -> Vec<String> {
    sim.kubectl(&["get", "namespaces", "-o", "name"], None)
        .lines()
        .filter(|n| n.starts_with("namespace/store-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_worker_killed_mid_provision_is_taken_over_and_the_store_converges_without_duplicates() {
    let schema = PgSchema::create();
    // Pods take 3 s to become ready, so the kill lands while the worker waits for them.
    let sim = Sim::start_with(&["--ready-delay", "3000"]);
    let shared = shared_flags(&schema, &sim);
    let shared: Vec<&str> = shared.iter().map(String::as_str).collect();
    let server = Server::start_on_cluster(&[&shared[..], &["--workers", "0"]].concat());
    let api = Api::new(&server, token(&shared[..2], "alice", false));
    let first = WorkerProcess::start(&[&shared[..], &["--lease-ttl", "3"]].concat());

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();
    let started = Instant::now();
    while !messages(&api.events(id)).contains(&"waiting for the store to become ready") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never got to the wait"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = objects(&sim, namespace);
    first.kill_9();
    let _second = WorkerProcess::start(&[&shared[..], &["--lease-ttl", "3"]].concat());

    api.wait_for(id, "ready", Duration::from_secs(60));

    let after = objects(&sim, namespace);
    let names: BTreeSet<String> = after.keys().cloned().collect();
    assert_eq!(
        names,
        rendered(&store),
        "the namespace holds exactly the store's objects"
    );
    for (object, uid) in &before {
        assert_eq!(after.get(object), Some(uid), "{object} was re-created");
    }
    assert_eq!(store_namespaces(&sim), [format!("namespace/{namespace}")]);
    let events = api.events(id);
    let readies = messages(&events)
        .iter()
        .filter(|m| m.starts_with("ready at "))
        .count();
    assert_eq!(readies, 1, "{}", timeline(&events));
}

#[test]
fn with_30_percent_api_errors_and_added_latency_a_store_still_becomes_ready() {
    let tmp = tempfile::tempdir().unwrap();
    // 15 % 503 and 15 % 429 on every verb (the client retries these), 5 % 500 on patches
    // (it does not: the job's own retry takes over), and 20 ms on every request.
    let sim = Sim::start_with(&[
        "--fault-error",
        "*=0.15:503",
        "--fault-error",
        "*=0.15:429",
        "--fault-error",
        "patch=0.05:500",
        "--fault-latency",
        "20",
    ]);
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = serve_on(&sim, &data, &["--max-attempts", "10"]);
    let api = Api::new(&server, token(&data, "alice", false));

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    api.wait_for(id, "ready", Duration::from_secs(120));

    let namespace = store["namespace"].as_str().unwrap();
    let names: BTreeSet<String> = objects(&sim, namespace).keys().cloned().collect();
    assert_eq!(names, rendered(&store));
}

#[test]
fn a_pod_that_never_becomes_ready_fails_the_store_with_its_reason_and_retry_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start_with(&["--never-ready-namespace", "*"]);
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = serve_on(
        &sim,
        &data,
        &["--ready-timeout", "1", "--max-attempts", "2"],
    );
    let api = Api::new(&server, token(&data, "alice", false));

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    let failed = api.wait_for(id, "failed", Duration::from_secs(60));

    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ImagePullBackOff"), "{failed}");
    let events = api.events(id);
    let gave_up = events
        .iter()
        .find(|e| e["kind"] == "failed")
        .unwrap_or_else(|| panic!("no failure on the timeline:\n{}", timeline(&events)));
    assert!(
        gave_up["message"]
            .as_str()
            .unwrap()
            .contains("ImagePullBackOff"),
        "{}",
        timeline(&events)
    );
    assert!(
        messages(&events)
            .iter()
            .any(|m| m.starts_with("attempt 1 failed")),
        "{}",
        timeline(&events)
    );

    // The cause goes away; a retry picks up where the store stopped.
    let faults = Value::Object(Default::default());
    sim.set_faults(&faults);
    let (status, body) = api.call(reqwest::Method::POST, &format!("/stores/{id}/retry"), None);
    assert_eq!(status, 202, "{body}");
    api.wait_for(id, "ready", Duration::from_secs(60));

    // The provisioning that gave up left its revision 1 failed, with the reason.
    assert!(server.terminate().success());
    let path = tmp.path().join("storeplane.db");
    block_on(async {
        let repo = storeplane_db::connect(
            &storeplane_db::DatabaseUrl::Sqlite(path),
            &storeplane_db::ConnectOptions::default(),
        )
        .await
        .unwrap();
        let store_id: storeplane_domain::StoreId =
            serde_json::from_value(store["id"].clone()).unwrap();
        let first = repo
            .get_revision(store_id, storeplane_domain::RevisionNumber::FIRST)
            .await
            .unwrap();
        assert_eq!(first.status, storeplane_domain::RevisionStatus::Failed);
        let failure = first.failure.unwrap_or_default();
        assert!(failure.contains("ImagePullBackOff"), "{failure}");
    });
}

#[test]
fn a_release_whose_wordpress_runs_as_root_fails_the_store_with_the_pod_security_reason() {
    let tmp = tempfile::tempdir().unwrap();
    // A platform team's catalog entry for an image that wants root, as `wordpress_user: 0`.
    let settings = tmp.path().join("platform.yaml");
    std::fs::write(
        &settings,
        "releases:\n  woocommerce:\n    default: wp-root\n    available:\n      \
         - name: wp-root\n        wordpress: docker.io/library/wordpress:6.8.1-php8.3-apache\n        \
         mariadb: docker.io/library/mariadb:11.4.5\n        \
         wp_cli: docker.io/library/wordpress:cli-2.12.0-php8.3\n        \
         woocommerce_version: \"9.8.5\"\n        wordpress_user: 0\n",
    )
    .unwrap();
    let sim = Sim::start();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = serve_on(
        &sim,
        &data,
        &[
            "--platform-config",
            settings.to_str().unwrap(),
            "--ready-timeout",
            "1",
            "--max-attempts",
            "1",
        ],
    );
    let api = Api::new(&server, token(&data, "alice", false));

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    let failed = api.wait_for(id, "failed", Duration::from_secs(60));

    let reason = failed["status_reason"].as_str().unwrap_or_default();
    for expected in [
        "wordpress",
        "FailedCreate",
        "violates PodSecurity \"restricted:v1.33\"",
        "runAsUser=0",
    ] {
        assert!(reason.contains(expected), "{expected} not in {failed}");
    }
    let events = api.events(id);
    let gave_up = events
        .iter()
        .find(|e| e["kind"] == "failed")
        .unwrap_or_else(|| panic!("no failure on the timeline:\n{}", timeline(&events)));
    assert!(
        gave_up["message"]
            .as_str()
            .unwrap()
            .contains("violates PodSecurity"),
        "{}",
        timeline(&events)
    );
}

#[test]
fn a_namespace_held_by_a_finalizer_is_reported_with_the_finalizer_named() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = serve_on(
        &sim,
        &data,
        &["--teardown-timeout", "1", "--max-attempts", "1"],
    );
    let api = Api::new(&server, token(&data, "alice", false));
    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();
    api.wait_for(id, "ready", Duration::from_secs(30));
    // Something outside storeplane (a backup tool, say) holds an object of the store.
    sim.kubectl(
        &[
            "patch",
            "service",
            "wordpress",
            "-n",
            namespace,
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"finalizers":["backup.example.com/hold"]}}"#,
        ],
        None,
    );

    api.delete(id);
    let failed = api.wait_for(id, "failed", Duration::from_secs(30));

    let events = api.events(id);
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("backup.example.com/hold"), "{failed}");
    assert!(
        messages(&events)
            .iter()
            .any(|m| m.contains("backup.example.com/hold")),
        "{}",
        timeline(&events)
    );
    let phase = sim.kubectl(
        &[
            "get",
            "namespace",
            namespace,
            "-o",
            "jsonpath={.status.phase}",
        ],
        None,
    );
    assert_eq!(phase, "Terminating");
}

#[test]
fn two_workers_on_postgres_provision_50_stores_exactly_once_when_one_is_killed() {
    let schema = PgSchema::create();
    let sim = Sim::start_with(&["--ready-delay", "200"]);
    let shared = shared_flags(&schema, &sim);
    let shared: Vec<&str> = shared.iter().map(String::as_str).collect();
    let server = Server::start_on_cluster(
        &[
            &shared[..],
            &[
                "--workers",
                "0",
                "--store-quota",
                "0",
                "--rate-limit-per-minute",
                "0",
            ],
        ]
        .concat(),
    );
    let api = Api::new(&server, token(&shared[..2], "alice", false));
    let worker_args = [&shared[..], &["--lease-ttl", "3", "--workers", "4"]].concat();
    let doomed = WorkerProcess::start(&worker_args);
    let _survivor = WorkerProcess::start(&worker_args);

    let stores: Vec<Value> = (0..50)
        .map(|i| api.create(&format!("shop-{i:02}")))
        .collect();
    let ready = |api: &Api| {
        stores
            .iter()
            .filter(|s| api.store(s["id"].as_str().unwrap())["status"] == "ready")
            .count()
    };
    let started = Instant::now();
    while ready(&api) < 10 {
        assert!(started.elapsed() < Duration::from_secs(60), "too slow");
        std::thread::sleep(Duration::from_millis(100));
    }
    doomed.kill_9();
    for store in &stores {
        api.wait_for(
            store["id"].as_str().unwrap(),
            "ready",
            Duration::from_secs(120),
        );
    }

    assert_eq!(store_namespaces(&sim).len(), 50);
    for store in &stores {
        let id = store["id"].as_str().unwrap();
        let events = api.events(id);
        // A worker killed between creating an object and recording the event loses that
        // event, so a secret the killed worker made shows only the survivor's "unchanged".
        // What must never happen is a second creation (a regenerated password): each secret
        // is created at most once, applied at least once, and never rewritten.
        let namespace = store["namespace"].as_str().unwrap();
        let rendered = rendered(store);
        for secret in rendered.iter().filter_map(|o| o.strip_prefix("Secret/")) {
            let applied = |outcome: &str| {
                messages(&events)
                    .iter()
                    .filter(|m| **m == format!("Secret {namespace}/{secret} {outcome}"))
                    .count()
            };
            assert!(
                applied("created") <= 1 && applied("created") + applied("unchanged") >= 1,
                "Secret {secret} created at most once:\n{}",
                timeline(&events)
            );
        }
        assert!(
            !messages(&events)
                .iter()
                .any(|m| m.starts_with("Secret ") && m.ends_with(" configured")),
            "a secret was rewritten:\n{}",
            timeline(&events)
        );
        let readies = messages(&events)
            .iter()
            .filter(|m| m.starts_with("ready at "))
            .count();
        assert_eq!(readies, 1, "{}", timeline(&events));
        let names: BTreeSet<String> = objects(&sim, namespace).keys().cloned().collect();
        assert_eq!(names, rendered, "{namespace}");
    }
}

/// Stands in for a front door (the Gateway's proxy or the ingress controller): answers one
/// request with 200, and reports the Host it named. Returns its address and the report.
fn front_door_stand_in() -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let host = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let read = stream.read(&mut request).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&request[..read])
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("host: ")
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    });
    (address, host)
}

#[test]
fn the_storefront_is_checked_through_the_ingress_address_and_the_answer_recorded() {
    let (address, host) = front_door_stand_in();
    let tmp = tempfile::tempdir().unwrap();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = Server::start(
        &[
            &data[..],
            &[
                "--base-domain",
                "shops.example.test",
                "--storefront-check-via",
                &address,
            ],
        ]
        .concat(),
    );
    let api = Api::new(&server, token(&data, "alice", false));

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    api.wait_for(id, "ready", Duration::from_secs(30));

    assert_eq!(host.join().unwrap(), "acme.shops.example.test");
    let started = Instant::now();
    loop {
        let events = api.events(id);
        if let Some(check) = events.iter().find(|e| e["detail"]["step"] == "verify") {
            assert_eq!(check["detail"]["status"], 200, "{check}");
            assert!(
                check["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("storefront answered HTTP 200"),
                "{check}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            timeline(&events)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_store_is_provisioned_and_checked_through_an_http_route_or_an_ingress_as_its_front_door() {
    for (front_door, present, absent) in [
        ("gateway", "HTTPRoute/storefront", "Ingress/storefront"),
        ("ingress", "Ingress/storefront", "HTTPRoute/storefront"),
    ] {
        let sim = Sim::start();
        let tmp = tempfile::tempdir().unwrap();
        let data = ["--data-dir", tmp.path().to_str().unwrap()];
        let flags = [
            "--front-door",
            front_door,
            "--base-domain",
            "shops.example.test",
        ];
        // The storefront check goes through the front door's address, naming the host.
        let (via, checked_host) = front_door_stand_in();
        let checked_via = ["--storefront-check-via", via.as_str()];
        let server = serve_on(&sim, &data, &[&flags[..], &checked_via].concat());
        let api = Api::new(&server, token(&data, "alice", false));

        let store = api.create("acme");
        let id = store["id"].as_str().unwrap();
        api.wait_for(id, "ready", Duration::from_secs(30));

        let namespace = store["namespace"].as_str().unwrap();
        let names: BTreeSet<String> = objects(&sim, namespace).keys().cloned().collect();
        assert!(names.contains(present), "{front_door}: {names:?}");
        assert!(!names.contains(absent), "{front_door}: {names:?}");
        assert_eq!(names, rendered_with(&store, &flags), "{front_door}");
        let host = match front_door {
            "gateway" => "jsonpath={.spec.hostnames[0]}",
            _ => "jsonpath={.spec.rules[0].host}",
        };
        let kind = present.split('/').next().unwrap().to_lowercase();
        let served = sim.kubectl(
            &[
                "get",
                &format!("{kind}/storefront"),
                "-n",
                namespace,
                "-o",
                host,
            ],
            None,
        );
        assert_eq!(served, "acme.shops.example.test", "{front_door}");
        let web_from = sim.kubectl(
            &[
                "get",
                "networkpolicy/wordpress-ingress",
                "-n",
                namespace,
                "-o",
                "jsonpath={.spec.ingress[0].from[0].namespaceSelector.matchLabels}",
            ],
            None,
        );
        let data_plane = match front_door {
            "gateway" => "traefik",
            _ => "ingress-nginx",
        };
        assert!(web_from.contains(data_plane), "{front_door}: {web_from}");
        assert_eq!(
            checked_host.join().unwrap(),
            "acme.shops.example.test",
            "the storefront check names the store's host ({front_door})"
        );
    }
}

/// Waits until the store's `last_checked_at` is set and differs from `since`, and returns it.
fn next_check(api: &Api, id: &str, since: &Value, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let checked = api.store(id)["last_checked_at"].clone();
        if !checked.is_null() && &checked != since {
            return checked;
        }
        assert!(
            started.elapsed() < within,
            "no drift check of {id} after {since} within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn quiet_drift_passes_write_no_event_and_a_deleted_network_policy_is_restored_with_one_event() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start();
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let server = serve_on(&sim, &data, &["--drift-interval", "1"]);
    let api = Api::new(&server, token(&data, "alice", false));

    let store = api.create("acme");
    let id = store["id"].as_str().unwrap();
    api.wait_for(id, "ready", Duration::from_secs(60));
    // The first drift pass comes after the provisioning job ended: every event of the
    // provisioning is in by then.
    let mut checked = next_check(&api, id, &Value::Null, Duration::from_secs(10));
    let before = api.events(id);

    // Drift passes every 0.5 to 1.5 s: three of them, over a few seconds.
    for _ in 0..3 {
        checked = next_check(&api, id, &checked, Duration::from_secs(10));
    }
    let after = api.events(id);
    assert_eq!(
        after.len(),
        before.len(),
        "quiet drift passes wrote events:\n{}",
        timeline(&after[before.len()..])
    );

    let namespace = store["namespace"].as_str().unwrap();
    sim.kubectl(
        &["delete", "networkpolicy", "default-deny", "-n", namespace],
        None,
    );
    let started = Instant::now();
    let restored = loop {
        let events = api.events(id);
        if events.len() > after.len() {
            break events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing restored within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Two more passes after the one that restored it: they find nothing to say.
    checked = next_check(&api, id, &checked, Duration::from_secs(10));
    next_check(&api, id, &checked, Duration::from_secs(10));
    let last = api.events(id);
    assert_eq!(
        messages(&last[after.len()..]),
        [format!("NetworkPolicy {namespace}/default-deny was missing; restored").as_str()],
        "{}",
        timeline(&last[after.len()..])
    );
    assert_eq!(restored.len(), last.len());
    assert_eq!(last[after.len()]["kind"], "drift_restored");
    let policies = sim.kubectl(
        &["get", "networkpolicies", "-n", namespace, "-o", "name"],
        None,
    );
    assert!(policies.contains("default-deny"), "{policies}");

    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    for result in ["clean", "restored"] {
        assert!(
            metrics.contains(&format!(
                "storeplane_drift_checks_total{{result=\"{result}\"}}"
            )),
            "{metrics}"
        );
    }

    // The first provisioning recorded revision 1 by the store's creator, with the release
    // it resolved, and deployed it: the store's spec now names that release.
    assert!(server.terminate().success());
    let path = tmp.path().join("storeplane.db");
    block_on(async {
        let repo = storeplane_db::connect(
            &storeplane_db::DatabaseUrl::Sqlite(path),
            &storeplane_db::ConnectOptions::default(),
        )
        .await
        .unwrap();
        let store_id: storeplane_domain::StoreId =
            serde_json::from_value(store["id"].clone()).unwrap();
        let stored = repo.get_store(store_id).await.unwrap();
        let revisions = repo.store_revisions(store_id).await.unwrap();
        let deployed = revisions.deployed.expect("a deployed revision");
        let default = storeplane_blueprint::Blueprint::new(Default::default())
            .unwrap()
            .release(&storeplane_domain::StoreSpec {
                release: None,
                ..stored.spec.clone()
            })
            .unwrap();
        assert_eq!(
            (
                deployed.number.get(),
                deployed.actor.to_string(),
                deployed.spec.release.as_ref()
            ),
            (1, "user:alice".to_owned(), Some(&default))
        );
        assert_eq!(revisions.latest.map(|r| r.number.get()), Some(1));
        assert_eq!(stored.spec.release, Some(default));
        assert_eq!(stored.deployed_revision.map(|n| n.get()), Some(1));
    });
}

//! Backups through the real binary: `storeplane serve` processes against a `storeplane sim`
//! cluster that kubectl reads. A manual backup from the command line, scheduled backups
//! that come by themselves one interval apart, the refusals while a backup (or a revision,
//! or a reset) is in progress, the repository key kept out of everything but its Secret, a
//! deleted store's backups kept for the retention period, and a server killed while a
//! backup is pending or running; a restore in place behind the maintenance page (and a
//! server killed during one), the restores and copies refused, stores made from a backup
//! before and after its store is deleted, an admin's purge, and a store deleted while its
//! backup runs, each judged by what the API says and what the cluster holds.
//!
//! kube-sim completes a Job at once; a backup is held running by making the restic image
//! one that never pulls (`PUT /kube-sim/faults`), its pod in `ImagePullBackOff` until the
//! fault is lifted, and held pending by a server that runs no workers. A restore's Job runs
//! restic too, as does the checkpoint backup just before it: the hold is put on once the
//! checkpoint backup succeeded, with a simulator whose pods take a while to come up.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::support::{Server, Sim, block_on, client, run_to_end, storeplane, token};

/// The restic image of the backup Jobs, named in the platform settings so that the
/// simulator can be told it never pulls.
const RESTIC: &str = "docker.io/restic/restic:0.18.1";

/// The size kube-sim's restic program reports for every backup (20761421 bytes).
const SIZE: &str = "19.8 MiB";

/// Writes platform settings with a `backups:` block of `schedule`.
fn platform_config(dir: &Path, schedule: &str) -> String {
    let path = dir.join(format!("platform-{}.yaml", schedule.replace(' ', "")));
    std::fs::write(
        &path,
        format!("backups:\n  image: {RESTIC}\n  schedule: {schedule}\n"),
    )
    .unwrap();
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

fn store_command(server: &Server, token: &str, args: &[&str]) -> (i32, String, String) {
    store_command_at(&server.base, token, args)
}

/// `storeplane store ARGS` against the server at `base`, for a command run on a thread of
/// its own (a `--wait` followed while the test looks at the cluster).
fn store_command_at(base: &str, token: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = storeplane(&[&["store"], args].concat());
    command
        .env("STOREPLANE_SERVER", base)
        .env("STOREPLANE_TOKEN", token);
    run_to_end(command)
}

/// The HTTP API as one user.
struct Api {
    base: String,
    token: String,
}

/// A response: status and body.
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

impl Api {
    fn new(server: &Server, token: &str) -> Self {
        Self {
            base: server.base.clone(),
            token: token.to_owned(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        block_on(async {
            // A server that stops answering fails the test with what it was asked, rather
            // than holding it until CI gives up.
            let mut request = client()
                .request(method.clone(), format!("{}/api/v1{path}", self.base))
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(30));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: no answer from the server: {e}"));
            let status = response.status().as_u16();
            let text = response
                .text()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: the answer was cut short: {e}"));
            Reply {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
                text,
            }
        })
    }

    fn store(&self, id: &str) -> Value {
        let reply = self.request(reqwest::Method::GET, &format!("/stores/{id}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// Creates a store and waits until it is ready with nothing in progress.
    fn ready_store(&self, name: &str) -> Value {
        let reply = self.request(
            reqwest::Method::POST,
            "/stores",
            Some(json!({"name": name, "engine": "woocommerce", "plan": "small"})),
        );
        assert_eq!(reply.status, 202, "creating {name}: {}", reply.body);
        self.wait_settled(reply.body["id"].as_str().unwrap(), Duration::from_secs(60))
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

    /// `POST /stores/{id}/backups`.
    fn back_up(&self, id: &str, reason: Option<&str>) -> Reply {
        let body = reason.map(|r| json!({"reason": r}));
        self.request(
            reqwest::Method::POST,
            &format!("/stores/{id}/backups"),
            body,
        )
    }

    /// A backup that must be accepted: its view.
    fn requested_backup(&self, id: &str) -> Value {
        let reply = self.back_up(id, None);
        assert_eq!(reply.status, 202, "backing {id} up: {}", reply.body);
        assert_eq!(reply.body["status"], "pending", "{}", reply.body);
        reply.body
    }

    /// The store's backups, newest first.
    fn backups(&self, id: &str) -> Vec<Value> {
        let reply = self.request(reqwest::Method::GET, &format!("/stores/{id}/backups"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }

    /// The backup `backup` of the store, as the list shows it.
    fn backup(&self, id: &str, backup: &str) -> Value {
        self.backups(id)
            .into_iter()
            .find(|b| b["id"] == backup)
            .unwrap_or_else(|| panic!("backup {backup} is not listed:\n{}", self.timeline(id)))
    }

    /// Waits until backup `backup` is `status`, failing early when it finished otherwise.
    fn wait_backup(&self, id: &str, backup: &str, status: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let now = self.backup(id, backup);
            if now["status"] == status {
                return now;
            }
            assert!(
                !["succeeded", "failed"].contains(&now["status"].as_str().unwrap()),
                "backup {backup} became {} instead of {status}: {now}\n{}",
                now["status"],
                self.timeline(id)
            );
            assert!(
                started.elapsed() < within,
                "backup {backup} not {status} within {within:?}: {now}\n{}",
                self.timeline(id)
            );
            std::thread::sleep(Duration::from_millis(50));
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

    /// Waits until revision `n` is `status`.
    fn wait_revision(&self, id: &str, n: u64, status: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let reply = self.request(
                reqwest::Method::GET,
                &format!("/stores/{id}/revisions/{n}"),
                None,
            );
            if reply.status == 200 && reply.body["status"] == status {
                return reply.body;
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

    /// `POST /stores/{id}/restore` of `backup`.
    fn restore(&self, id: &str, backup: &str) -> Reply {
        self.request(
            reqwest::Method::POST,
            &format!("/stores/{id}/restore"),
            Some(json!({"backup": backup, "reason": "the plugin update broke checkout"})),
        )
    }

    /// `POST /stores` of a store `name` of `engine` made from `backup`.
    fn create_from(&self, name: &str, engine: &str, backup: &str) -> Reply {
        self.request(
            reqwest::Method::POST,
            "/stores",
            Some(json!({"name": name, "engine": engine, "plan": "small", "from_backup": backup})),
        )
    }

    /// A manual backup of the store taken to the end, the store settled again: its id.
    fn taken_backup(&self, id: &str) -> String {
        let backup = self.requested_backup(id);
        let backup = backup["id"].as_str().unwrap().to_owned();
        self.wait_backup(id, &backup, "succeeded", Duration::from_secs(30));
        self.wait_settled(id, Duration::from_secs(30));
        backup
    }

    /// The store's revisions, newest first.
    fn revisions(&self, id: &str) -> Vec<Value> {
        let reply = self.request(
            reqwest::Method::GET,
            &format!("/stores/{id}/revisions"),
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }

    /// Every store the user sees, deleted ones too, by name.
    fn store_names(&self) -> Vec<String> {
        let reply = self.request(reqwest::Method::GET, "/stores?limit=200", None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `DELETE /stores/{id}`, then waits until the store is deleted.
    fn delete_store(&self, id: &str) -> Value {
        let reply = self.request(reqwest::Method::DELETE, &format!("/stores/{id}"), None);
        assert_eq!(reply.status, 202, "deleting {id}: {}", reply.text);
        let started = Instant::now();
        loop {
            let store = self.store(id);
            if store["status"] == "deleted" {
                return store;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "store {id} not deleted within 60 s: {store}\n{}",
                self.timeline(id)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What a refused request must leave as it was: the stores the user sees, and each
    /// of `ids`'s events, revisions and backups.
    fn recorded(&self, ids: &[&str]) -> Value {
        json!({
            "stores": self.store_names(),
            "of": ids.iter().map(|id| json!({
                "events": self.events(id).len(),
                "revisions": self.revisions(id),
                "backups": self.backups(id),
            })).collect::<Vec<_>>(),
        })
    }

    /// Waits until the checkpoint backup taken before revision `n` succeeded, then holds
    /// every later restic pod (the restore Job's among them), before it can start: the
    /// simulator's ready delay keeps the maintenance page and the restore pod from coming
    /// up sooner than the hold.
    fn hold_restore_after_checkpoint(&self, sim: &Sim, id: &str, n: u64) -> Value {
        let reason = format!("before revision {n}");
        let started = Instant::now();
        loop {
            let checkpoint = self
                .backups(id)
                .into_iter()
                .find(|b| b["kind"] == "checkpoint" && b["reason"] == reason.as_str());
            if let Some(checkpoint) = checkpoint {
                assert_ne!(
                    checkpoint["status"],
                    "failed",
                    "{checkpoint}\n{}",
                    self.timeline(id)
                );
                if checkpoint["status"] == "succeeded" {
                    hold_backups(sim);
                    return checkpoint;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no checkpoint backup before revision {n} succeeded within 60 s:\n{}",
                self.timeline(id)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until an event after the first `since` says `message` (its beginning), and
    /// returns the timeline.
    fn wait_event(&self, id: &str, since: usize, message: &str, within: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let events = self.events(id);
            if !told(events.get(since..).unwrap_or_default(), message).is_empty() {
                return events;
            }
            assert!(
                started.elapsed() < within,
                "no event {message:?} within {within:?}:\n{}",
                lines(&events)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The events whose message begins with `message`.
fn told<'a>(events: &'a [Value], message: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message))
        })
        .collect()
}

/// The first event whose message begins with `message`, by its position.
fn first(events: &[Value], message: &str) -> usize {
    position(events, message, |e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(message))
    })
}

/// A backup's short id, as the timeline and its Job's name show it: the last 8 digits.
fn short(backup: &str) -> String {
    backup.replace('-', "")[24..].to_owned()
}

fn lines(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["kind"], e["actor"], e["message"], e["detail"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn position(events: &[Value], what: &str, test: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(test)
        .unwrap_or_else(|| panic!("no event {what} on the timeline:\n{}", lines(events)))
}

/// The events of backup `backup`'s steps.
fn steps_of<'a>(events: &'a [Value], backup: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail"]["step"] == "backup" && e["detail"]["backup"] == backup)
        .collect()
}

/// Whether `message` tells a backup taken as snapshot `snapshot` with restic's figures:
/// `backup <8 hex> taken ...: 19.8 MiB, 19.8 MiB added, in 0.4 s`, the snapshot's first 8
/// digits in it.
fn is_taken(message: &str, snapshot: &str) -> bool {
    let Some((short, rest)) = message
        .strip_prefix("backup ")
        .and_then(|m| m.split_once(' '))
    else {
        return false;
    };
    short.len() == 8
        && short.bytes().all(|b| b.is_ascii_hexdigit())
        && rest.starts_with("taken")
        && message.contains(&snapshot[..8])
        && message.contains(&format!(": {SIZE}, {SIZE} added, in "))
}

fn at(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// Asserts a 409 with `code`.
fn assert_refused(reply: &Reply, code: &str, what: &str) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (409, Some(code)),
        "{what}: {}",
        reply.text
    );
}

/// Makes the restic image one that never pulls: a backup's pod waits in `ImagePullBackOff`
/// and the backup stays running until [`lift_faults`].
fn hold_backups(sim: &Sim) {
    sim.set_faults(&json!({"neverReadyImages": [RESTIC]}));
}

/// Makes every new pod of `namespace` wait in `ImagePullBackOff` (a revision or a reset in
/// flight stays so) until [`lift_faults`].
fn hold_namespace(sim: &Sim, namespace: &str) {
    sim.set_faults(&json!({"neverReadyNamespaces": [namespace]}));
}

fn lift_faults(sim: &Sim) {
    sim.set_faults(&json!({}));
}

/// The backup Jobs of `namespace`.
fn backup_jobs(sim: &Sim, namespace: &str) -> Vec<Value> {
    let jobs: Value =
        serde_json::from_str(&sim.kubectl(&["get", "jobs", "-n", namespace, "-o", "json"], None))
            .unwrap();
    jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("backup-"))
        })
        .cloned()
        .collect()
}

/// The Job of backup `backup` (`backup-<the id's last 8 hex digits>`), once it exists.
fn wait_for_job(sim: &Sim, namespace: &str, backup: &str) -> Value {
    let name = format!("backup-{}", short(backup));
    let started = Instant::now();
    loop {
        if let Some(job) = backup_jobs(sim, namespace)
            .into_iter()
            .find(|j| j["metadata"]["name"] == name.as_str())
        {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no Job {name} appeared in {namespace}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `namespace` holds no backup Job (the worker removes it once it served).
fn wait_jobs_removed(sim: &Sim, namespace: &str) {
    let started = Instant::now();
    loop {
        let jobs = backup_jobs(sim, namespace);
        if jobs.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "backup Jobs left in {namespace}: {:?}",
            jobs.iter()
                .map(|j| j["metadata"]["name"].clone())
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The store's repository key, from its Secret `backup-key`.
fn repository_key(sim: &Sim, namespace: &str) -> String {
    let secret: Value = serde_json::from_str(&sim.kubectl(
        &["get", "secret", "backup-key", "-n", namespace, "-o", "json"],
        None,
    ))
    .unwrap();
    if let Some(encoded) = secret["data"]["restic-password"].as_str() {
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        return String::from_utf8(key).unwrap();
    }
    // A real API server folds `stringData` into `data`; kube-sim keeps it as written.
    secret["stringData"]["restic-password"]
        .as_str()
        .unwrap_or_else(|| panic!("no restic-password in backup-key: {secret}"))
        .to_owned()
}

/// Objects of `kind` in `namespace`, as kubectl prints them.
fn objects(sim: &Sim, kind: &str, namespace: &str) -> Vec<Value> {
    let list: Value =
        serde_json::from_str(&sim.kubectl(&["get", kind, "-n", namespace, "-o", "json"], None))
            .unwrap();
    list["items"].as_array().unwrap().clone()
}

/// The object `name` of `kind` in `namespace`, if there is one.
fn object(sim: &Sim, kind: &str, namespace: &str, name: &str) -> Option<Value> {
    objects(sim, kind, namespace)
        .into_iter()
        .find(|o| o["metadata"]["name"] == name)
}

/// The replicas Deployment `name` of `namespace` asks for.
fn replicas(sim: &Sim, namespace: &str, name: &str) -> i64 {
    let deployment = object(sim, "deployments", namespace, name)
        .unwrap_or_else(|| panic!("no Deployment {name} in {namespace}"));
    deployment["spec"]["replicas"]
        .as_i64()
        .unwrap_or_else(|| panic!("{deployment}"))
}

/// Waits until `namespace` holds Job `name`.
fn wait_for_named_job(sim: &Sim, namespace: &str, name: &str) -> Value {
    let started = Instant::now();
    loop {
        if let Some(job) = object(sim, "jobs", namespace, name) {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no Job {name} appeared in {namespace}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The restic password in Secret `name` of `namespace`.
fn restic_password(sim: &Sim, namespace: &str, name: &str) -> String {
    let secret = object(sim, "secrets", namespace, name)
        .unwrap_or_else(|| panic!("no Secret {name} in {namespace}"));
    let encoded = secret["data"]["restic-password"]
        .as_str()
        .unwrap_or_else(|| panic!("no restic-password in {name}: {secret}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

/// The name of store `id`'s key Secret in the keys namespace (`storeplane`).
fn key_secret(id: &str) -> String {
    format!("backup-key-{id}")
}

/// Every object of every kind a store has, as kubectl prints them, except Secrets.
fn every_object_but_secrets(sim: &Sim) -> String {
    let kinds = "namespaces,configmaps,services,pods,events,jobs,deployments,statefulsets,\
                 replicasets,networkpolicies,persistentvolumeclaims,resourcequotas,limitranges,\
                 ingresses,httproutes";
    sim.kubectl(&["get", kinds, "--all-namespaces", "-o", "json"], None)
}

/// Every file of the data directory (the database and its write-ahead log), as text.
fn database_bytes(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

/// The arguments of every process this test binary started and of theirs (the servers,
/// the simulator, kubectl), one line each.
fn command_lines_of_children() -> Vec<String> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`, where comm may hold spaces and parentheses.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut lines = Vec::new();
    let mut queue = vec![std::process::id()];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if let Ok(arguments) = std::fs::read(format!("/proc/{child}/cmdline")) {
                lines.push(String::from_utf8_lossy(&arguments).replace('\0', " "));
            }
            queue.push(child);
        }
    }
    lines
}

fn assert_nowhere(key: &str, places: &[(&str, &str)]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    for (place, text) in places {
        assert!(!text.contains(key), "the repository key is in {place}");
        assert!(
            !text.contains(&encoded),
            "the repository key (base64) is in {place}"
        );
    }
}

/// `storeplane store backup acme --reason R --wait` takes the backup and follows it; the
/// list shows it with restic's figures, the timeline tells each step, and the store shows
/// its last success without a warning.
#[test]
fn a_manual_backup_from_the_command_line_is_taken_listed_and_told_on_the_timeline() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&sim, tmp.path(), &[]);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["create", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let api = Api::new(&server, &alice);
    let (_, shown, _) = store_command(&server, &alice, &["get", "acme", "--output", "json"]);
    let store: Value = serde_json::from_str(&shown).unwrap();
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();
    assert!(
        store["backup"]["last_succeeded_at"].is_null(),
        "no backup yet: {store}"
    );

    let reason = "before the plugin update";
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &[
            "backup",
            "acme",
            "--reason",
            reason,
            "--wait",
            "--timeout",
            "60",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for said in [
        "requested (manual, at revision 1)",
        "taking a manual backup",
        " taken",
        &format!("{SIZE}, {SIZE} added"),
    ] {
        assert!(
            stdout.contains(said),
            "`store backup --wait` says {said:?}:\n{stdout}"
        );
    }

    let (code, listed, stderr) = store_command(&server, &alice, &["backups", "acme"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, json_list, stderr) =
        store_command(&server, &alice, &["backups", "acme", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let backups: Value = serde_json::from_str(&json_list).unwrap();
    let items = backups["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{backups:#}");
    let backup = &items[0];
    assert_eq!(
        (
            &backup["kind"],
            &backup["status"],
            &backup["actor"],
            &backup["reason"],
            &backup["revision"],
            &backup["size_bytes"],
        ),
        (
            &json!("manual"),
            &json!("succeeded"),
            &json!("user:alice"),
            &json!(reason),
            &json!(1),
            &json!(20_761_421),
        ),
        "{backup:#}"
    );
    let snapshot = backup["snapshot"].as_str().unwrap_or_default();
    assert!(
        snapshot.len() == 64 && snapshot.bytes().all(|b| b.is_ascii_hexdigit()),
        "restic's snapshot id: {backup:#}"
    );
    assert!(backup["failure"].is_null() && backup["expires_at"].is_null());
    assert!(
        at(&backup["created_at"]) <= at(&backup["started_at"])
            && at(&backup["started_at"]) <= at(&backup["finished_at"]),
        "{backup:#}"
    );
    let row = listed
        .lines()
        .find(|l| l.contains(backup["id"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("the backup is not in the table:\n{listed}"));
    for column in ["manual", "succeeded", SIZE, &snapshot[..8], reason] {
        assert!(row.contains(column), "the row shows {column:?}:\n{listed}");
    }

    let events = api.events(id);
    let requested = position(&events, "requested", |e| {
        e["message"] == format!("manual backup requested by user:alice: {reason}").as_str()
    });
    let running = position(&events, "running", |e| {
        e["message"] == "taking a manual backup"
    });
    let taken = position(&events, "taken", |e| {
        e["message"].as_str().is_some_and(|m| is_taken(m, snapshot))
    });
    assert!(
        requested < running && running < taken,
        "requested, taking, taken in that order:\n{}",
        lines(&events)
    );
    let steps: Vec<&str> = steps_of(&events, backup["id"].as_str().unwrap())
        .iter()
        .map(|e| e["detail"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["requested", "running", "succeeded"],
        "{}",
        lines(&events)
    );

    let store = api.store(id);
    assert_eq!(
        (&store["status"], &store["operation"]),
        (&json!("ready"), &Value::Null),
        "{store}"
    );
    let summary = &store["backup"];
    assert_eq!(
        at(&summary["last_succeeded_at"]),
        at(&backup["finished_at"]),
        "{store}"
    );
    assert!(summary["warning"].is_null(), "{store}");
    assert_eq!(summary["schedule"], "24 h", "{store}");
    assert!(summary["next_scheduled_at"].is_string(), "{store}");
    // The Job has served: it is removed, its Secret is kept for the next backup.
    wait_jobs_removed(&sim, namespace);
    assert_eq!(repository_key(&sim, namespace).len(), 48);
}

/// With `backups: {schedule: 5s}` and a 1 s tick, scheduled backups come by themselves,
/// by `system:scheduler`, one interval apart and never more often.
#[test]
fn scheduled_backups_come_by_themselves_one_interval_apart() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "5s");
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--backup-tick", "1"],
    );
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    assert_eq!(store["backup"]["schedule"], "5 s", "{store}");

    let started = Instant::now();
    let scheduled = loop {
        let backups = api.backups(id);
        let succeeded: Vec<Value> = backups
            .iter()
            .filter(|b| b["status"] == "succeeded")
            .cloned()
            .collect();
        if succeeded.len() >= 2 {
            break succeeded;
        }
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "two scheduled backups not taken within 45 s: {backups:#?}\n{}",
            api.timeline(id)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut backups = api.backups(id);
    backups.reverse();
    assert!(
        backups.iter().all(|b| b["status"] != "failed"),
        "{backups:#?}"
    );
    for backup in &backups {
        assert_eq!(
            (&backup["kind"], &backup["actor"], &backup["reason"]),
            (
                &json!("scheduled"),
                &json!("system:scheduler"),
                &json!("every 5 s")
            ),
            "{backup}"
        );
    }
    let created: Vec<DateTime<Utc>> = backups.iter().map(|b| at(&b["created_at"])).collect();
    let store_created = at(&store["created_at"]);
    let first = (created[0] - store_created).num_milliseconds();
    assert!(
        first >= 4_900,
        "the first scheduled backup came {first} ms after the store was created, before its interval"
    );
    for pair in created.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!(
            gap >= 4_900,
            "scheduled backups {gap} ms apart, more often than every 5 s: {created:?}"
        );
        assert!(
            gap < 15_000,
            "scheduled backups {gap} ms apart, an interval skipped: {created:?}"
        );
    }

    let events = api.events(id);
    for backup in &scheduled {
        let backup_id = backup["id"].as_str().unwrap();
        let steps = steps_of(&events, backup_id);
        let told: Vec<(&str, &str)> = steps
            .iter()
            .map(|e| {
                (
                    e["detail"]["status"].as_str().unwrap(),
                    e["message"].as_str().unwrap(),
                )
            })
            .collect();
        let snapshot = backup["snapshot"].as_str().unwrap();
        assert_eq!(
            told.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            ["requested", "running", "succeeded"],
            "{}",
            lines(&events)
        );
        assert_eq!(told[0].1, "scheduled backup requested: every 5 s");
        assert_eq!(steps[0]["actor"], "system:scheduler", "{}", steps[0]);
        assert_eq!(told[1].1, "taking a scheduled backup");
        assert!(is_taken(told[2].1, snapshot), "{}", told[2].1);
    }
    let store = api.store(id);
    let last = created.last().unwrap();
    let next = at(&store["backup"]["next_scheduled_at"]);
    assert!(
        next >= *last + chrono::Duration::milliseconds(4_900),
        "the next is one interval after the last: {store}"
    );
    assert!(store["backup"]["warning"].is_null(), "{store}");
}

/// While a backup runs (or waits for a worker), another backup, a change, a rollback and
/// a password reset are refused with 409 `backup_in_progress`, and record nothing; a
/// backup while a revision or a reset is in flight is refused in turn.
#[test]
fn operations_on_a_store_whose_backup_is_active_are_refused_and_a_backup_waits_for_them() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
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

    // A backup held running: its pod never pulls restic's image.
    hold_backups(&sim);
    let backup = api.requested_backup(id);
    let backup_id = backup["id"].as_str().unwrap();
    wait_for_job(&sim, namespace, backup_id);
    api.wait_backup(id, backup_id, "running", Duration::from_secs(10));
    let store = api.store(id);
    assert_eq!(store["status"], "ready", "the store keeps serving: {store}");
    assert_eq!(
        (
            &store["operation"]["kind"],
            &store["operation"]["description"]
        ),
        (&json!("backup"), &json!("taking a manual backup")),
        "{store}"
    );
    let events_before = api.events(id).len();

    assert_refused(
        &api.back_up(id, Some("again")),
        "backup_in_progress",
        "a second backup",
    );
    assert_refused(
        &api.request(
            reqwest::Method::PATCH,
            &format!("/stores/{id}"),
            Some(json!({"title": "Acme Two"})),
        ),
        "backup_in_progress",
        "a change",
    );
    assert_refused(
        &api.request(
            reqwest::Method::PATCH,
            &format!("/stores/{id}"),
            Some(json!({"plan": "medium"})),
        ),
        "backup_in_progress",
        "a bigger plan",
    );
    assert_refused(
        &api.request(
            reqwest::Method::POST,
            &format!("/stores/{id}/rollback"),
            Some(json!({"revision": 1})),
        ),
        "backup_in_progress",
        "a rollback",
    );
    assert_refused(
        &api.request(
            reqwest::Method::POST,
            &format!("/stores/{id}/credentials/reset"),
            None,
        ),
        "backup_in_progress",
        "a password reset",
    );
    let revisions = api.request(
        reqwest::Method::GET,
        &format!("/stores/{id}/revisions"),
        None,
    );
    assert_eq!(
        revisions.body["items"].as_array().map(Vec::len),
        Some(1),
        "the refusals recorded no revision: {}",
        revisions.body
    );
    assert_eq!(
        api.events(id).len(),
        events_before,
        "the refusals wrote events:\n{}",
        api.timeline(id)
    );
    assert_eq!(api.backups(id).len(), 1, "one backup");
    assert_eq!(api.store(id)["operation"]["kind"], "backup");

    lift_faults(&sim);
    api.wait_backup(id, backup_id, "succeeded", Duration::from_secs(30));
    api.wait_settled(id, Duration::from_secs(10));

    // A revision held applying: no new pod of the store's comes up.
    hold_namespace(&sim, namespace);
    let change = api.request(
        reqwest::Method::PATCH,
        &format!("/stores/{id}"),
        Some(json!({"plan": "medium"})),
    );
    assert_eq!(change.status, 202, "{}", change.text);
    api.wait_revision(id, 2, "applying", Duration::from_secs(30));
    assert_refused(
        &api.back_up(id, None),
        "revision_in_flight",
        "a backup while revision 2 is applied",
    );
    lift_faults(&sim);
    api.wait_revision(id, 2, "deployed", Duration::from_secs(60));
    api.wait_settled(id, Duration::from_secs(30));

    // A password reset held: its Job's pod does not come up.
    hold_namespace(&sim, namespace);
    let reset = api.request(
        reqwest::Method::POST,
        &format!("/stores/{id}/credentials/reset"),
        None,
    );
    assert_eq!(reset.status, 202, "{}", reset.text);
    assert_refused(
        &api.back_up(id, None),
        "password_reset_in_progress",
        "a backup while the password is reset",
    );
    lift_faults(&sim);
    api.wait_settled(id, Duration::from_secs(60));

    // Nothing in progress: a backup goes through, at the revision now deployed.
    assert_eq!(api.backups(id).len(), 1, "the refused backups left no row");
    let backup = api.requested_backup(id);
    assert_eq!(backup["revision"], 2, "{backup}");
    let backup_id = backup["id"].as_str().unwrap();
    api.wait_backup(id, backup_id, "succeeded", Duration::from_secs(30));
}

/// The repository key is in the store's Secret `backup-key` and nowhere else: not in the
/// backup Job (it comes by secretKeyRef), nor in any other object, event, timeline event,
/// metadata row, log line or process argument. The Secret is created once: the second
/// backup uses the same key.
#[test]
fn the_repository_key_reaches_nothing_but_its_secret() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    // Debug logs, what an operator turns on to look into a failing backup.
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--log", "debug"],
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

    // Held running, so the Job can be read before it is removed.
    hold_backups(&sim);
    let backup = api.requested_backup(id);
    let backup_id = backup["id"].as_str().unwrap();
    let job = wait_for_job(&sim, namespace, backup_id);
    let key = repository_key(&sim, namespace);
    assert_eq!(key.len(), 48, "the key is the worker's: 48 characters");
    let objects = every_object_but_secrets(&sim);
    let commands = command_lines_of_children();
    assert!(
        commands
            .iter()
            .any(|c| c.contains(" serve ") && c.contains(tmp.path().to_str().unwrap())),
        "the server is among the processes looked at: {commands:#?}"
    );

    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    let restic = containers
        .iter()
        .find(|c| c["name"] == "restic")
        .unwrap_or_else(|| panic!("no restic container: {job:#}"));
    let password = restic["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "RESTIC_PASSWORD")
        .unwrap_or_else(|| panic!("restic is given no password: {restic:#}"));
    assert!(password.get("value").is_none(), "{password}");
    let reference = &password["valueFrom"]["secretKeyRef"];
    assert_eq!(
        (&reference["name"], &reference["key"]),
        (&json!("backup-key"), &json!("restic-password")),
        "{password}"
    );

    lift_faults(&sim);
    api.wait_backup(id, backup_id, "succeeded", Duration::from_secs(30));
    api.wait_settled(id, Duration::from_secs(10));
    let second = api.requested_backup(id);
    api.wait_backup(
        id,
        second["id"].as_str().unwrap(),
        "succeeded",
        Duration::from_secs(30),
    );
    assert_eq!(
        repository_key(&sim, namespace),
        key,
        "the key Secret is created once: every backup can be read with it"
    );

    let timeline = api
        .request(
            reqwest::Method::GET,
            &format!("/stores/{id}/events?limit=200"),
            None,
        )
        .text;
    assert!(timeline.contains("taking a manual backup"), "{timeline}");
    let listed = api
        .request(reqwest::Method::GET, &format!("/stores/{id}/backups"), None)
        .text;
    let shown = api
        .request(reqwest::Method::GET, &format!("/stores/{id}"), None)
        .text;
    let objects_after = every_object_but_secrets(&sim);
    let database = database_bytes(tmp.path());
    // The server runs the workers: their log lines are its.
    let logs = server.logs.try_iter().collect::<Vec<_>>().join("\n");
    assert!(
        logs.contains(id),
        "the server logged its work on the store:\n{logs}"
    );
    assert_nowhere(
        &key,
        &[
            ("the backup Job", &job.to_string()),
            ("the cluster's objects", &objects),
            ("the cluster's objects after the backups", &objects_after),
            ("the timeline", &timeline),
            ("the backup list", &listed),
            ("the store view", &shown),
            ("the metadata store", &database),
            ("the server's log", &logs),
            ("a process's arguments", &commands.join("\n")),
        ],
    );
}

/// A deleted store's backups stay listed, expiring 30 days after the deletion, and the
/// timeline says how long they are kept.
#[test]
fn a_deleted_stores_backups_are_kept_for_30_days() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let server = serve(&sim, tmp.path(), &[]);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    for _ in 0..2 {
        let backup = api.requested_backup(id);
        api.wait_backup(
            id,
            backup["id"].as_str().unwrap(),
            "succeeded",
            Duration::from_secs(30),
        );
        api.wait_settled(id, Duration::from_secs(10));
    }

    let before = Utc::now();
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["delete", "acme", "--wait", "--timeout", "60"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let after = Utc::now();
    let store = api.store(id);
    assert_eq!(store["status"], "deleted", "{store}");

    let backups = api.request(reqwest::Method::GET, &format!("/stores/{id}/backups"), None);
    assert_eq!(
        backups.status, 200,
        "a deleted store's backups are listed: {}",
        backups.text
    );
    let items = backups.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{:#}", backups.body);
    let thirty_days = chrono::Duration::days(30);
    for backup in items {
        assert_eq!(backup["status"], "succeeded", "{backup}");
        let expires = at(&backup["expires_at"]);
        assert!(
            expires >= before + thirty_days - chrono::Duration::seconds(1)
                && expires <= after + thirty_days + chrono::Duration::seconds(1),
            "expires {expires}, 30 days after the deletion ({before} to {after}): {backup}"
        );
    }
    let events = api.events(id);
    let kept = position(&events, "backups kept", |e| {
        e["message"] == "2 backups kept for 30 days, restorable as a new store until then"
    });
    let deleting = position(&events, "deletion", |e| {
        e["message"].as_str().is_some_and(|m| m.contains("delet"))
    });
    assert!(deleting < kept, "{}", lines(&events));
    assert!(
        store["backup"]["schedule"].is_null() && store["backup"]["warning"].is_null(),
        "a deleted store has no schedule to keep: {store}"
    );
    let (code, listed, stderr) = store_command(&server, &alice, &["backups", "acme"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        listed.lines().filter(|l| l.contains("succeeded")).count(),
        2,
        "{listed}"
    );
}

/// `kill -9` of the server while a backup waits for a worker, and while its Job runs: the
/// server started again on the same data takes it to succeeded, with the same Job and
/// one outcome.
#[test]
fn a_backup_pending_or_running_when_the_server_is_killed_converges_to_succeeded() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    let flags = ["--platform-config", config.as_str(), "--lease-ttl", "3"];
    let server = serve(&sim, tmp.path(), &flags);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap().to_owned();
    let namespace = store["namespace"].as_str().unwrap().to_owned();
    assert!(server.terminate().success());

    // Pending: requested from a server that runs no worker, then killed.
    let server = serve(
        &sim,
        tmp.path(),
        &[&flags[..], &["--workers", "0"]].concat(),
    );
    let api = Api::new(&server, &alice);
    let pending = api.requested_backup(&id);
    let pending_id = pending["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(api.backup(&id, &pending_id)["status"], "pending");
    assert_eq!(
        api.store(&id)["operation"]["kind"],
        "backup",
        "a pending backup is in progress"
    );
    assert_refused(
        &api.request(
            reqwest::Method::PATCH,
            &format!("/stores/{id}"),
            Some(json!({"title": "Acme Two"})),
        ),
        "backup_in_progress",
        "a change while a backup is pending",
    );
    // Dropping the server kills it with SIGKILL: no shutdown.
    drop(server);
    let server = serve(&sim, tmp.path(), &flags);
    let api = Api::new(&server, &alice);
    let taken = api.wait_backup(&id, &pending_id, "succeeded", Duration::from_secs(60));
    assert_eq!(taken["size_bytes"], 20_761_421, "{taken}");
    api.wait_settled(&id, Duration::from_secs(30));
    let key = repository_key(&sim, &namespace);

    // Running: its Job held, the server killed while it waits on it.
    hold_backups(&sim);
    let running = api.requested_backup(&id);
    let running_id = running["id"].as_str().unwrap().to_owned();
    let job = wait_for_job(&sim, &namespace, &running_id);
    api.wait_backup(&id, &running_id, "running", Duration::from_secs(10));
    drop(server);
    let server = serve(&sim, tmp.path(), &flags);
    let api = Api::new(&server, &alice);
    // Past the dead server's lease, the new one takes the store over and waits on.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(api.backup(&id, &running_id)["status"], "running");
    let jobs = backup_jobs(&sim, &namespace);
    assert_eq!(
        jobs.iter()
            .map(|j| (j["metadata"]["name"].clone(), j["metadata"]["uid"].clone()))
            .collect::<Vec<_>>(),
        [(
            job["metadata"]["name"].clone(),
            job["metadata"]["uid"].clone()
        )],
        "the same Job, not another"
    );
    lift_faults(&sim);
    let taken = api.wait_backup(&id, &running_id, "succeeded", Duration::from_secs(60));
    assert!(taken["snapshot"].is_string(), "{taken}");
    api.wait_settled(&id, Duration::from_secs(30));
    wait_jobs_removed(&sim, &namespace);

    let backups = api.backups(&id);
    assert_eq!(
        backups
            .iter()
            .map(|b| b["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["succeeded", "succeeded"],
        "{backups:#?}"
    );
    let events = api.events(&id);
    for backup in [&pending_id, &running_id] {
        let steps: Vec<&str> = steps_of(&events, backup)
            .iter()
            .map(|e| e["detail"]["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            ["requested", "running", "succeeded"],
            "each step once:\n{}",
            lines(&events)
        );
    }
    assert_eq!(
        repository_key(&sim, &namespace),
        key,
        "the restarted worker kept the key"
    );
}

/// `storeplane store restore acme --backup ID --yes --wait`: a checkpoint first, then the
/// maintenance page up and the store's own pods stopped while the restore Job runs, the
/// pods back and the page gone, the backup restored, the upgrade step, revision 2
/// deployed with `restores_backup`; a plain rollback is refused naming the restore, and
/// `--restore-checkpoint` goes back to the data before it.
#[test]
fn a_restore_from_the_command_line_runs_behind_the_maintenance_page_and_rolls_back_by_its_checkpoint()
 {
    // Each pod comes up 300 ms after it is made: the restore's pod cannot start before
    // the hold that follows the checkpoint backup.
    let sim = Sim::start_with(&["--ready-delay", "300"]);
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
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
    let backup = api.taken_backup(id);
    assert_eq!(replicas(&sim, namespace, "wordpress"), 1);
    assert!(object(&sim, "deployments", namespace, "maintenance-page").is_none());

    let (code, stdout, stderr) = std::thread::scope(|scope| {
        let restore = scope.spawn(|| {
            store_command_at(
                &server.base,
                &alice,
                &[
                    "restore",
                    "acme",
                    "--backup",
                    &backup,
                    "--yes",
                    "--reason",
                    "the plugin update broke checkout",
                    "--wait",
                    "--timeout",
                    "120",
                ],
            )
        });
        api.hold_restore_after_checkpoint(&sim, id, 2);
        let job = wait_for_named_job(&sim, namespace, "restore-backup-r2");
        api.wait_event(
            id,
            0,
            "the store is in maintenance",
            Duration::from_secs(30),
        );
        assert!(
            job["status"]["succeeded"].as_i64().unwrap_or(0) == 0,
            "the restore Job is held: {job}"
        );

        // In maintenance: the store's own pods stopped, the page serving in their place.
        assert_eq!(
            replicas(&sim, namespace, "wordpress"),
            0,
            "WordPress is stopped while its data is replaced"
        );
        let page = object(&sim, "deployments", namespace, "maintenance-page")
            .unwrap_or_else(|| panic!("no maintenance page:\n{}", api.timeline(id)));
        let labels = &page["spec"]["template"]["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/component"], "web",
            "the page's pods are the web component's: {page:#}"
        );
        let services = objects(&sim, "services", namespace);
        let web = services
            .iter()
            .find(|s| s["spec"]["selector"]["app.kubernetes.io/component"] == "web")
            .unwrap_or_else(|| panic!("no web Service: {services:#?}"));
        for (key, value) in web["spec"]["selector"].as_object().unwrap() {
            assert_eq!(
                &labels[key], value,
                "the web Service selects the page's pods ({key}): {web:#}\n{page:#}"
            );
        }
        assert_eq!(api.store(id)["status"], "ready", "the store stays ready");
        api.wait_revision(id, 2, "applying", Duration::from_secs(1));

        lift_faults(&sim);
        restore.join().unwrap()
    });
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("revision 2 of store acme is deployed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("every order, customer and upload written since it was taken is lost"),
        "the CLI says what the restore replaces: {stderr}"
    );

    let events = api.events(id);
    let short = short(&backup);
    let order = [
        &format!("revision 2 recorded: restore backup {short} "),
        "taking a checkpoint before revision 2",
        "checkpoint taken before revision 2",
        &format!("restoring backup {short} into the store"),
        &format!("Deployment {namespace}/maintenance-page created"),
        "the store is in maintenance",
        &format!("Job {namespace}/restore-backup-r2 created"),
        "maintenance over",
        &format!("backup {short} restored"),
        "running the upgrade step of revision 2",
        &format!("Job {namespace}/upgrade-r2 created"),
        "upgrade step of revision 2 done",
        "revision 2 deployed",
    ];
    let positions: Vec<usize> = order.iter().map(|m| first(&events, m)).collect();
    assert!(
        positions.windows(2).all(|p| p[0] < p[1]),
        "in the order {order:#?}:\n{}",
        lines(&events)
    );
    for once in &order[1..] {
        assert_eq!(
            told(&events, once).len(),
            1,
            "{once:?} once:\n{}",
            lines(&events)
        );
    }

    assert_eq!(
        replicas(&sim, namespace, "wordpress"),
        1,
        "WordPress is back"
    );
    assert!(
        object(&sim, "deployments", namespace, "maintenance-page").is_none(),
        "the maintenance page is gone"
    );
    let store = api.wait_settled(id, Duration::from_secs(10));
    assert_eq!(store["revision"], 2, "{store}");
    let revision = api.wait_revision(id, 2, "deployed", Duration::from_secs(1));
    assert_eq!(revision["restores_backup"], backup.as_str(), "{revision}");
    assert_eq!(revision["migrates_data"], true, "{revision}");
    assert!(revision["checkpoint"].is_object(), "{revision}");

    let (code, stdout, stderr) = store_command(&server, &alice, &["rollback", "acme", "--yes"]);
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains("revision 2 restored a backup") && stderr.contains("--restore-checkpoint"),
        "the refusal names the restore and the way back: {stderr}"
    );
    let reply = api.request(
        reqwest::Method::POST,
        &format!("/stores/{id}/rollback"),
        Some(json!({})),
    );
    assert_refused(&reply, "would_lose_data", "a plain rollback of the restore");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("revision 2 restored a backup"),
        "{}",
        reply.text
    );
    assert_eq!(api.revisions(id).len(), 2, "the refusal recorded nothing");

    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &[
            "rollback",
            "acme",
            "--restore-checkpoint",
            "--yes",
            "--wait",
            "--timeout",
            "120",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let store = api.wait_settled(id, Duration::from_secs(30));
    assert_eq!(store["revision"], 3, "{store}");
    let back = api.wait_revision(id, 3, "deployed", Duration::from_secs(1));
    assert_eq!(
        (&back["rollback_of"], &back["restores"]),
        (&json!(1), &json!(2)),
        "back to revision 1 with the checkpoint taken before the restore: {back}"
    );
    let events = api.events(id);
    first(&events, "restoring the checkpoint taken before revision 2");
    first(&events, "checkpoint of revision 2 restored");
    assert_eq!(replicas(&sim, namespace, "wordpress"), 1);
}

/// `kill -9` of the server while a restore's Job runs behind the maintenance page: the
/// server started again on the same data carries the restore on from where the store is,
/// with the same Job (no second restore), no second checkpoint, and takes the revision to
/// deployed with the store's pods back and the page gone.
///
/// The new pass goes through the restore's steps again, each idempotent: it announces the
/// restore and puts the store in maintenance once more (the page is already up, the pods
/// already stopped), then waits on the Job that was there. So after the restart the
/// timeline tells the maintenance once, and the end of it and the restored backup only
/// then: once each in all.
#[test]
fn a_restore_running_when_the_server_is_killed_converges_with_the_same_job() {
    let sim = Sim::start_with(&["--ready-delay", "300"]);
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    let flags = ["--platform-config", config.as_str(), "--lease-ttl", "3"];
    let server = serve(&sim, tmp.path(), &flags);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap().to_owned();
    let namespace = store["namespace"].as_str().unwrap().to_owned();
    let backup = api.taken_backup(&id);
    let short = short(&backup);

    let reply = api.restore(&id, &backup);
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(
        (&reply.body["revision"]["number"], &reply.body["data_loss"]),
        (&json!(2), &json!(true)),
        "{}",
        reply.text
    );
    api.hold_restore_after_checkpoint(&sim, &id, 2);
    let job = wait_for_named_job(&sim, &namespace, "restore-backup-r2");
    api.wait_event(
        &id,
        0,
        "the store is in maintenance",
        Duration::from_secs(30),
    );
    assert_eq!(replicas(&sim, &namespace, "wordpress"), 0);
    let before = api.events(&id).len();
    // Dropping the server kills it with SIGKILL: no shutdown, the maintenance left on.
    drop(server);

    let server = serve(&sim, tmp.path(), &flags);
    let api = Api::new(&server, &alice);
    // Past the dead server's lease, the new one takes the store over and waits on the Job.
    let events = api.wait_event(
        &id,
        before,
        "the store is in maintenance",
        Duration::from_secs(30),
    );
    assert_eq!(
        api.wait_revision(&id, 2, "applying", Duration::from_secs(1))["status"],
        "applying"
    );
    assert_eq!(replicas(&sim, &namespace, "wordpress"), 0, "still stopped");
    assert!(object(&sim, "deployments", &namespace, "maintenance-page").is_some());
    assert!(
        told(&events[before..], &format!("backup {short} restored")).is_empty(),
        "{}",
        lines(&events)
    );

    lift_faults(&sim);
    api.wait_revision(&id, 2, "deployed", Duration::from_secs(60));
    let store = api.wait_settled(&id, Duration::from_secs(30));
    assert_eq!(store["revision"], 2, "{store}");
    let now = object(&sim, "jobs", &namespace, "restore-backup-r2")
        .unwrap_or_else(|| panic!("the restore Job is gone"));
    assert_eq!(
        now["metadata"]["uid"], job["metadata"]["uid"],
        "the same restore Job, not another"
    );
    assert_eq!(
        now["status"]["succeeded"], 1,
        "it ran to the end once: {now}"
    );
    assert_eq!(
        replicas(&sim, &namespace, "wordpress"),
        1,
        "WordPress is back"
    );
    assert!(
        object(&sim, "deployments", &namespace, "maintenance-page").is_none(),
        "the maintenance page is gone"
    );

    let events = api.events(&id);
    let after = &events[before..];
    for (message, in_all, since_restart) in [
        ("taking a checkpoint before revision 2", 1, 0),
        ("checkpoint backup requested", 1, 0),
        (
            &format!("restoring backup {short} into the store") as &str,
            2,
            1,
        ),
        ("the store is in maintenance", 2, 1),
        ("maintenance over", 1, 1),
        (&format!("backup {short} restored"), 1, 1),
        ("running the upgrade step of revision 2", 1, 1),
        ("revision 2 deployed", 1, 1),
    ] {
        assert_eq!(
            (told(&events, message).len(), told(after, message).len()),
            (in_all, since_restart),
            "{message:?} {in_all} time(s) in all, {since_restart} since the restart:\n{}",
            lines(&events)
        );
    }
    let maintenance = first(&events[before..], "the store is in maintenance");
    let over = first(&events[before..], "maintenance over");
    let restored = first(&events[before..], &format!("backup {short} restored"));
    assert!(maintenance < over && over < restored, "{}", lines(&events));
    let backups = api.backups(&id);
    assert_eq!(
        backups
            .iter()
            .map(|b| (b["kind"].as_str().unwrap(), b["status"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("checkpoint", "succeeded"), ("manual", "succeeded")],
        "one checkpoint backup, not a second: {backups:#?}"
    );
}

/// Asserts a refusal: `status` with `code`.
fn assert_refused_with(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (status, Some(code)),
        "{what}: {}",
        reply.text
    );
}

/// What a restore in place and a store made from a backup refuse, and that a refused
/// request records nothing: no revision, no store, no event, no backup. In place: a backup
/// that failed (409 `backup_not_restorable`), another store's (409
/// `backup_of_another_store`), none (404), while a backup runs (409 `backup_in_progress`)
/// or a revision is applied (409 `operation_in_progress`). As a new store: a backup that is
/// none of the user's (`unknown_backup`), failed (409 `backup_not_restorable`), expired
/// with its purged store (409 `backup_expired`), of another engine (`engine_mismatch`).
#[test]
fn restores_and_copies_of_backups_that_cannot_be_restored_are_refused_and_record_nothing() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    // No purge before the test has looked at an expired backup.
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--backup-tick", "3600"],
    );
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let api = Api::new(&server, &token(&data, "alice", false));
    let bob = Api::new(&server, &token(&data, "bob", false));
    let admin = Api::new(&server, &token(&data, "root", true));
    let acme = api.ready_store("acme");
    let acme_id = acme["id"].as_str().unwrap();
    let acme_namespace = acme["namespace"].as_str().unwrap();
    let globex = api.ready_store("globex");
    let globex_id = globex["id"].as_str().unwrap();
    let initech = bob.ready_store("initech");
    let initech_id = initech["id"].as_str().unwrap();
    let good = api.taken_backup(acme_id);
    let of_globex = api.taken_backup(globex_id);
    let of_bob = bob.taken_backup(initech_id);
    // A backup whose Job fails.
    sim.set_faults(&json!({"failingJobs": [format!("{acme_namespace}/*")]}));
    let failed = api.requested_backup(acme_id);
    let failed = failed["id"].as_str().unwrap().to_owned();
    api.wait_backup(acme_id, &failed, "failed", Duration::from_secs(30));
    lift_faults(&sim);
    api.wait_settled(acme_id, Duration::from_secs(10));
    // globex deleted and its backups purged: expired now, their rows kept until the tick.
    api.delete_store(globex_id);
    let purge = admin.request(
        reqwest::Method::DELETE,
        &format!("/stores/{globex_id}/backups"),
        None,
    );
    assert_eq!(purge.status, 202, "{}", purge.text);
    assert_eq!(api.backup(globex_id, &of_globex)["status"], "succeeded");

    let ids = [acme_id, globex_id];
    let before = api.recorded(&ids);
    let unknown = "01a2b3c4-0000-7000-8000-000000000000";
    for (backup, status, code, what) in [
        (
            failed.as_str(),
            409,
            "backup_not_restorable",
            "a backup that failed",
        ),
        (
            of_globex.as_str(),
            409,
            "backup_of_another_store",
            "another store's backup",
        ),
        (unknown, 404, "not_found", "a backup that does not exist"),
    ] {
        assert_refused_with(
            &api.restore(acme_id, backup),
            status,
            code,
            &format!("restoring {what} in place"),
        );
    }
    for (name, engine, backup, status, code, field, what) in [
        (
            "copy-one",
            "woocommerce",
            unknown,
            404,
            "unknown_backup",
            Some("from_backup"),
            "a backup that does not exist",
        ),
        (
            "copy-two",
            "woocommerce",
            of_bob.as_str(),
            404,
            "unknown_backup",
            Some("from_backup"),
            "another user's backup",
        ),
        (
            "copy-three",
            "woocommerce",
            failed.as_str(),
            409,
            "backup_not_restorable",
            None,
            "a backup that failed",
        ),
        (
            "copy-four",
            "woocommerce",
            of_globex.as_str(),
            409,
            "backup_expired",
            None,
            "an expired backup",
        ),
        (
            "copy-five",
            "medusa",
            good.as_str(),
            409,
            "engine_mismatch",
            Some("engine"),
            "a WooCommerce backup as a Medusa store",
        ),
    ] {
        let reply = api.create_from(name, engine, backup);
        let what = format!("a new store from {what}");
        assert_refused_with(&reply, status, code, &what);
        assert_eq!(
            reply.body["error"]["field"].as_str(),
            field,
            "{what}: {}",
            reply.text
        );
    }
    assert_eq!(api.recorded(&ids), before, "the refusals recorded nothing");
    assert_eq!(bob.backups(initech_id).len(), 1, "bob's store is untouched");

    // A backup running: a restore waits for it.
    hold_backups(&sim);
    let running = api.requested_backup(acme_id);
    let running = running["id"].as_str().unwrap().to_owned();
    api.wait_backup(acme_id, &running, "running", Duration::from_secs(10));
    let before = api.recorded(&[acme_id]);
    assert_refused_with(
        &api.restore(acme_id, &good),
        409,
        "backup_in_progress",
        "a restore while a backup runs",
    );
    assert_eq!(api.recorded(&[acme_id]), before, "recorded nothing");
    lift_faults(&sim);
    api.wait_backup(acme_id, &running, "succeeded", Duration::from_secs(30));
    api.wait_settled(acme_id, Duration::from_secs(10));

    // A revision being applied: a restore waits for it.
    hold_namespace(&sim, acme_namespace);
    let change = api.request(
        reqwest::Method::PATCH,
        &format!("/stores/{acme_id}"),
        Some(json!({"plan": "medium"})),
    );
    assert_eq!(change.status, 202, "{}", change.text);
    api.wait_revision(acme_id, 2, "applying", Duration::from_secs(30));
    let before = api.recorded(&[acme_id]);
    assert_refused_with(
        &api.restore(acme_id, &good),
        409,
        "operation_in_progress",
        "a restore while revision 2 is applied",
    );
    assert_eq!(api.recorded(&[acme_id]), before, "recorded nothing");
    lift_faults(&sim);
    api.wait_revision(acme_id, 2, "deployed", Duration::from_secs(60));
    api.wait_settled(acme_id, Duration::from_secs(30));

    // Nothing in the way: the same backup is restored.
    let restore = api.restore(acme_id, &good);
    assert_eq!(restore.status, 202, "{}", restore.text);
    assert_eq!(restore.body["revision"]["number"], 3, "{}", restore.text);
    api.wait_revision(acme_id, 3, "deployed", Duration::from_secs(60));
}

/// `storeplane store create NAME --from-backup ID --wait`, and the store's id, namespace
/// and URL.
fn copy_from_the_command_line(
    server: &Server,
    token: &str,
    name: &str,
    backup: &str,
) -> (String, String, String) {
    let (code, stdout, stderr) = store_command(
        server,
        token,
        &[
            "create",
            name,
            "--from-backup",
            backup,
            "--wait",
            "--timeout",
            "120",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("store {name} is ready at")),
        "{stdout}"
    );
    let (code, shown, stderr) = store_command(server, token, &["get", name, "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let store: Value = serde_json::from_str(&shown).unwrap();
    let field = |f: &str| store[f].as_str().unwrap().to_owned();
    (field("id"), field("namespace"), field("url"))
}

/// The env var `name` of the first container of Job `job`'s pods.
fn job_env(job: &Value, name: &str) -> String {
    job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .and_then(|v| v["value"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {job:#}"))
        .to_owned()
}

/// A store made from a backup, from the command line: ready at its own URL (the
/// source's rewritten to it), with its own repository key (the source's only in its
/// `restore-key`), its own credentials, and the timeline saying whose data it holds. After
/// the source is deleted, the same backup makes another copy, with a key of its own again.
#[test]
fn a_backup_restored_as_new_stores_before_and_after_its_store_is_deleted_gives_each_its_own_url_and_keys()
 {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    let server = serve(&sim, tmp.path(), &["--platform-config", &config]);
    let alice = token(
        &["--data-dir", tmp.path().to_str().unwrap()],
        "alice",
        false,
    );
    let api = Api::new(&server, &alice);
    let source = api.ready_store("acme");
    let source_id = source["id"].as_str().unwrap().to_owned();
    let source_url = source["url"].as_str().unwrap().to_owned();
    let (code, revealed, stderr) =
        store_command(&server, &alice, &["reveal", "acme", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let source_password = serde_json::from_str::<Value>(&revealed).unwrap()["password"].clone();
    let backup = api.taken_backup(&source_id);
    let short = short(&backup);
    let source_key = repository_key(&sim, source["namespace"].as_str().unwrap());
    assert_eq!(
        restic_password(&sim, "storeplane", &key_secret(&source_id)),
        source_key,
        "the source's key, kept in the keys namespace"
    );

    let mut keys = vec![source_key.clone()];
    for (name, after_delete) in [("acme-copy", false), ("acme-again", true)] {
        if after_delete {
            let (code, stdout, stderr) = store_command(
                &server,
                &alice,
                &["delete", "acme", "--wait", "--timeout", "60"],
            );
            assert_eq!(code, 0, "{stdout}\n{stderr}");
            assert_eq!(api.store(&source_id)["status"], "deleted");
            let kept = api.backup(&source_id, &backup);
            assert!(kept["expires_at"].is_string(), "{kept}");
        }
        let (id, namespace, url) = copy_from_the_command_line(&server, &alice, name, &backup);
        let store = api.wait_settled(&id, Duration::from_secs(10));
        assert_eq!(
            (&store["revision"], &store["engine"]),
            (&json!(1), &json!("woocommerce")),
            "{store}"
        );
        assert_eq!(url, format!("http://{name}.127.0.0.1.nip.io"), "{store}");
        assert_ne!(url, source_url);

        // Its own key, in its namespace and in the keys namespace; the source's key only
        // to read the source's repository.
        let own = repository_key(&sim, &namespace);
        assert_eq!(own.len(), 48);
        assert!(!keys.contains(&own), "{name} has a key of its own");
        assert_eq!(
            restic_password(&sim, "storeplane", &key_secret(&id)),
            own,
            "{name}'s key is kept in the keys namespace"
        );
        // The source's key read the source's repository, and left with the restore.
        let secrets = sim.kubectl(&["get", "secrets", "-n", &namespace, "-o", "name"], None);
        assert!(
            !secrets.contains("secret/restore-key"),
            "{name} keeps no key of the source's: {secrets}"
        );
        assert_ne!(own, source_key);
        keys.push(own);

        // The data restored, the upgrade step, the source's address rewritten to its own,
        // its own admin password.
        for job in [
            "restore-backup-r1",
            "upgrade-r1",
            "rehome-r1",
            "reset-admin-password-g0",
        ] {
            let found = object(&sim, "jobs", &namespace, job)
                .unwrap_or_else(|| panic!("no Job {job} in {name}:\n{}", api.timeline(&id)));
            assert_eq!(found["status"]["succeeded"], 1, "{found:#}");
        }
        let rehome = object(&sim, "jobs", &namespace, "rehome-r1").unwrap();
        assert_eq!(
            (job_env(&rehome, "FROM_URL"), job_env(&rehome, "STORE_URL")),
            (source_url.clone(), url.clone()),
            "the source's URLs rewritten to the copy's"
        );
        let events = api.events(&id);
        let created = first(
            &events,
            &format!(
                "store {name} created from backup {short}; its first provisioning restores it"
            ),
        );
        let restored = first(&events, &format!("backup {short} restored"));
        let holds = first(
            &events,
            &format!(
                "store {name} holds the data of backup {short} of store acme, at its own address and with its own credentials"
            ),
        );
        let ready = first(&events, &format!("ready at {url}"));
        assert!(
            created < restored && restored < holds && holds < ready,
            "{}",
            lines(&events)
        );

        let (code, revealed, stderr) =
            store_command(&server, &alice, &["reveal", name, "--output", "json"]);
        assert_eq!(code, 0, "{stderr}");
        let credentials: Value = serde_json::from_str(&revealed).unwrap();
        assert!(
            credentials["password"]
                .as_str()
                .is_some_and(|p| p.len() >= 16),
            "{name}'s credentials are revealed: {credentials}"
        );
        assert_ne!(
            credentials["password"], source_password,
            "{name} has its own admin password"
        );
        assert_eq!(
            credentials["admin_url"],
            format!("{url}/wp-admin/").as_str(),
            "{credentials}"
        );
    }
    for name in ["acme-copy", "acme-again"] {
        let (code, shown, stderr) = store_command(&server, &alice, &["get", name]);
        assert_eq!(code, 0, "{stderr}");
        assert!(shown.contains("ready"), "both copies are ready: {shown}");
    }
}

/// The names of the Secrets in the keys namespace (`storeplane`).
fn key_secrets(sim: &Sim) -> Vec<String> {
    objects(sim, "secrets", "storeplane")
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// An admin purges a deleted store's backups (`DELETE /stores/{id}/backups`); anyone else
/// is refused with 403, and a live store's backups with 409 `not_deleted`. The next tick
/// deletes the store's key from the keys namespace, then the rows, and tells it on the
/// timeline; the purged backup can no longer make a new store. Another store's key stays.
#[test]
fn an_admin_purges_a_deleted_stores_backups_and_the_next_tick_deletes_its_key_and_rows() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--backup-tick", "1"],
    );
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let api = Api::new(&server, &token(&data, "alice", false));
    let admin = Api::new(&server, &token(&data, "root", true));
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    let other = api.ready_store("globex");
    let other_id = other["id"].as_str().unwrap();
    let first_backup = api.taken_backup(id);
    let second_backup = api.taken_backup(id);
    api.taken_backup(other_id);
    let keys = key_secrets(&sim);
    assert!(
        keys.contains(&key_secret(id)) && keys.contains(&key_secret(other_id)),
        "{keys:?}"
    );
    let purge = |api: &Api| {
        api.request(
            reqwest::Method::DELETE,
            &format!("/stores/{id}/backups"),
            None,
        )
    };

    assert_refused_with(&purge(&api), 403, "forbidden", "the owner, on a live store");
    assert_refused_with(
        &purge(&admin),
        409,
        "not_deleted",
        "an admin, on a live store",
    );
    api.delete_store(id);
    assert_refused_with(
        &purge(&api),
        403,
        "forbidden",
        "the owner, on a deleted store",
    );
    assert_eq!(api.backups(id).len(), 2, "the refusals purged nothing");
    assert!(key_secrets(&sim).contains(&key_secret(id)));

    let asked = Utc::now();
    let purged = purge(&admin);
    assert_eq!(purged.status, 202, "{}", purged.text);
    let items = purged.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", purged.text);
    for backup in items {
        assert!(
            at(&backup["expires_at"]) <= Utc::now() && at(&backup["expires_at"]) >= asked,
            "expired now: {backup}"
        );
    }

    // The next tick (every second): the key goes, then the rows.
    let started = Instant::now();
    while !api.backups(id).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the backups were not purged within 15 s:\n{}",
            api.timeline(id)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let keys = key_secrets(&sim);
    assert!(
        !keys.contains(&key_secret(id)),
        "the purged store's key is deleted: {keys:?}"
    );
    assert!(
        keys.contains(&key_secret(other_id)),
        "another store's key stays: {keys:?}"
    );
    let events = api.events(id);
    let asked = first(
        &events,
        "the store's backups were purged by user:root; they cannot be restored any more",
    );
    let done = first(
        &events,
        "2 expired backups purged: the store's key is deleted, so nothing can read them",
    );
    assert!(asked < done, "{}", lines(&events));
    assert_eq!(events[done]["actor"], "system:worker", "{}", events[done]);

    for backup in [&first_backup, &second_backup] {
        let reply = api.create_from("acme-copy", "woocommerce", backup);
        assert_refused_with(&reply, 404, "unknown_backup", "a copy of a purged backup");
        assert_eq!(
            reply.body["error"]["field"], "from_backup",
            "{}",
            reply.text
        );
    }
    assert_eq!(
        api.backups(other_id).len(),
        1,
        "another store's backups stay"
    );
}

/// Deleting a store whose backup is running does not wait for the backup's Job: the
/// backup fails, saying the store is being deleted, and the store is deleted well within
/// the command's timeout.
#[test]
fn a_store_deleted_while_its_backup_runs_is_deleted_promptly_and_the_backup_fails() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
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
    hold_backups(&sim);
    let backup = api.requested_backup(id);
    let backup = backup["id"].as_str().unwrap();
    wait_for_job(&sim, namespace, backup);
    api.wait_backup(id, backup, "running", Duration::from_secs(10));

    let started = Instant::now();
    let (code, stdout, stderr) = store_command(
        &server,
        &alice,
        &["delete", "acme", "--wait", "--timeout", "30"],
    );
    let took = started.elapsed();
    assert_eq!(code, 0, "{stdout}\n{stderr}\n{}", api.timeline(id));
    // The wait on the backup's Job looks at the store every 5 s; the teardown is quick.
    assert!(
        took < Duration::from_secs(12),
        "the delete took {took:?}, waiting on the backup:\n{}",
        api.timeline(id)
    );
    assert_eq!(api.store(id)["status"], "deleted");
    let failed = api.backup(id, backup);
    assert_eq!(
        (&failed["status"], &failed["failure"]),
        (&json!("failed"), &json!("the store is being deleted")),
        "{failed}"
    );
    let events = api.events(id);
    let steps: Vec<&str> = steps_of(&events, backup)
        .iter()
        .map(|e| e["detail"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["requested", "running", "failed"],
        "{}",
        lines(&events)
    );
    lift_faults(&sim);
}

/// Every Secret of the cluster that holds `key` (any of its values), as `namespace/name`.
fn secrets_holding(sim: &Sim, key: &str) -> Vec<String> {
    let secrets: Value = serde_json::from_str(
        &sim.kubectl(&["get", "secrets", "--all-namespaces", "-o", "json"], None),
    )
    .unwrap();
    secrets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|secret| {
            secret["data"].as_object().is_some_and(|data| {
                data.values().any(|v| {
                    v.as_str()
                        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                        .is_some_and(|v| v == key.as_bytes())
                })
            })
        })
        .map(|secret| {
            format!(
                "{}/{}",
                secret["metadata"]["namespace"].as_str().unwrap(),
                secret["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Purging is crypto-shredding (docs/security.md): once a deleted store's backups are
/// purged, its key is in no Secret of the cluster, so nothing can read its repository, not
/// even through a store made from one of its backups, which needed the source's key only
/// for its restore.
#[test]
fn a_purged_stores_key_is_in_no_secret_of_the_cluster_not_even_a_copys() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
    let server = serve(
        &sim,
        tmp.path(),
        &["--platform-config", &config, "--backup-tick", "1"],
    );
    let data = ["--data-dir", tmp.path().to_str().unwrap()];
    let api = Api::new(&server, &token(&data, "alice", false));
    let admin = Api::new(&server, &token(&data, "root", true));
    let source = api.ready_store("acme");
    let id = source["id"].as_str().unwrap();
    let backup = api.taken_backup(id);
    let key = repository_key(&sim, source["namespace"].as_str().unwrap());
    let copy = api.create_from("acme-copy", "woocommerce", &backup);
    assert_eq!(copy.status, 202, "{}", copy.text);
    let copy = api.wait_settled(copy.body["id"].as_str().unwrap(), Duration::from_secs(60));

    api.delete_store(id);
    let purged = admin.request(
        reqwest::Method::DELETE,
        &format!("/stores/{id}/backups"),
        None,
    );
    assert_eq!(purged.status, 202, "{}", purged.text);
    let started = Instant::now();
    while !api.backups(id).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the backups were not purged within 15 s:\n{}",
            api.timeline(id)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let holders = secrets_holding(&sim, &key);
    assert!(
        holders.is_empty(),
        "the purged store's repository key is still in {holders:?} (the copy {} kept it \
         after its restore), so its purged backups can still be read",
        copy["namespace"]
    );
}

/// A restore whose Job fails: the revision fails and rolls back by itself, and the store
/// comes out of maintenance serving its own pods, with no maintenance page left beside them
/// under the web Service.
#[test]
fn a_failed_restore_rolls_back_and_leaves_the_store_serving_without_its_maintenance_page() {
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = platform_config(tmp.path(), "24h");
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
    let backup = api.taken_backup(id);

    sim.set_faults(&json!({"failingJobs": [format!("{namespace}/restore-backup-r2")]}));
    let restore = api.restore(id, &backup);
    assert_eq!(restore.status, 202, "{}", restore.text);
    let failed = api.wait_revision(id, 2, "rolled_back", Duration::from_secs(60));
    lift_faults(&sim);
    assert!(
        failed["failure"]
            .as_str()
            .is_some_and(|f| f.contains("restore-backup-r2")),
        "the failure names the restore Job: {failed}"
    );
    let store = api.wait_settled(id, Duration::from_secs(30));
    assert_eq!(store["status"], "ready", "{store}");
    assert_eq!(replicas(&sim, namespace, "wordpress"), 1);
    assert!(
        object(&sim, "deployments", namespace, "maintenance-page").is_none(),
        "no maintenance page left under the web Service:\n{}",
        api.timeline(id)
    );
    let timeline = api.timeline(id);
    let on = timeline.matches("the store is in maintenance").count();
    let off = timeline.matches("maintenance over").count();
    assert_eq!((on, off), (1, 1), "{timeline}");
    assert!(
        !timeline.contains(&format!("backup {} restored", &backup[backup.len() - 8..])),
        "{timeline}"
    );
}

/// Platform settings backing up to an S3 bucket of an object store in the cluster.
fn s3_platform_config(dir: &Path) -> String {
    let path = dir.join("platform-s3.yaml");
    std::fs::write(
        &path,
        format!(
            "backups:\n  image: {RESTIC}\n  schedule: 24h\n  repository:\n    s3:\n      \
             endpoint: http://minio.backups.svc:9000\n      bucket: shops\n      \
             region: eu-west-1\n      namespace: backups\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// The object store's credentials reach the backup Job through a Secret of the store's
/// namespace only, from the server's environment: no log line, event, row, other object or
/// process argument holds the secret key. Without credentials, a backup to S3 fails saying
/// why, and the store stays ready.
#[test]
fn the_object_stores_credentials_reach_nothing_but_the_stores_secret() {
    const ACCESS_KEY: &str = "AKIASTOREPLANETEST01";
    const SECRET_KEY: &str = "s3-secret-Zq8vN3pLKc2RmT9wXy4BnD7fGh1JkM5s";
    let sim = Sim::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = s3_platform_config(tmp.path());
    let [kube_flag, kubeconfig] = sim.kubeconfig_args();
    let data = tmp.path().join("with-credentials");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        kube_flag.as_str(),
        kubeconfig.as_str(),
        "--platform-config",
        config.as_str(),
        "--log",
        "debug",
    ];
    let server = Server::start_on_cluster_with_env(
        &args,
        &[
            ("STOREPLANE_BACKUP_S3_ACCESS_KEY_ID", ACCESS_KEY),
            ("STOREPLANE_BACKUP_S3_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    );
    let alice = token(&["--data-dir", data.to_str().unwrap()], "alice", false);
    let api = Api::new(&server, &alice);
    let store = api.ready_store("acme");
    let id = store["id"].as_str().unwrap();
    let namespace = store["namespace"].as_str().unwrap();

    hold_backups(&sim);
    let backup = api.requested_backup(id);
    let backup_id = backup["id"].as_str().unwrap();
    let job = wait_for_job(&sim, namespace, backup_id);
    let restic = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "restic")
        .cloned()
        .unwrap();
    let env = restic["env"].as_array().unwrap();
    let from_secret = |name: &str| {
        let var = env.iter().find(|v| v["name"] == name).unwrap();
        assert!(var.get("value").is_none(), "{var}");
        var["valueFrom"]["secretKeyRef"]["name"].clone()
    };
    assert_eq!(from_secret("AWS_ACCESS_KEY_ID"), "backup-repository");
    assert_eq!(from_secret("AWS_SECRET_ACCESS_KEY"), "backup-repository");
    assert!(
        env.iter().any(|v| v["name"] == "RESTIC_REPOSITORY"
            && v["value"] == format!("s3:http://minio.backups.svc:9000/shops/storeplane/{id}")),
        "{restic:#}"
    );
    let objects = every_object_but_secrets(&sim);
    let commands = command_lines_of_children();
    lift_faults(&sim);
    api.wait_backup(id, backup_id, "succeeded", Duration::from_secs(30));
    let copied = object(&sim, "secrets", namespace, "backup-repository").unwrap();
    let copied = base64::engine::general_purpose::STANDARD
        .decode(copied["data"]["secret-access-key"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        copied,
        SECRET_KEY.as_bytes(),
        "the store's copy of the credentials, for its Jobs"
    );
    let timeline = api.timeline(id);
    let database = database_bytes(&data);
    let logs = server.logs.try_iter().collect::<Vec<_>>().join("\n");
    assert_nowhere(
        SECRET_KEY,
        &[
            ("the backup Job", &job.to_string()),
            ("the cluster's objects", &objects),
            ("the timeline", &timeline),
            ("the metadata store", &database),
            ("the server's log", &logs),
            ("a process's arguments", &commands.join("\n")),
        ],
    );
    drop(server);

    // Without the credentials: the backup fails, saying why; the store is fine.
    let bare = tmp.path().join("without-credentials");
    let mut args = args;
    args[1] = bare.to_str().unwrap();
    let server = Server::start_on_cluster_with_env(&args, &[]);
    let alice = token(&["--data-dir", bare.to_str().unwrap()], "alice", false);
    let api = Api::new(&server, &alice);
    let store = api.ready_store("globex");
    let id = store["id"].as_str().unwrap();
    let backup = api.requested_backup(id);
    let failed = api.wait_backup(
        id,
        backup["id"].as_str().unwrap(),
        "failed",
        Duration::from_secs(30),
    );
    assert!(
        failed["failure"]
            .as_str()
            .is_some_and(|f| f.contains("needs the platform's credentials")),
        "{failed}"
    );
    assert_eq!(
        api.wait_settled(id, Duration::from_secs(10))["status"],
        "ready"
    );
}

//! Backups through the real binary: `storeplane serve` processes against a `storeplane sim`
//! cluster that kubectl reads. A manual backup from the command line, scheduled backups
//! that come by themselves one interval apart, the refusals while a backup (or a revision,
//! or a reset) is in progress, the repository key kept out of everything but its Secret, a
//! deleted store's backups kept for the retention period, and a server killed while a
//! backup is pending or running, each judged by what the API says and what the cluster
//! holds.
//!
//! kube-sim completes a Job at once; a backup is held running by making the restic image
//! one that never pulls (`PUT /kube-sim/faults`), its pod in `ImagePullBackOff` until the
//! fault is lifted, and held pending by a server that runs no workers.

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
    let mut command = storeplane(&[&["store"], args].concat());
    command
        .env("STOREPLANE_SERVER", &server.base)
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
    let name = format!("backup-{}", &backup.replace('-', "")[24..]);
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

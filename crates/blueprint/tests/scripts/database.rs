//! `checkpoint.sh` and `restore.sh` against the local MariaDB: a checkpoint brings back
//! rows destroyed after it, a dump killed midway or cut short leaves no checkpoint, a
//! checkpoint taken is never replaced, and a restore done is never redone.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use storeplane_blueprint::{Checkpoint, Step};

use crate::job::{self, run, run_failing, stand_in};

/// Runs SQL as root on the local server; fails the test, saying so, when it is not there.
fn sql(database: Option<&str>, statement: &str) -> String {
    let mut command = Command::new("mariadb");
    command.args([
        "--host=127.0.0.1",
        "--port=3306",
        "--user=root",
        "--batch",
        "--skip-column-names",
    ]);
    command.args(["-e", statement]).env("MYSQL_PWD", "");
    command.args(database);
    let output = command
        .output()
        .expect("the mariadb client is installed (it runs the restore script too)");
    assert!(
        output.status.success(),
        "MariaDB at 127.0.0.1:3306 (root, no password) is unreachable or refused `{statement}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A throwaway database shaped like a shop's (orders and their items), dropped at the end.
struct Shop {
    name: String,
    dir: tempfile::TempDir,
}

impl Shop {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "storeplane_checkpoint_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sql(
            None,
            &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
        );
        sql(
            Some(&name),
            "CREATE TABLE wp_wc_orders (id BIGINT UNSIGNED PRIMARY KEY, status VARCHAR(20) NOT NULL,
               total_amount DECIMAL(26,8), billing_email VARCHAR(320)) ENGINE=InnoDB;
             CREATE TABLE wp_woocommerce_order_items (order_item_id BIGINT UNSIGNED AUTO_INCREMENT
               PRIMARY KEY, order_item_name TEXT NOT NULL, order_id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB;
             INSERT INTO wp_wc_orders VALUES (1, 'wc-processing', 19.99, 'ann@example.com'),
               (2, 'wc-completed', 39.98, 'bob@example.com'), (3, 'wc-on-hold', 5.00, 'cy@example.com');
             INSERT INTO wp_woocommerce_order_items (order_item_name, order_id) VALUES
               ('Sample product', 1), ('Sample product', 2), ('Sample product', 2), ('Mug', 3);",
        );
        Self {
            name,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn orders(&self) -> String {
        sql(
            Some(&self.name),
            "SELECT o.id, o.status, o.total_amount, COUNT(i.order_item_id) FROM wp_wc_orders o
             LEFT JOIN wp_woocommerce_order_items i ON i.order_id = o.id GROUP BY o.id ORDER BY o.id",
        )
    }

    fn tables(&self) -> String {
        sql(Some(&self.name), "SHOW TABLES")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The checkpoint Job's command for revision `revision`, pointed at this database and
    /// at the temp directory for `/checkpoints`.
    fn checkpoint(&self, revision: u32, path_prefix: Option<&Path>) -> Command {
        let step = job::step(Step::Checkpoint { revision });
        let target = self.file(&format!("r{revision}.sql.gz"));
        self.command(&step, [("CHECKPOINT", target)], path_prefix)
    }

    /// The restore Job's command of rollback revision `revision`, restoring `from`'s.
    fn restore(&self, revision: u32, from: u32) -> Command {
        let checkpoint = Checkpoint {
            job: format!("checkpoint-r{from}"),
            claim: "checkpoints".to_owned(),
            path: format!("/checkpoints/r{from}.sql.gz"),
        };
        let step = job::step(Step::Restore {
            revision,
            checkpoint: &checkpoint,
        });
        self.command(
            &step,
            [
                ("CHECKPOINT", self.file(&format!("r{from}.sql.gz"))),
                ("RESTORED", self.file(&format!("restored-r{revision}"))),
            ],
            None,
        )
    }

    fn command<const N: usize>(
        &self,
        step: &storeplane_blueprint::StepResources,
        files: [(&'static str, PathBuf); N],
        path_prefix: Option<&Path>,
    ) -> Command {
        let container = job::container(step);
        let mut local: BTreeMap<&str, String> = BTreeMap::from([
            ("DB_HOST", "127.0.0.1".to_owned()),
            ("DB_USER", "root".to_owned()),
            ("DB_NAME", self.name.clone()),
            ("HOME", self.dir.path().display().to_string()),
        ]);
        for (name, file) in files {
            local.insert(name, file.display().to_string());
        }
        let secrets = BTreeMap::from([("MYSQL_PWD", "")]);
        job::command(&container, &secrets, &local, path_prefix)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = Command::new("mariadb")
            .args(["--host=127.0.0.1", "--user=root", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS {}", self.name))
            .env("MYSQL_PWD", "")
            .output();
    }
}

#[test]
fn a_checkpoint_brings_back_the_orders_destroyed_after_it() {
    let shop = Shop::new();
    let before = shop.orders();
    assert_eq!(before.lines().count(), 3, "{before}");

    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("checkpoint taken"), "{log}");
    assert!(shop.file("r1.sql.gz").exists());
    assert!(!shop.file("r1.sql.gz.partial").exists());

    sql(
        Some(&shop.name),
        "DELETE FROM wp_woocommerce_order_items; UPDATE wp_wc_orders SET status = 'wc-cancelled';
         DELETE FROM wp_wc_orders WHERE id = 3; CREATE TABLE wp_added_by_upgrade (id INT)",
    );
    assert_ne!(shop.orders(), before);

    let log = run(shop.restore(2, 1));
    assert!(log.contains("restored"), "{log}");
    assert_eq!(shop.orders(), before);
    assert!(
        !shop.tables().contains("wp_added_by_upgrade"),
        "a table created after the checkpoint is gone: {}",
        shop.tables()
    );
}

#[test]
fn a_restore_that_finished_is_not_redone_over_orders_taken_since() {
    let shop = Shop::new();
    run(shop.checkpoint(1, None));
    run(shop.restore(2, 1));
    sql(
        Some(&shop.name),
        "INSERT INTO wp_wc_orders VALUES (4, 'wc-processing', 1.00, 'dee@example.com')",
    );
    let log = run(shop.restore(2, 1));
    assert!(log.contains("already restored"), "{log}");
    assert_eq!(shop.orders().lines().count(), 4, "the new order stays");
}

#[test]
fn a_checkpoint_taken_is_kept_rather_than_replaced_by_a_later_dump() {
    let shop = Shop::new();
    run(shop.checkpoint(1, None));
    let first = std::fs::read(shop.file("r1.sql.gz")).unwrap();
    sql(Some(&shop.name), "DELETE FROM wp_wc_orders");
    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("already taken"), "{log}");
    assert_eq!(std::fs::read(shop.file("r1.sql.gz")).unwrap(), first);
}

#[test]
fn a_dump_killed_midway_leaves_no_checkpoint_and_a_rerun_takes_it() {
    let shop = Shop::new();
    let started = shop.file("dump-started");
    // The real dump, then a hang before it ends: killed there, the pipeline has written
    // part of its output.
    let bin = stand_in(
        shop.dir.path(),
        "mariadb-dump",
        &format!(
            "/usr/bin/mariadb-dump \"$@\" | head -c 2000\ntouch {}\nexec sleep 600",
            started.display()
        ),
    );
    let mut command = shop.checkpoint(1, Some(&bin));
    command
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the dump never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the script ended early"
        );
        std::thread::park_timeout(Duration::from_millis(20));
    }
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    assert!(
        !shop.file("r1.sql.gz").exists(),
        "a killed dump left a checkpoint"
    );

    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("checkpoint taken"), "{log}");
    let restored = run(shop.restore(2, 1));
    assert!(restored.contains("restored"), "{restored}");
}

#[test]
fn a_dump_cut_short_is_refused_and_leaves_no_checkpoint() {
    let shop = Shop::new();
    // Exits 0 after part of the dump, as a server that closed the connection might.
    let bin = stand_in(
        shop.dir.path(),
        "mariadb-dump",
        "/usr/bin/mariadb-dump \"$@\" | head -n 20\nexit 0",
    );
    let log = run_failing(shop.checkpoint(1, Some(&bin)));
    assert!(log.contains("incomplete"), "{log}");
    assert!(!shop.file("r1.sql.gz").exists());
}

#[test]
fn a_missing_or_damaged_checkpoint_is_refused_and_nothing_is_dropped() {
    let shop = Shop::new();
    let before = shop.orders();
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("missing"), "{log}");
    std::fs::write(shop.file("r1.sql.gz"), b"not a dump").unwrap();
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("damaged"), "{log}");
    assert_eq!(shop.orders(), before);
}

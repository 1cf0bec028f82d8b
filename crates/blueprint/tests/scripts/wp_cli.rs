//! The wp-cli steps under a stand-in `wp` that records its arguments and standard input
//! and, like wp-cli with a prompted value, prints its input back: the admin password
//! reaches wp-cli on stdin only, never its arguments or the Job's log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use storeplane_blueprint::Step;

use crate::job;

const PASSWORD: &str = "Zq8vN3pL7xKc2RmT9wYb4HsJ6dFgA1eU";

/// A `wp` that appends its arguments to `argv.log` and its stdin to `stdin.log`, echoes
/// both to stdout and stderr, and exits with `status`.
fn stand_in_wp(dir: &Path, status: u8) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wp = bin.join("wp");
    std::fs::write(
        &wp,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>{dir}/argv.log\ninput=\"$(cat)\"\nprintf '%s\\n' \"$input\" >>{dir}/stdin.log\necho \"wp $* (user_pass: $input)\"\necho \"Warning: prompted $input\" >&2\nexit {status}\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&wp).status().unwrap();
    bin
}

fn run_step(step: Step<'_>, dir: &Path, status: u8) -> (bool, String) {
    let bin = stand_in_wp(dir, status);
    let container = job::container(&job::step(step));
    let secrets = BTreeMap::from([
        ("WORDPRESS_DB_PASSWORD", "db-password-not-this-test's"),
        ("WORDPRESS_ADMIN_USER", "admin"),
        ("WORDPRESS_ADMIN_PASSWORD", PASSWORD),
    ]);
    let local = BTreeMap::from([("HOME", dir.display().to_string())]);
    let output = job::command(&container, &secrets, &local, Some(&bin))
        .current_dir(dir)
        .output()
        .unwrap();
    (output.status.success(), job::log(&output))
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

#[test]
fn the_password_reset_feeds_the_password_on_stdin_and_keeps_it_out_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, log) = run_step(Step::ResetAdminPassword { generation: 1 }, dir.path(), 0);
    assert!(ok, "{log}");
    assert!(log.contains("admin password of admin reset"), "{log}");
    assert!(
        !log.contains(PASSWORD),
        "the password is in the Job's log: {log}"
    );
    let argv = read(dir.path(), "argv.log");
    assert!(
        argv.starts_with("user update admin --prompt=user_pass --skip-email"),
        "{argv}"
    );
    assert!(
        !argv.contains(PASSWORD),
        "the password is an argument: {argv}"
    );
    assert_eq!(read(dir.path(), "stdin.log").trim(), PASSWORD);
}

#[test]
fn a_failed_password_reset_says_so_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, log) = run_step(Step::ResetAdminPassword { generation: 1 }, dir.path(), 3);
    assert!(!ok, "{log}");
    assert!(
        log.contains("failed to reset the admin password of admin (wp user update exited 3)"),
        "{log}"
    );
    assert!(!log.contains(PASSWORD), "{log}");
}

#[test]
fn the_upgrade_migrates_wordpress_then_woocommerce_then_flushes_the_caches() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, log) = run_step(Step::Upgrade { revision: 2 }, dir.path(), 0);
    assert!(ok, "{log}");
    let calls: Vec<String> = read(dir.path(), "argv.log")
        .lines()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(calls, ["core update-db", "wc update", "cache flush"]);
    assert!(!log.contains(PASSWORD), "{log}");
}

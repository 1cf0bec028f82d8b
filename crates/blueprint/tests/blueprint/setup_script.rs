//! The setup Job's script keeps the secrets it is handed out of the pod log.
//!
//! The rendered Job's own command runs under `sh`, with the container's environment (its
//! Secret references resolved to the fixture's values) and a stub `wp` on `PATH` that
//! behaves as wp-cli does at its worst: it repeats its arguments and every line it reads
//! on stdin, on stdout and on stderr (wp-cli really does log `--prompt`ed values). Anything
//! a secret-taking call lets through therefore shows in the script's output, which is what
//! `kubectl logs` would show. A static check adds that a secret reaches wp-cli only as its
//! stdin, never on a command line.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use k8s_openapi::api::core::v1::Container;
use storeplane_blueprint::{Engine, Plan, Resource};

use crate::fixtures;

const STUB_WP: &str = r#"#!/bin/sh
# wp-cli at its worst: it repeats its arguments and every line it reads, on both outputs.
echo "wp $*"
echo "wp $*" >&2
last=
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line" >>"$STUB_DIR/stdin"
  echo "read: $line"
  echo "read: $line" >&2
  last=$line
done
printf '%s\n' "$*" >>"$STUB_DIR/calls"
case "$*" in
  "core is-installed"*|"plugin is-active"*) exit 1 ;;
  "core install"*)
    if [ -n "${STUB_INSTALL_FAILS:-}" ]; then
      echo "Error: Error establishing a database connection."
      echo "Error: wp core install --admin_password='$last' failed" >&2
      exit 1
    fi ;;
esac
exit 0
"#;

/// The database answers at once.
const STUB_PHP: &str = "#!/bin/sh\nexit 0\n";

/// The setup Job's wp-cli container and the Secret values its references resolve to.
fn setup_container() -> (Container, BTreeMap<(String, String), String>) {
    let objects = fixtures::build(Plan::Small).into_ordered();
    let mut secrets = BTreeMap::new();
    let mut container = None;
    for object in objects {
        match object {
            Resource::Secret(secret) => {
                let name = secret.metadata.name.clone().unwrap();
                for (key, value) in secret.data.unwrap_or_default() {
                    secrets.insert((name.clone(), key), String::from_utf8(value.0).unwrap());
                }
            }
            Resource::Job(job) => {
                let pod = job.spec.unwrap().template.spec.unwrap();
                container = pod.containers.into_iter().find(|c| c.name == "wp-cli");
            }
            _ => {}
        }
    }
    (
        container.expect("the setup Job has a wp-cli container"),
        secrets,
    )
}

struct Run {
    code: Option<i32>,
    /// stdout and stderr together, as the pod log holds them.
    log: String,
    /// Every line the stub `wp` was handed on stdin.
    wp_stdin: String,
    /// Every `wp` command line, one a line.
    wp_calls: String,
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    dir
}

fn stub(dir: &Path, name: &str, script: &str) {
    let path = dir.join("bin").join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn run_setup(name: &str, extra_env: &[(&str, &str)]) -> Run {
    let (container, secrets) = setup_container();
    let dir = scratch(name);
    stub(&dir, "wp", STUB_WP);
    stub(&dir, "php", STUB_PHP);
    let command = container.command.unwrap();
    assert_eq!(
        command[..2],
        ["/bin/sh", "-c"],
        "the Job runs its script with sh -c"
    );
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(&command[2])
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.join("bin").display()),
        )
        .env("STUB_DIR", &dir)
        .current_dir(&dir)
        .stdin(Stdio::null());
    for var in container.env.unwrap() {
        let value = match (var.value, var.value_from) {
            (Some(value), _) => value,
            (None, Some(source)) => {
                let reference = source.secret_key_ref.expect("env comes from a Secret");
                secrets[&(reference.name, reference.key)].clone()
            }
            (None, None) => String::new(),
        };
        sh.env(var.name, value);
    }
    sh.envs(extra_env.iter().copied());
    // One pipe for both streams, as the container runtime keeps one log of them.
    let (reader, writer) = std::io::pipe().unwrap();
    sh.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = sh.spawn().unwrap();
    drop(sh);
    let log = std::io::read_to_string(reader).unwrap();
    let code = child.wait().unwrap().code();
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    let run = Run {
        code,
        log,
        wp_stdin: read("stdin"),
        wp_calls: read("calls"),
    };
    std::fs::remove_dir_all(&dir).unwrap();
    run
}

fn assert_no_secret_in(log: &str) {
    for secret in fixtures::confidential_values(Engine::WooCommerce) {
        assert!(
            !log.contains(&secret),
            "the log holds the secret {secret:?}:\n{log}"
        );
    }
}

#[test]
fn setting_up_a_store_writes_no_secret_to_the_pod_log() {
    let run = run_setup("setup-quiet", &[]);
    assert_eq!(run.code, Some(0), "{}", run.log);
    assert!(run.log.contains("store is set up"), "{}", run.log);
    let password = fixtures::secrets()
        .get("wordpress-admin-password")
        .unwrap()
        .to_owned();
    assert!(
        run.wp_stdin.contains(&password),
        "wp core install was handed the admin password on stdin: {:?}",
        run.wp_stdin
    );
    assert_no_secret_in(&run.log);
}

#[test]
fn a_failed_install_says_what_failed_without_the_secret() {
    let run = run_setup("setup-install-fails", &[("STUB_INSTALL_FAILS", "1")]);
    assert_ne!(run.code, Some(0), "{}", run.log);
    assert!(
        run.log
            .contains("failed to install WordPress (wp core install)"),
        "{}",
        run.log
    );
    assert!(
        run.log
            .contains("Error: Error establishing a database connection."),
        "wp-cli's own error is passed on:\n{}",
        run.log
    );
    assert_no_secret_in(&run.log);
}

#[test]
fn wordpress_is_asked_whether_it_is_installed_at_the_stores_url() {
    let run = run_setup("setup-url", &[]);
    assert!(
        run.wp_calls
            .lines()
            .any(|call| call == "core is-installed --url=http://demo.127.0.0.1.nip.io"),
        "{}",
        run.wp_calls
    );
}

/// The variables of the setup container that hold a confidential value.
fn confidential_variables() -> Vec<String> {
    let (container, secrets) = setup_container();
    let confidential = fixtures::confidential_values(Engine::WooCommerce);
    container
        .env
        .unwrap()
        .into_iter()
        .filter_map(|var| {
            let reference = var.value_from?.secret_key_ref?;
            confidential
                .contains(&secrets[&(reference.name, reference.key)])
                .then_some(var.name)
        })
        .collect()
}

#[test]
fn the_script_hands_a_secret_to_wp_cli_only_on_stdin_never_as_an_argument() {
    let (container, _) = setup_container();
    let script = &container.command.unwrap()[2];
    let variables = confidential_variables();
    assert!(
        variables.contains(&"WORDPRESS_ADMIN_PASSWORD".to_owned()),
        "{variables:?}"
    );
    for variable in &variables {
        let piped = format!("printf '%s\\n' \"${variable}\" | wp ");
        for line in script.lines() {
            let expands =
                line.contains(&format!("${variable}")) || line.contains(&format!("${{{variable}"));
            assert!(
                !expands || line.trim_start().starts_with(&piped),
                "${variable} is expanded other than as wp-cli's stdin: {line:?}"
            );
        }
    }
}

//! Runs a step Job's container command on this machine, with the Job's environment: each
//! variable the Job sets, its literal value or a stand-in for a Secret's, some pointed at
//! local things instead (the database host, the checkpoint directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k8s_openapi::api::core::v1::Container;
use storeplane_blueprint::{
    Blueprint, Engine, Plan, PlatformSettings, Step, StepResources, StoreSpec,
};

pub const STORE_ID: &str = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";

pub fn step(step: Step<'_>) -> StepResources {
    let spec = StoreSpec::new("demo".parse().unwrap(), Engine::WooCommerce, Plan::Small);
    Blueprint::new(PlatformSettings::default())
        .unwrap()
        .step(STORE_ID.parse().unwrap(), &spec, step)
        .unwrap()
}

/// The step's main container.
pub fn container(step: &StepResources) -> Container {
    let pod = step.job.spec.clone().unwrap().template.spec.unwrap();
    pod.containers[0].clone()
}

/// A command that runs `container`'s command with its environment, where `secrets` gives
/// each Secret-sourced variable's value and `local` replaces literal ones. Fails if the
/// container sets a variable neither has a value for, or `local` names one it does not
/// set (the test would then not be running the Job's environment).
pub fn command(
    container: &Container,
    secrets: &BTreeMap<&str, &str>,
    local: &BTreeMap<&str, String>,
    path_prefix: Option<&Path>,
) -> Command {
    let argv = container.command.clone().unwrap();
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).env_clear();
    let mut seen = Vec::new();
    for var in container.env.iter().flatten() {
        let name = var.name.as_str();
        seen.push(name);
        let value = if let Some(value) = local.get(name) {
            value.clone()
        } else if var.value_from.is_some() {
            (*secrets
                .get(name)
                .unwrap_or_else(|| panic!("no stand-in for the Secret of {name}")))
            .to_owned()
        } else {
            var.value.clone().unwrap_or_default()
        };
        command.env(name, value);
    }
    for name in local.keys() {
        assert!(seen.contains(name), "the Job sets no {name}");
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let path = match path_prefix {
        Some(prefix) => format!("{}:{path}", prefix.display()),
        None => path,
    };
    command.env("PATH", path);
    command
}

/// stdout and stderr together, as a pod's log has them.
pub fn log(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs a step's command, failing the test with its log unless it succeeds; its log.
pub fn run(mut command: Command) -> String {
    let output = command.output().unwrap();
    let log = log(&output);
    assert!(output.status.success(), "{log}");
    log
}

/// Runs a step's command, failing the test with its log if it succeeds; its log.
pub fn run_failing(mut command: Command) -> String {
    let output = command.output().unwrap();
    let log = log(&output);
    assert!(!output.status.success(), "{log}");
    log
}

/// A directory holding one executable `name` with `body`, to put first on PATH.
pub fn stand_in(dir: &Path, name: &str, body: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let file = bin.join(name);
    std::fs::write(&file, format!("#!/bin/bash\n{body}\n")).unwrap();
    let status = Command::new("chmod").arg("+x").arg(&file).status().unwrap();
    assert!(status.success());
    bin
}

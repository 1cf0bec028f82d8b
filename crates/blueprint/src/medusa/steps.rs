//! Medusa's engine steps, each keyed by the revision (or the reset's generation) it
//! serves, so applying one twice changes nothing:
//!
//! - **checkpoint** `checkpoint-r<N>`: `pg_dump` of the database (`checkpoint.sh`) to
//!   `/checkpoints/r<N>.dump` on the checkpoints claim, which comes with it;
//! - **restore** `restore-r<N>`: the checkpoint loaded back (`restore.sh`), for the
//!   rollback revision that needs it; marked done beside the checkpoint;
//! - **upgrade** `upgrade-r<N>`: `medusa db:migrate --execute-safe-links` with the new
//!   release's image (`upgrade.sh`);
//! - **password reset** `reset-admin-password-g<N>`: the admin's password set from the
//!   admin Secret through Medusa's auth module (`reset-admin-password.sh`), read from the
//!   environment.

use super::admin_env;
use super::job::{MedusaJob, medusa_job};
use super::maintenance::{
    self, CHECKPOINTS, CHECKPOINTS_DIR, DatabaseJob, checkpoint_path, checkpoints_claim,
};
use crate::engine::{Checkpoint, StepResources, StoreContext};
use crate::labels::Component;
use crate::parts::step_labels;
use crate::pod::env;
use crate::settings::MedusaRelease;

const CHECKPOINT_SCRIPT: &str = include_str!("checkpoint.sh");
const RESTORE_SCRIPT: &str = include_str!("restore.sh");
const UPGRADE_SCRIPT: &str = include_str!("upgrade.sh");
const RESET_SCRIPT: &str = include_str!("reset-admin-password.sh");

pub fn checkpoint(
    store: &StoreContext<'_>,
    release: &MedusaRelease,
    revision: u32,
) -> StepResources {
    let name = format!("checkpoint-r{revision}");
    let path = checkpoint_path(revision);
    let job = maintenance::database_job(
        store,
        release,
        DatabaseJob {
            name: &name,
            step: "checkpoint",
            script: CHECKPOINT_SCRIPT,
            env: vec![env("CHECKPOINT", path.clone())],
            // A large shop's dump takes a while; one that takes an hour is stuck.
            deadline_seconds: 3600,
        },
    );
    StepResources {
        network_policies: maintenance::network_policies(store),
        secrets: Vec::new(),
        claim: Some(checkpoints_claim(store)),
        job,
        checkpoint: Some(Checkpoint {
            job: name,
            claim: CHECKPOINTS.to_owned(),
            path,
        }),
    }
}

pub fn restore(
    store: &StoreContext<'_>,
    release: &MedusaRelease,
    revision: u32,
    checkpoint: &Checkpoint,
) -> StepResources {
    let name = format!("restore-r{revision}");
    // Marked done per checkpoint as well as per revision: going back from a failed
    // rollback revision restores another checkpoint under the same Job name.
    let source = checkpoint.stem();
    let job = maintenance::database_job(
        store,
        release,
        DatabaseJob {
            name: &name,
            step: "restore",
            script: RESTORE_SCRIPT,
            env: vec![
                env("CHECKPOINT", checkpoint.path.clone()),
                env(
                    "RESTORED",
                    format!("{CHECKPOINTS_DIR}/restored-r{revision}-from-{source}"),
                ),
            ],
            deadline_seconds: 3600,
        },
    );
    StepResources {
        network_policies: maintenance::network_policies(store),
        secrets: Vec::new(),
        claim: None,
        job,
        checkpoint: None,
    }
}

fn application_step(
    store: &StoreContext<'_>,
    release: &MedusaRelease,
    name: &str,
    step: &str,
    script: &str,
    env: Vec<k8s_openapi::api::core::v1::EnvVar>,
    deadline_seconds: i64,
) -> StepResources {
    let job = medusa_job(
        store,
        release,
        MedusaJob {
            name,
            container: step,
            component: Component::Maintenance,
            labels: step_labels(step),
            script,
            env,
            backoff_limit: 2,
            deadline_seconds,
        },
    );
    StepResources {
        network_policies: maintenance::network_policies(store),
        secrets: Vec::new(),
        claim: None,
        job,
        checkpoint: None,
    }
}

pub fn upgrade(store: &StoreContext<'_>, release: &MedusaRelease, revision: u32) -> StepResources {
    application_step(
        store,
        release,
        &format!("upgrade-r{revision}"),
        "upgrade",
        UPGRADE_SCRIPT,
        Vec::new(),
        1800,
    )
}

pub fn reset_admin_password(
    store: &StoreContext<'_>,
    release: &MedusaRelease,
    generation: u32,
) -> StepResources {
    application_step(
        store,
        release,
        &format!("reset-admin-password-g{generation}"),
        "reset-admin-password",
        RESET_SCRIPT,
        admin_env(),
        600,
    )
}

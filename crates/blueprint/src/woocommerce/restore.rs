//! The restore step: a Job that loads a checkpoint back into the database
//! (`restore.sh`), for the rollback revision that needs it. Keyed by that revision:
//! `restore-r<N>`; it marks a finished restore beside the checkpoint, so it never runs
//! twice.

use super::maintenance::{self, CHECKPOINTS_DIR, DatabaseJob};
use crate::engine::{Checkpoint, StepResources, StoreContext};
use crate::pod::env;
use crate::settings::WooCommerceRelease;

const SCRIPT: &str = include_str!("restore.sh");
const STEP: &str = "restore";

pub fn restore(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
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
            step: STEP,
            script: SCRIPT,
            env: vec![
                env("CHECKPOINT", checkpoint.path.clone()),
                env(
                    "RESTORED",
                    format!("{CHECKPOINTS_DIR}/restored-r{revision}-from-{source}"),
                ),
            ],
            backoff_limit: 2,
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

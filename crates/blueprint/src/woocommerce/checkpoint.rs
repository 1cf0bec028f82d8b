//! The checkpoint step: a Job that dumps the database (`checkpoint.sh`) to
//! `/checkpoints/r<N>.sql.gz` on the `checkpoints` claim, which comes with it (sized by the
//! plan's `checkpoint_storage`). Keyed by the revision: `checkpoint-r<N>`.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use super::maintenance::{self, CHECKPOINTS, DatabaseJob, checkpoint_path};
use crate::engine::{Checkpoint, StepResources, StoreContext};
use crate::labels::Component;
use crate::parts::claim;
use crate::parts::shared_metadata;
use crate::pod::env;
use crate::settings::WooCommerceRelease;

const SCRIPT: &str = include_str!("checkpoint.sh");
const STEP: &str = "checkpoint";

fn checkpoints_claim(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let mut claim = claim(
        store,
        CHECKPOINTS,
        Component::Database,
        store.plan().checkpoint_storage(),
    );
    claim.metadata = shared_metadata(store, CHECKPOINTS, Component::Database);
    claim
}

pub fn checkpoint(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    revision: u32,
) -> StepResources {
    let name = format!("checkpoint-r{revision}");
    let path = checkpoint_path(revision);
    let job = maintenance::database_job(
        store,
        release,
        DatabaseJob {
            name: &name,
            step: STEP,
            script: SCRIPT,
            env: vec![env("CHECKPOINT", path.clone())],
            backoff_limit: 2,
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

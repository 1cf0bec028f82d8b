//! The rehome step, for a store made from another store's backup: a wp-cli Job
//! (`rehome.sh`) that rewrites the source store's URLs in the restored database to this
//! store's. Keyed by the revision that restored the backup: `rehome-r<N>`.

use super::job::{WpCliJob, wp_cli_job};
use super::maintenance;
use crate::engine::{StepResources, StoreContext};
use crate::labels::Component;
use crate::parts::step_labels;
use crate::pod::env;
use crate::settings::WooCommerceRelease;

const SCRIPT: &str = include_str!("rehome.sh");
const STEP: &str = "rehome";

pub fn rehome(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    revision: u32,
    from_url: &str,
) -> StepResources {
    let name = format!("rehome-r{revision}");
    let job = wp_cli_job(
        store,
        release,
        WpCliJob {
            name: &name,
            component: Component::Maintenance,
            labels: step_labels(STEP),
            script: SCRIPT,
            env: vec![
                env("FROM_URL", from_url),
                env("STORE_URL", store.base_url()),
                env("HOME", "/tmp"),
            ],
            backoff_limit: 2,
            // A large shop's tables take a while to search; an hour is stuck.
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

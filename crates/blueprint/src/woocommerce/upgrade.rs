//! The upgrade step: a wp-cli Job that migrates the data to the store's release
//! (`upgrade.sh`: `wp core update-db`, `wp wc update`; both idempotent), run with the new
//! release's images. Keyed by the revision: `upgrade-r<N>`.

use super::job::{WpCliJob, wp_cli_job};
use super::maintenance;
use crate::engine::{StepResources, StoreContext};
use crate::labels::Component;
use crate::parts::step_labels;
use crate::pod::env;
use crate::settings::WooCommerceRelease;

const SCRIPT: &str = include_str!("upgrade.sh");
const STEP: &str = "upgrade";

pub fn upgrade(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    revision: u32,
) -> StepResources {
    let name = format!("upgrade-r{revision}");
    let job = wp_cli_job(
        store,
        release,
        WpCliJob {
            name: &name,
            component: Component::Maintenance,
            labels: step_labels(STEP),
            script: SCRIPT,
            env: vec![env("STORE_URL", store.base_url()), env("HOME", "/tmp")],
            backoff_limit: 2,
            deadline_seconds: 1800,
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

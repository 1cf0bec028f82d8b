//! The password-reset step: a wp-cli Job that sets the admin's password from the store's
//! admin Secret (`reset-admin-password.sh`), read from the environment and fed to wp-cli
//! on its standard input, with wp-cli's output discarded. Keyed by the reset's
//! generation: `reset-admin-password-g<N>`.

use super::job::{WpCliJob, wp_cli_job};
use super::maintenance;
use super::secret::{ADMIN_PASSWORD, ADMIN_SECRET, ADMIN_USER};
use crate::engine::{StepResources, StoreContext};
use crate::labels::Component;
use crate::parts::step_labels;
use crate::pod::{env, secret_env};
use crate::settings::WooCommerceRelease;

const SCRIPT: &str = include_str!("reset-admin-password.sh");
const STEP: &str = "reset-admin-password";

pub fn reset_admin_password(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
    generation: u32,
) -> StepResources {
    let name = format!("reset-admin-password-g{generation}");
    let job = wp_cli_job(
        store,
        release,
        WpCliJob {
            name: &name,
            component: Component::Maintenance,
            labels: step_labels(STEP),
            script: SCRIPT,
            env: vec![
                secret_env("WORDPRESS_ADMIN_USER", ADMIN_SECRET, ADMIN_USER),
                secret_env("WORDPRESS_ADMIN_PASSWORD", ADMIN_SECRET, ADMIN_PASSWORD),
                env("STORE_URL", store.base_url()),
                env("HOME", "/tmp"),
            ],
            backoff_limit: 2,
            deadline_seconds: 600,
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

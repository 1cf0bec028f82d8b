//! Carrying out an admin password reset the repository has recorded:
//!
//! ```text
//! pending generation g -> new password into the Secret (once for g) -> the engine's reset
//!   step (a Job reading it from the Secret) -> wait -> remove the Job -> completed
//! ```
//!
//! Only on a pass of a ready store with no revision in flight (the drift pass): the reset
//! Job must run against the WordPress the store runs. Every step is idempotent, so a pass
//! cut short anywhere converges on the next one: the Secret is written once per
//! generation, so a repeated pass sets the password the Secret already holds, never a
//! second one. The password lives in this process only between generating it and writing
//! it; it never reaches an event, a log line, the metadata store or a Job's arguments.

use std::time::Duration;

use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;
use storeplane_blueprint::{Blueprint, SecretKind, Step};
use storeplane_db::Repository;
use storeplane_domain::{Actor, EventKind, NewStoreEvent, Store, StoreSpec};
use storeplane_kube::Applier;

use crate::RunError;

/// What a reset pass needs: the same parts the provisioning pass holds.
pub(crate) struct PasswordReset<'a> {
    pub repo: &'a dyn Repository,
    pub blueprint: &'a Blueprint,
    pub applier: &'a Applier,
    /// How long the reset Job may take.
    pub timeout: Duration,
}

fn actor() -> Actor {
    Actor::System("worker".to_owned())
}

fn failure(err: impl std::fmt::Display, transient: bool) -> RunError {
    if transient {
        RunError::transient(err.to_string())
    } else {
        RunError::permanent(err.to_string())
    }
}

fn db_failure(err: storeplane_db::DbError) -> RunError {
    let transient = err.is_transient();
    failure(err, transient)
}

fn kube_failure(err: storeplane_kube::ApplyError) -> RunError {
    let transient = err.is_transient();
    failure(err, transient)
}

impl PasswordReset<'_> {
    /// Resets `store`'s admin password if a reset is pending; nothing otherwise. `spec` is
    /// the deployed revision's, which the store runs.
    pub(crate) async fn run_if_requested(
        &self,
        store: &Store,
        spec: &StoreSpec,
    ) -> Result<(), RunError> {
        // Read with the store at the start of the job: a quiet drift pass costs no query.
        if !store.password_reset_pending {
            return Ok(());
        }
        let Some(generation) = self
            .repo
            .pending_password_reset(store.id)
            .await
            .map_err(db_failure)?
        else {
            return Ok(());
        };
        let event = NewStoreEvent::new(
            store.id,
            Utc::now(),
            EventKind::Step,
            actor(),
            "resetting the admin password",
        )
        .with_detail(json!({
            "step": "password_reset",
            "generation": generation,
            "status": "applying",
        }));
        self.repo.append_event(event).await.map_err(db_failure)?;

        let namespace = store.namespace();
        let credentials = Blueprint::credentials(spec.engine).map_err(|e| failure(e, false))?;
        let length = password_length(spec, credentials.password_key)?;
        let password = Alphanumeric.sample_string(&mut rand::rng(), length);
        let wrote = self
            .applier
            .set_secret_value(
                &namespace,
                credentials.secret,
                credentials.password_key,
                &password,
                generation,
            )
            .await
            .map_err(kube_failure)?;
        drop(password);
        if !wrote {
            tracing::info!(store.id = %store.id, generation, "the Secret already holds this reset's password");
        }

        let step = self
            .blueprint
            .step(store.id, spec, Step::ResetAdminPassword { generation })
            .map_err(|e| failure(e, false))?;
        let objects = step.ordered();
        self.applier.apply(&objects).await.map_err(kube_failure)?;
        let waited = self
            .applier
            .wait_ready(&namespace, &[step.readiness()], self.timeout)
            .await;
        // Done or failed, the Job has served: a failed one is removed too, so the next
        // attempt runs it afresh rather than finding it failed.
        let removed = self.applier.remove(&objects).await;
        waited.map_err(|e| {
            let transient = e.is_transient() || e.cause == storeplane_kube::NotReadyCause::Failed;
            failure(
                format!(
                    "the admin password reset failed: {}: {}",
                    e.check.name, e.reason
                ),
                transient,
            )
        })?;
        removed.map_err(kube_failure)?;
        self.repo
            .complete_password_reset(store.id, generation, &actor(), Utc::now())
            .await
            .map_err(db_failure)
    }
}

/// The length the engine asks of the admin password, so a reset one is as strong as the
/// first.
fn password_length(spec: &StoreSpec, key: &str) -> Result<usize, RunError> {
    let requirements =
        Blueprint::secret_requirements(spec.engine).map_err(|e| failure(e, false))?;
    requirements
        .iter()
        .find_map(|requirement| match requirement.kind {
            SecretKind::Random { length } if requirement.key == key => Some(length),
            _ => None,
        })
        .ok_or_else(|| {
            failure(
                format!("the {} engine asks for no random {key}", spec.engine),
                false,
            )
        })
}

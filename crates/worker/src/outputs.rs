//! Recording what a store's setup published (Medusa's publishable API key): read from the
//! setup Job's termination message once the store's workloads are ready, kept on the
//! store's row, and said on its timeline. Engines that publish nothing skip it, so it costs
//! them no request.

use chrono::Utc;
use serde_json::json;
use storeplane_blueprint::Blueprint;
use storeplane_domain::{EventKind, NewStoreEvent, Store};

use crate::RunError;
use crate::provision::{ProvisionRunner, actor, db_failure, failure};

impl ProvisionRunner {
    /// Reads and records the values `store`'s engine publishes, unless they are recorded.
    /// A pod that is not there (yet, or any more) leaves them for the next pass; a message
    /// that is not what the setup writes is said on the timeline and retried likewise: the
    /// store itself is ready either way.
    pub(crate) async fn record_outputs(&self, store: &Store) -> Result<(), RunError> {
        let Some(outputs) = Blueprint::outputs(store.spec.engine).map_err(|e| failure(e, false))?
        else {
            return Ok(());
        };
        if outputs
            .keys
            .iter()
            .all(|key| store.outputs.contains_key(*key))
        {
            return Ok(());
        }
        let published = match self.applier.job_outputs(&store.namespace(), &outputs).await {
            Ok(Some(values)) => values,
            Ok(None) => {
                tracing::info!(store = %store.id, job = outputs.job, "nothing published yet");
                return Ok(());
            }
            Err(storeplane_kube::OutputsError::List { source, .. }) => {
                return Err(failure(source, true));
            }
            Err(error) => {
                return self
                    .event(
                        store,
                        EventKind::Step,
                        format!("{error}; the store's published values are left unrecorded"),
                        json!({"step": "outputs", "error": error.to_string()}),
                    )
                    .await;
            }
        };
        let keys: Vec<&str> = published.keys().map(String::as_str).collect();
        let note = NewStoreEvent::new(
            store.id,
            Utc::now(),
            EventKind::Step,
            actor(),
            format!("{} published {}", outputs.job, keys.join(", ")),
        )
        .with_detail(json!({"step": "outputs", "job": outputs.job, "keys": keys}));
        self.repo
            .set_store_outputs(store.id, &published, note)
            .await
            .map(drop)
            .map_err(db_failure)
    }
}

//! [`Applier::set_secret_value`]: replacing one generated value of a store's Secret (a new
//! admin password), exactly once per generation.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::apply::{Applier, ApplyError, FIELD_MANAGER, with_retries};
use crate::kinds::ObjectRef;

/// The annotation on a store's Secret naming the generation of the admin password it
/// holds (`"0"` or absent: the one generated at provisioning).
pub const ADMIN_PASSWORD_GENERATION: &str = "storeplane.io/admin-password-generation";

/// Writes that lost a race with another writer (a stale `resourceVersion`) before giving
/// up: each reads the Secret again first.
const CONFLICT_ATTEMPTS: u32 = 3;

impl Applier {
    /// Sets `key` of the Secret `namespace/secret` to `value` and its
    /// [`ADMIN_PASSWORD_GENERATION`] annotation to `generation`, in one patch, unless the
    /// annotation already says `generation`. Returns whether it wrote.
    ///
    /// The check makes a reset safe to repeat: a worker that dies after writing and before
    /// the reset finished comes back, finds the generation written, and goes on with the
    /// password already in the Secret instead of writing a second one the engine's reset
    /// step never saw. The patch carries the `resourceVersion` read, so of two writers
    /// racing on one generation only one writes.
    ///
    /// `value` never appears in an error or a log line: errors name the Secret and key.
    pub async fn set_secret_value(
        &self,
        namespace: &str,
        secret: &str,
        key: &str,
        value: &str,
        generation: u32,
    ) -> Result<bool, ApplyError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let object = ObjectRef::new("Secret", Some(namespace), secret);
        let wanted = generation.to_string();
        let mut attempt = 1;
        loop {
            let live = with_retries(|| api.get_opt(secret))
                .await
                .map_err(|source| ApplyError::Apply {
                    object: object.clone(),
                    source,
                })?
                .ok_or_else(|| ApplyError::SecretMissing {
                    object: object.clone(),
                })?;
            let written = live
                .metadata
                .annotations
                .as_ref()
                .and_then(|annotations| annotations.get(ADMIN_PASSWORD_GENERATION));
            if written == Some(&wanted) {
                return Ok(false);
            }
            let patch = json!({
                "metadata": {
                    "resourceVersion": live.metadata.resource_version,
                    "annotations": { ADMIN_PASSWORD_GENERATION: wanted },
                },
                "data": { key: ByteString(value.as_bytes().to_vec()) },
            });
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PatchParams::default()
            };
            let patch = Patch::Merge(&patch);
            match with_retries(|| api.patch(secret, &params, &patch)).await {
                Ok(_) => {
                    tracing::info!(object = %object, key, generation, "secret value replaced");
                    return Ok(true);
                }
                Err(kube::Error::Api(status))
                    if status.code == 409 && attempt < CONFLICT_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(source) => return Err(ApplyError::Apply { object, source }),
            }
        }
    }
}

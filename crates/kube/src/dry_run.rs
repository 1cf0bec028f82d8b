//! [`Applier::dry_run`]: a revision's objects sent to the API server as a server-side
//! dry run, so a revision is validated and admitted (schema, immutable fields, Pod
//! Security, quota) before anything of it touches a store.

use kube::api::{PatchParams, PostParams};
use storeplane_blueprint::{ApplyMode, Resource};

use crate::apply::{Applier, ApplyError, FIELD_MANAGER, with_retries};
use crate::kinds::ObjectRef;
use crate::outcome::{self, Applied, Outcome};
use crate::recreate::{immutable_fields, recreates};

impl Applier {
    /// Sends `resources`, in order, as server-side apply with `dryRun=All`: the API
    /// server runs every validation, defaulting and admission step and stores nothing.
    /// Stops at the first object it refuses, with the error [`Applier::apply`] would give.
    ///
    /// Each outcome is what applying would do: `Created` for an absent object,
    /// `Configured` or `Unchanged` for a present one (judged from the answer's timestamps,
    /// to the second), `Recreated` for a Job whose pod template changed (an existing Job
    /// cannot be dry-run re-created, so its new template is only checked as part of the
    /// later apply). Secrets, which are created only when absent, are dry-run created.
    ///
    /// Records nothing: the applier's memory of applied objects is neither read nor
    /// written, so a dry run never makes the next apply misreport an outcome. Objects
    /// in a namespace the dry run would create are refused by a real server (the namespace
    /// does not exist yet); dry-run a store that is already provisioned.
    pub async fn dry_run(&self, resources: &[Resource]) -> Result<Vec<Applied>, ApplyError> {
        let mut answered = Vec::with_capacity(resources.len());
        for resource in resources {
            let outcome = match resource.apply_mode() {
                ApplyMode::Apply => self.dry_run_apply(resource).await?,
                ApplyMode::CreateIfAbsent => self.dry_run_create(resource).await?,
            };
            tracing::debug!(object = %resource.reference(), outcome = outcome.as_str(), "dry run");
            answered.push(Applied {
                kind: resource.kind(),
                name: match resource.namespace() {
                    Some(namespace) => format!("{namespace}/{}", resource.name()),
                    None => resource.name().to_owned(),
                },
                outcome,
            });
        }
        Ok(answered)
    }

    async fn dry_run_apply(&self, resource: &Resource) -> Result<Outcome, ApplyError> {
        let object = ObjectRef::from(resource);
        let api = self.api_for(resource);
        let params = PatchParams {
            dry_run: true,
            ..PatchParams::apply(FIELD_MANAGER).force()
        };
        let patch = kube::api::Patch::Apply(resource);
        let sent_at = outcome::now_seconds();
        match with_retries(|| api.patch(resource.name(), &params, &patch)).await {
            Ok(response) => Ok(outcome::decide(None, &response.metadata, 0, sent_at)),
            Err(kube::Error::Api(status)) => match immutable_fields(&status) {
                Some(fields) if recreates(resource, &fields) => Ok(Outcome::Recreated),
                Some(fields) => Err(ApplyError::Immutable {
                    object,
                    fields: fields.join(", "),
                }),
                None if status.code == 404 && status.reason != "NotFound" => {
                    Err(ApplyError::NotServed {
                        object,
                        api_version: resource.api_version(),
                        kind: resource.kind(),
                    })
                }
                None => Err(ApplyError::Apply {
                    object,
                    source: kube::Error::Api(status),
                }),
            },
            Err(source) => Err(ApplyError::Apply { object, source }),
        }
    }

    async fn dry_run_create(&self, resource: &Resource) -> Result<Outcome, ApplyError> {
        let object = ObjectRef::from(resource);
        let api = self.api_for(resource);
        // The error names the object only, never its (secret) contents.
        let body: kube::api::DynamicObject = serde_json::to_value(resource)
            .and_then(serde_json::from_value)
            .map_err(|source| ApplyError::Encode {
                object: object.clone(),
                source,
            })?;
        let params = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        match with_retries(|| api.create(&params, &body)).await {
            Ok(_) => Ok(Outcome::Created),
            Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(Outcome::Unchanged),
            Err(source) => Err(ApplyError::Apply { object, source }),
        }
    }
}

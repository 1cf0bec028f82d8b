//! Re-creating a Job whose pod template changed.
//!
//! The API server keeps a Job's `spec.template` and `spec.selector` immutable: an apply
//! that changes them (a new setup script, a setting that reaches the Job's env) is
//! refused with `422 Invalid`. A Job is idempotent and disposable, so the applier
//! deletes it (propagation `Background`: its pods are collected after it), watches until
//! it is gone, and applies it again; the object's outcome is [`Outcome::Recreated`].
//! Any other kind's immutable field is an error that names the field
//! ([`ApplyError::Immutable`]): deleting a StatefulSet or a claim would lose data.
//!
//! [`Outcome::Recreated`]: crate::Outcome::Recreated

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::DeleteParams;
use kube::core::Status;
use kube::runtime::wait::{await_condition, conditions};
use storeplane_blueprint::Resource;

use crate::apply::{Applier, ApplyError, with_retries};
use crate::kinds::ObjectRef;

/// How long a deleted Job may take to disappear before the pass gives up (and retries
/// later): a Job has no finalizer of its own, so it normally goes at once.
pub(crate) const RECREATE_TIMEOUT: Duration = Duration::from_secs(60);

/// The Job fields whose change re-creating the Job resolves.
const JOB_IMMUTABLE: [&str; 2] = ["spec.template", "spec.selector"];

/// The fields an `Invalid` answer refused as immutable (`field is immutable`, or a
/// `Forbidden` update of a spec), in the server's order; `None` when the answer is not
/// about an immutable field.
pub(crate) fn immutable_fields(status: &Status) -> Option<Vec<String>> {
    if status.code != 422 || status.reason != "Invalid" {
        return None;
    }
    let fields: Vec<String> = status
        .details
        .iter()
        .flat_map(|details| &details.causes)
        .filter(|cause| {
            cause.message.ends_with("field is immutable") || cause.reason == "FieldValueForbidden"
        })
        .map(|cause| cause.field.clone())
        .collect();
    (!fields.is_empty()).then_some(fields)
}

/// Whether `resource` refused as immutable on `fields` is resolved by re-creating it.
pub(crate) fn recreates(resource: &Resource, fields: &[String]) -> bool {
    matches!(resource, Resource::Job(_))
        && fields.iter().all(|f| JOB_IMMUTABLE.contains(&f.as_str()))
}

impl Applier {
    /// Deletes the Job `resource` names and watches until it is gone, within `timeout`.
    /// A Job already gone counts as deleted. Every await is a cancellation point.
    pub(crate) async fn delete_job(
        &self,
        resource: &Resource,
        timeout: Duration,
    ) -> Result<(), ApplyError> {
        let object = ObjectRef::from(resource);
        let namespace = resource.namespace().unwrap_or("default");
        let api: Api<Job> = Api::namespaced(self.client.clone(), namespace);
        let failed = |source| ApplyError::Recreate {
            object: object.clone(),
            source,
        };
        let delete = DeleteParams::background();
        let uid = match with_retries(|| api.delete(resource.name(), &delete)).await {
            Ok(either) => either.left().and_then(|job| job.metadata.uid),
            Err(kube::Error::Api(status)) if status.is_not_found() => return Ok(()),
            Err(source) => return Err(failed(source)),
        };
        // `Right` means the server removed it at once: nothing to wait for.
        let Some(uid) = uid else {
            return Ok(());
        };
        let gone = await_condition(api, resource.name(), conditions::is_deleted(&uid));
        match tokio::time::timeout(timeout, gone).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(ApplyError::RecreateWatch { object, source }),
            Err(_elapsed) => Err(ApplyError::RecreateStuck {
                object,
                waited: timeout,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invalid(reason: &str, message: &str, field: &str) -> Status {
        serde_json::from_value(json!({
            "status": "Failure", "code": 422, "reason": "Invalid", "message": "",
            "details": {"name": "woocommerce-setup", "group": "batch", "kind": "Job",
                        "causes": [{"reason": reason, "message": message, "field": field}]},
        }))
        .unwrap_or_else(|e| panic!("a Status: {e}"))
    }

    #[test]
    fn an_immutable_template_is_named_from_the_causes() {
        let status = invalid(
            "FieldValueInvalid",
            "Invalid value: {}: field is immutable",
            "spec.template",
        );
        assert_eq!(
            immutable_fields(&status),
            Some(vec!["spec.template".to_owned()])
        );
    }

    #[test]
    fn an_invalid_name_is_not_an_immutable_field() {
        let status = invalid("FieldValueRequired", "Required value", "metadata.name");
        assert_eq!(immutable_fields(&status), None);
    }
}

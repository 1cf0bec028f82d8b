//! [`Applier::remove`]: deleting objects a pass applied for one step only (an engine
//! step's Job and its NetworkPolicies), once the step is done.

use kube::api::DeleteParams;
use storeplane_blueprint::Resource;

use crate::apply::{Applier, ApplyError, with_retries};
use crate::kinds::ObjectRef;

impl Applier {
    /// Deletes `resources`, in reverse order (a Job before the policies that fence its
    /// pod), with background propagation so a Job's pods go with it. An object already
    /// gone counts as deleted; nothing is waited for. Idempotent.
    pub async fn remove(&self, resources: &[Resource]) -> Result<(), ApplyError> {
        let params = DeleteParams::background();
        for resource in resources.iter().rev() {
            let api = self.api_for(resource);
            let object = ObjectRef::from(resource);
            match with_retries(|| api.delete(resource.name(), &params)).await {
                Ok(_) => tracing::debug!(object = %object, "removed"),
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(source) => return Err(ApplyError::Remove { object, source }),
            }
            self.forget(&object);
        }
        Ok(())
    }
}

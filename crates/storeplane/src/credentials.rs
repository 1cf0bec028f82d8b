//! The API's reveal-once endpoint reads a store's initial admin credentials from the
//! store's Secret in the cluster: they are never kept anywhere else.

use async_trait::async_trait;
use storeplane_api::{AdminCredentials, CredentialsError, CredentialsSource};
use storeplane_blueprint::Blueprint;
use storeplane_domain::Store;
use storeplane_kube::Applier;

#[derive(Debug, Clone)]
pub struct ClusterCredentials {
    pub applier: Applier,
}

#[async_trait]
impl CredentialsSource for ClusterCredentials {
    async fn admin_credentials(
        &self,
        store: &Store,
    ) -> Result<Option<AdminCredentials>, CredentialsError> {
        let fail = |reason: String| CredentialsError {
            store: store.id,
            reason,
        };
        let reference =
            Blueprint::credentials(store.spec.engine).map_err(|e| fail(e.to_string()))?;
        let found = self
            .applier
            .read_admin_credentials(&store.namespace(), &reference)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(found.map(|(username, password)| AdminCredentials { username, password }))
    }
}

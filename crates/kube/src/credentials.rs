//! Reading a store's initial admin credentials from its Secret, for the reveal-once
//! endpoint.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use storeplane_blueprint::CredentialsRef;

use crate::apply::{Applier, with_retries};
use crate::transient::is_transient;

/// Reading the credentials failed. Messages name the Secret and key, never a value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("failed to read Secret {namespace}/{secret}: {source}")]
    Read {
        namespace: String,
        secret: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {namespace}/{secret} has no usable key {key:?} (missing or not UTF-8)")]
    MissingKey {
        namespace: String,
        secret: String,
        key: String,
    },
}

impl CredentialsError {
    /// True when reading again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Read { source, .. } => is_transient(source),
            Self::MissingKey { .. } => false,
        }
    }
}

/// The UTF-8 value of `key` in `secret`. `stringData` is write-only on a real server, but
/// an object written without a round trip (or by a test double) may still carry it.
fn value_of(secret: &Secret, key: &str) -> Option<String> {
    secret
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .cloned()
        })
}

impl Applier {
    /// The `(username, password)` kept in the Secret `cref` names in `namespace`, or
    /// `None` when that Secret does not exist yet. One request; read-only.
    pub async fn read_admin_credentials(
        &self,
        namespace: &str,
        cref: &CredentialsRef,
    ) -> Result<Option<(String, String)>, CredentialsError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = with_retries(|| api.get_opt(cref.secret))
            .await
            .map_err(|source| CredentialsError::Read {
                namespace: namespace.to_owned(),
                secret: cref.secret.to_owned(),
                source,
            })?;
        let Some(secret) = secret else {
            return Ok(None);
        };
        let value = |key: &str| {
            value_of(&secret, key).ok_or_else(|| CredentialsError::MissingKey {
                namespace: namespace.to_owned(),
                secret: cref.secret.to_owned(),
                key: key.to_owned(),
            })
        };
        Ok(Some((value(cref.username_key)?, value(cref.password_key)?)))
    }

    /// The value of `key` in Secret `secret` of `namespace`, or `None` when that Secret
    /// does not exist. One request; read-only.
    pub async fn secret_value(
        &self,
        namespace: &str,
        secret: &str,
        key: &str,
    ) -> Result<Option<String>, CredentialsError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let found = with_retries(|| api.get_opt(secret))
            .await
            .map_err(|source| CredentialsError::Read {
                namespace: namespace.to_owned(),
                secret: secret.to_owned(),
                source,
            })?;
        let Some(found) = found else {
            return Ok(None);
        };
        value_of(&found, key)
            .map(Some)
            .ok_or_else(|| CredentialsError::MissingKey {
                namespace: namespace.to_owned(),
                secret: secret.to_owned(),
                key: key.to_owned(),
            })
    }
}

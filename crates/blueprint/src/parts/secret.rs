//! A Secret of the store holding some of its generated values. Values go in `data`, not
//! `stringData`: the API server folds `stringData` into `data`, so a server-side apply of
//! `stringData` would never look settled.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::secrets::StoreSecrets;

/// Secret `name` with the values of `keys`, which were checked against the engine's
/// requirements before building.
pub fn secret(
    store: &StoreContext<'_>,
    name: &str,
    keys: &[&str],
    values: &StoreSecrets,
) -> Secret {
    let data = keys
        .iter()
        .map(|key| {
            let value = values.get(key).unwrap_or_default();
            ((*key).to_owned(), ByteString(value.as_bytes().to_vec()))
        })
        .collect::<BTreeMap<_, _>>();
    Secret {
        metadata: store.metadata(name, Component::Credentials),
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

//! A claim of the store: declared objects rather than a StatefulSet
//! `volumeClaimTemplate`, so they carry the store's labels and count in the quota check
//! like everything else. `ReadWriteOnce` binds a volume to one node.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::quantity::Bytes;

/// A `ReadWriteOnce` claim of `size` in the platform's storage class.
pub fn claim(
    store: &StoreContext<'_>,
    name: &str,
    component: Component,
    size: Bytes,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: store.metadata(name, component),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
            storage_class_name: store.settings.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_owned(), size.quantity())])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

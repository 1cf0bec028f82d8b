//! The store's two claims: MariaDB's data directory and WordPress's `wp-content`
//! (uploads, plugins, themes). Both are declared objects rather than a StatefulSet
//! `volumeClaimTemplate`, so they carry the store's labels and count in the quota check
//! like everything else.
//!
//! `ReadWriteOnce` binds a volume to one node; the setup Job shares `wp-content` with the
//! WordPress pod by being scheduled next to it (see `job.rs`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::quantity::Bytes;

pub const MARIADB_DATA: &str = "mariadb-data";
pub const WORDPRESS_CONTENT: &str = "wordpress-content";

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

pub fn mariadb_data(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let size = store.plan().database_storage;
    claim(store, MARIADB_DATA, Component::Database, size)
}

pub fn wordpress_content(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let size = store.plan().web_storage;
    claim(store, WORDPRESS_CONTENT, Component::Web, size)
}

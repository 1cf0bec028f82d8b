//! The store's two claims: MariaDB's data directory and WordPress's `wp-content`
//! (uploads, plugins, themes). `ReadWriteOnce` binds a volume to one node; the setup Job
//! shares `wp-content` with the WordPress pod by being scheduled next to it (see
//! `job.rs`).

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use crate::engine::StoreContext;
use crate::labels::Component;
use crate::parts::claim;

pub const MARIADB_DATA: &str = "mariadb-data";
pub const WORDPRESS_CONTENT: &str = "wordpress-content";

pub fn mariadb_data(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let size = store.plan().database_storage;
    claim(store, MARIADB_DATA, Component::Database, size)
}

pub fn wordpress_content(store: &StoreContext<'_>) -> PersistentVolumeClaim {
    let size = store.plan().web_storage;
    claim(store, WORDPRESS_CONTENT, Component::Web, size)
}

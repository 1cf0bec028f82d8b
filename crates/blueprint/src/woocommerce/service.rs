//! The store's Services, both internal: MariaDB's headless Service (the StatefulSet's
//! governing Service, giving `mariadb-0.mariadb` a stable name) and WordPress's
//! ClusterIP Service behind the front door.

use k8s_openapi::api::core::v1::Service;

use super::{DB_PORT, MARIADB, WEB_PORT, WORDPRESS};
use crate::engine::StoreContext;
use crate::labels::Component;
use crate::parts::service;

pub fn mariadb(store: &StoreContext<'_>) -> Service {
    service(
        store,
        MARIADB,
        Component::Database,
        ("mysql", DB_PORT),
        true,
    )
}

pub fn wordpress(store: &StoreContext<'_>) -> Service {
    service(store, WORDPRESS, Component::Web, ("http", WEB_PORT), false)
}

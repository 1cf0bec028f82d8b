//! Stores as tests need them: built from a name, adjusted one field at a time.

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_api::dto::StoreView;
use storeplane_domain::{StoreId, StoreStatus};

/// A store named `name`, ready, created at `created_at`.
pub fn store_created(name: &str, created_at: DateTime<Utc>) -> StoreView {
    let id = StoreId::generate();
    serde_json::from_value(json!({
        "id": id, "name": name, "engine": "woocommerce", "plan": "small", "status": "ready",
        "status_reason": null, "owner_id": "01936f3e-0000-7000-8000-000000000001",
        "namespace": id.namespace(), "url": format!("http://{name}.127.0.0.1.nip.io"),
        "admin_url": format!("http://{name}.127.0.0.1.nip.io/wp-admin/"),
        "created_at": created_at, "updated_at": created_at, "last_checked_at": null,
        "release": "wp6.8-wc9.8", "title": name, "revision": 1, "latest_revision": 1,
        "operation": null, "release_is_default": true,
    }))
    .unwrap()
}

/// A ready store named `name`, created a minute ago.
pub fn store(name: &str) -> StoreView {
    store_created(name, Utc::now() - chrono::Duration::minutes(1))
}

/// The same store in another status.
pub fn with_status(mut store: StoreView, status: StoreStatus) -> StoreView {
    store.status = status;
    store
}

//! Watching one object until a condition holds, in one API request when nothing goes
//! wrong.
//!
//! `kube::runtime::wait::await_condition` lists, then watches: two requests per object.
//! A watch from resourceVersion `"0"` instead starts with the object's current state as
//! a synthetic `ADDED` event (served from the API server's watch cache), which halves
//! the requests a store's readiness costs and keeps a provisioning pass within its
//! request budget. An object that does not exist yet produces no event until it is
//! created, which is exactly "not ready".

use std::fmt::Debug;

use futures::{StreamExt, TryStreamExt};
use kube::Api;
use kube::api::{WatchEvent, WatchParams};
use serde::de::DeserializeOwned;

/// Watches `name` until `ready` holds for it, and returns it. When the server ends the
/// watch (its timeout) the watch resumes from the last version seen; when that version
/// has expired (410), from the current state. Cancel it with a timeout: it never gives
/// up on its own. Every await is a cancellation point.
pub(crate) async fn watch_until<K>(
    api: &Api<K>,
    name: &str,
    ready: impl Fn(&K) -> bool,
) -> Result<K, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let params = WatchParams::default().fields(&format!("metadata.name={name}"));
    let mut version = "0".to_owned();
    loop {
        let mut events = api.watch(&params, &version).await?.boxed();
        while let Some(event) = events.try_next().await? {
            match event {
                WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                    if ready(&object) {
                        return Ok(object);
                    }
                    version = object.meta().resource_version.clone().unwrap_or(version);
                }
                WatchEvent::Deleted(object) => {
                    version = object.meta().resource_version.clone().unwrap_or(version);
                }
                WatchEvent::Bookmark(bookmark) => version = bookmark.metadata.resource_version,
                WatchEvent::Error(status) if status.code == 410 => {
                    version = "0".to_owned();
                    break;
                }
                WatchEvent::Error(status) => return Err(kube::Error::Api(status)),
            }
        }
    }
}

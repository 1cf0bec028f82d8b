//! The resource quota controller: keeps each ResourceQuota's `status` (`hard` mirrored,
//! `used` counted) current as the objects it counts are created, change (a pod that
//! finishes stops counting) and are deleted.

use super::Cluster;
use super::workloads::write_status;
use crate::kinds::KindId;
use crate::quota;
use crate::store::{Event, EventType};
use crate::store::{is_deleting, name_of};

/// Whether an event on an object of `kind` (its name) can change what a quota holds:
/// anything but the many status writes that change nothing counted, a running pod's
/// (only a pod's phase turning `Succeeded` or `Failed` frees its share) and a quota's own
/// (its `status.hard` already mirrors its `spec.hard`).
pub fn may_change_usage(kind: &str, event: &Event) -> bool {
    if event.event_type != EventType::Modified || is_deleting(&event.object) {
        return true;
    }
    match kind {
        "Pod" => matches!(
            event.object["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        ),
        "ResourceQuota" => event.object["spec"]["hard"] != event.object["status"]["hard"],
        _ => true,
    }
}

/// Recounts the quotas of `ns` that an event on an object of `kind` may change.
pub fn recount(cluster: &Cluster, kind: KindId, ns: &str) {
    let quota_kind = super::kind_named("ResourceQuota");
    let store = &cluster.store;
    for resource_quota in store.objects_named(quota_kind, ns, "") {
        if is_deleting(&resource_quota)
            || !(kind == quota_kind || quota::counts(&resource_quota, kind))
        {
            continue;
        }
        let status = quota::status(&resource_quota, &|k| store.objects_named(k, ns, ""));
        write_status(cluster, quota_kind, ns, name_of(&resource_quota), status);
    }
}

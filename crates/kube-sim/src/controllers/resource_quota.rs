//! The resource quota controller: keeps each ResourceQuota's `status` (`hard` mirrored,
//! `used` counted) current as the objects it counts are created, change (a pod that
//! finishes stops counting) and are deleted.

use super::Cluster;
use super::workloads::write_status;
use crate::kinds::KindId;
use crate::quota;
use crate::store::{is_deleting, name_of};

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

//! Events the simulated controllers record, as client-go's event recorder writes them:
//! a core/v1 Event about the workload, repeated occurrences of the same reason folded into
//! one Event whose `count` and `lastTimestamp` move (so a workload retrying a refused pod
//! leaves one readable Event, not thousands).

use serde_json::{Value, json};

use crate::kinds::{self, KindId};
use crate::random;
use crate::store::{Store, WriteContext, name_of, namespace_of, now, uid_of};

fn event_kind() -> KindId {
    super::kind_named("Event")
}

/// Records a `Warning` Event with `reason` and `message` about `involved` (a stored
/// workload), reported by `component` (e.g. `replicaset-controller`).
pub fn warn(store: &Store, involved: &Value, component: &str, reason: &str, message: &str) {
    let ns = namespace_of(involved);
    let name = format!(
        "{}.{}",
        name_of(involved),
        random::stable_hash(&format!("{}/{reason}", uid_of(involved)))
    );
    let system = WriteContext::system();
    let at = now();
    let repeated = store.modify(
        event_kind(),
        Some(ns),
        &name,
        crate::store::Subresource::Main,
        &system,
        |live| {
            let mut event = live.clone();
            let count = live.get("count").and_then(Value::as_i64).unwrap_or(1);
            event["count"] = json!(count + 1);
            event["message"] = json!(message);
            event["lastTimestamp"] = json!(at);
            Ok(event)
        },
    );
    if repeated.is_ok() {
        return;
    }
    let kind = involved
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = kinds::KINDS
        .iter()
        .find(|k| k.kind == kind)
        .map(|k| k.api_version())
        .unwrap_or_default();
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": { "name": name, "namespace": ns },
        "involvedObject": {
            "apiVersion": api_version,
            "kind": kind,
            "name": name_of(involved),
            "namespace": ns,
            "uid": uid_of(involved),
            "resourceVersion": involved.pointer("/metadata/resourceVersion").cloned()
                .unwrap_or(Value::Null),
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 1,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "source": { "component": component },
        "reportingComponent": component,
        "reportingInstance": "",
    });
    // An Event that cannot be written (its namespace is going away) is lost, as on a
    // real cluster.
    let _ = store.create(event_kind(), Some(ns), event, &system);
}

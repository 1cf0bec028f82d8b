//! LimitRange admission, as the API server's `LimitRanger` plugin runs it: a mutating
//! step that fills a namespace's defaults into the containers of a new Pod, then a
//! validating step that refuses a Pod or PersistentVolumeClaim outside the ranges' `min`,
//! `max` and `maxLimitRequestRatio`.
//!
//! Defaults follow the API's own defaulting of a `Container` item (a missing `default`
//! is its `max`, a missing `defaultRequest` its `default`, else its `min`), and a
//! container's requests default to its limits first, as Pod defaulting does, so what is
//! checked is what a real server would store. Refusals are `403 Forbidden` with
//! upstream's messages (`maximum cpu usage per Container is 1, but limit is 2`), several
//! at once in brackets, as Go's aggregated errors print.
//! <https://kubernetes.io/docs/concepts/policy/limit-range/>

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::quantity::Quantity;

/// The annotation upstream records the defaults it set in.
const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// A resource list (`{"cpu": "100m"}`), parsed; values that are not quantities are
/// left to validation.
pub type Resources = BTreeMap<String, Quantity>;

/// Parses a resource list.
pub fn resources(list: Option<&Value>) -> Resources {
    list.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((name.clone(), Quantity::parse(&text)?))
        })
        .collect()
}

/// One `spec.limits` item, with the API's defaults applied.
struct Item {
    type_: String,
    min: Resources,
    max: Resources,
    ratio: Resources,
    /// The defaults, as written into containers.
    default_raw: Map<String, Value>,
    default_request_raw: Map<String, Value>,
}

fn items(ranges: &[Arc<Value>]) -> Vec<Item> {
    let mut out = Vec::new();
    for range in ranges {
        let list = range.pointer("/spec/limits").and_then(Value::as_array);
        for raw in list.into_iter().flatten() {
            let type_ = raw["type"].as_str().unwrap_or_default().to_string();
            let object = |key: &str| raw.get(key).and_then(Value::as_object).cloned();
            let mut default_raw = object("default").unwrap_or_default();
            let mut default_request_raw = object("defaultRequest").unwrap_or_default();
            if type_ == "Container" {
                for (k, v) in object("max").unwrap_or_default() {
                    default_raw.entry(k).or_insert(v);
                }
                for (k, v) in default_raw.clone() {
                    default_request_raw.entry(k).or_insert(v);
                }
                for (k, v) in object("min").unwrap_or_default() {
                    default_request_raw.entry(k).or_insert(v);
                }
            }
            out.push(Item {
                min: resources(raw.get("min")),
                max: resources(raw.get("max")),
                ratio: resources(raw.get("maxLimitRequestRatio")),
                type_,
                default_raw,
                default_request_raw,
            });
        }
    }
    out
}

/// Fills defaults into a new Pod's containers, then checks it against the ranges.
/// `Err` holds the reason, to follow `pods "x" is forbidden: `.
pub fn admit_pod(pod: &mut Value, ranges: &[Arc<Value>]) -> Result<(), String> {
    let items = items(ranges);
    requests_default_to_limits(pod);
    if items.is_empty() {
        return Ok(());
    }
    set_defaults(pod, &items);
    let mut errors = Vec::new();
    let containers = containers(pod);
    for item in &items {
        match item.type_.as_str() {
            "Container" => {
                for (requests, limits) in &containers {
                    check(item, "Container", requests, limits, &mut errors);
                }
            }
            "Pod" => {
                let (requests, limits) = pod_totals(&containers);
                check(item, "Pod", &requests, &limits, &mut errors);
            }
            _ => {}
        }
    }
    aggregate(errors)
}

/// Checks a new or resized claim against the ranges' `PersistentVolumeClaim` items.
pub fn admit_claim(claim: &Value, ranges: &[Arc<Value>]) -> Result<(), String> {
    let requests = resources(claim.pointer("/spec/resources/requests"));
    let mut errors = Vec::new();
    for item in items(ranges)
        .iter()
        .filter(|i| i.type_ == "PersistentVolumeClaim")
    {
        let kind = "PersistentVolumeClaim";
        for (name, min) in &item.min {
            match requests.get(name) {
                None => errors.push(format!(
                    "minimum {name} usage per {kind} is {min}.  No request is specified"
                )),
                Some(req) if req < min => errors.push(format!(
                    "minimum {name} usage per {kind} is {min}, but request is {req}"
                )),
                Some(_) => {}
            }
        }
        for (name, max) in &item.max {
            match requests.get(name) {
                None => errors.push(format!(
                    "maximum {name} usage per {kind} is {max}.  No request is specified"
                )),
                Some(req) if req > max => errors.push(format!(
                    "maximum {name} usage per {kind} is {max}, but request is {req}"
                )),
                Some(_) => {}
            }
        }
    }
    aggregate(errors)
}

/// Go's aggregated error: one message alone, several in brackets.
fn aggregate(errors: Vec<String>) -> Result<(), String> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.into_iter().next().unwrap_or_default()),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

const CONTAINER_LISTS: [(&str, &str); 2] = [
    ("containers", "container"),
    ("initContainers", "init container"),
];

/// Pod defaulting: a container that sets a limit and no request requests its limit.
fn requests_default_to_limits(pod: &mut Value) {
    for (list, _) in CONTAINER_LISTS {
        let Some(containers) = pod
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for container in containers {
            let Some(limits) = container
                .pointer("/resources/limits")
                .and_then(Value::as_object)
                .cloned()
            else {
                continue;
            };
            let requests = &mut container["resources"]["requests"];
            if !requests.is_object() {
                *requests = json!({});
            }
            if let Some(requests) = requests.as_object_mut() {
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        }
    }
}

/// The mutating step: every container gets the defaults it does not set, and the pod
/// an annotation saying which were set, worded as upstream's.
fn set_defaults(pod: &mut Value, items: &[Item]) {
    let mut notes = Vec::new();
    for item in items.iter().filter(|i| i.type_ == "Container") {
        for (list, label) in CONTAINER_LISTS {
            let Some(containers) = pod
                .pointer_mut(&format!("/spec/{list}"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for container in containers {
                let name = container["name"].as_str().unwrap_or_default().to_string();
                for (field, defaults, word) in [
                    ("requests", &item.default_request_raw, "request"),
                    ("limits", &item.default_raw, "limit"),
                ] {
                    let set = merge(container, field, defaults);
                    if !set.is_empty() {
                        notes.push(format!("{} {word} for {label} {name}", set.join(", ")));
                    }
                }
            }
        }
    }
    if !notes.is_empty() {
        let annotations = &mut pod["metadata"]["annotations"];
        if !annotations.is_object() {
            *annotations = json!({});
        }
        annotations[ANNOTATION] = json!(format!("LimitRanger plugin set: {}", notes.join("; ")));
    }
}

/// Adds the defaults a container lacks to `resources.<field>`; returns the names set.
fn merge(container: &mut Value, field: &str, defaults: &Map<String, Value>) -> Vec<String> {
    if defaults.is_empty() {
        return Vec::new();
    }
    if !container["resources"].is_object() {
        container["resources"] = json!({});
    }
    let list = &mut container["resources"][field];
    if !list.is_object() {
        *list = json!({});
    }
    let mut set = Vec::new();
    if let Some(list) = list.as_object_mut() {
        for (k, v) in defaults {
            if !list.contains_key(k) {
                list.insert(k.clone(), v.clone());
                set.push(k.clone());
            }
        }
    }
    set.sort();
    set
}

fn containers(pod: &Value) -> Vec<(Resources, Resources)> {
    CONTAINER_LISTS
        .iter()
        .filter_map(|(list, _)| pod.pointer(&format!("/spec/{list}"))?.as_array())
        .flatten()
        .map(|c| {
            (
                resources(c.pointer("/resources/requests")),
                resources(c.pointer("/resources/limits")),
            )
        })
        .collect()
}

fn pod_totals(containers: &[(Resources, Resources)]) -> (Resources, Resources) {
    let mut requests = Resources::new();
    let mut limits = Resources::new();
    for (r, l) in containers {
        for (k, v) in r {
            *requests.entry(k.clone()).or_default() =
                requests.get(k).copied().unwrap_or_default() + *v;
        }
        for (k, v) in l {
            *limits.entry(k.clone()).or_default() = limits.get(k).copied().unwrap_or_default() + *v;
        }
    }
    (requests, limits)
}

fn check(
    item: &Item,
    kind: &str,
    requests: &Resources,
    limits: &Resources,
    errors: &mut Vec<String>,
) {
    for (name, min) in &item.min {
        let (req, lim) = (requests.get(name), limits.get(name));
        match req {
            None => errors.push(format!(
                "minimum {name} usage per {kind} is {min}.  No request is specified"
            )),
            Some(req) if req < min => errors.push(format!(
                "minimum {name} usage per {kind} is {min}, but request is {req}"
            )),
            Some(_) => {
                if let Some(lim) = lim.filter(|l| *l < min) {
                    errors.push(format!(
                        "minimum {name} usage per {kind} is {min}, but limit is {lim}"
                    ));
                }
            }
        }
    }
    for (name, max) in &item.max {
        let (req, lim) = (requests.get(name), limits.get(name));
        match lim {
            None => errors.push(format!(
                "maximum {name} usage per {kind} is {max}.  No limit is specified"
            )),
            Some(lim) if lim > max => errors.push(format!(
                "maximum {name} usage per {kind} is {max}, but limit is {lim}"
            )),
            Some(_) => {
                if let Some(req) = req.filter(|r| *r > max) {
                    errors.push(format!(
                        "maximum {name} usage per {kind} is {max}, but request is {req}"
                    ));
                }
            }
        }
    }
    for (name, ratio) in &item.ratio {
        let prefix = format!("{name} max limit to request ratio per {kind} is {ratio}");
        let req = requests.get(name).filter(|r| !r.is_zero());
        let lim = limits.get(name).filter(|l| !l.is_zero());
        match (req, lim) {
            (None, _) => errors.push(format!(
                "{prefix}, but no request is specified or request is 0"
            )),
            (_, None) => errors.push(format!("{prefix}, but no limit is specified or limit is 0")),
            (Some(req), Some(lim)) => {
                let observed = lim.ratio(*req);
                if observed > ratio.ratio(Quantity::count(1)) {
                    errors.push(format!("{prefix}, but provided ratio is {observed:.6}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(item: Value) -> Vec<Arc<Value>> {
        vec![Arc::new(json!({"spec": {"limits": [item]}}))]
    }

    fn pod(resources: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"containers": [
            {"name": "web", "image": "nginx", "resources": resources}]}})
    }

    #[test]
    fn a_container_that_sets_nothing_gets_the_defaults_and_the_annotation() {
        let ranges = range(json!({"type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}));
        let mut pod = pod(json!({}));
        admit_pod(&mut pod, &ranges).expect("admitted");
        assert_eq!(
            pod["spec"]["containers"][0]["resources"],
            json!({"requests": {"cpu": "100m", "memory": "128Mi"},
                   "limits": {"cpu": "500m", "memory": "512Mi"}})
        );
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu, memory request for container web; \
             cpu, memory limit for container web"
        );
    }

    #[test]
    fn a_set_limit_becomes_the_request_before_defaults_apply() {
        let ranges = range(json!({"type": "Container", "defaultRequest": {"cpu": "100m"}}));
        let mut pod = pod(json!({"limits": {"cpu": "2"}}));
        admit_pod(&mut pod, &ranges).expect("admitted");
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "2"
        );
    }

    #[test]
    fn a_container_over_the_max_is_refused_with_upstreams_words() {
        let ranges = range(json!({"type": "Container", "max": {"cpu": "1", "memory": "1Gi"}}));
        let mut over = pod(json!({"limits": {"cpu": "2", "memory": "2Gi"}}));
        assert_eq!(
            admit_pod(&mut over, &ranges),
            Err("[maximum cpu usage per Container is 1, but limit is 2, \
                 maximum memory usage per Container is 1Gi, but limit is 2Gi]"
                .into())
        );
    }

    #[test]
    fn a_request_under_the_min_and_a_burst_over_the_ratio_are_refused() {
        let min = range(json!({"type": "Container", "min": {"memory": "64Mi"}}));
        let mut small = pod(json!({"requests": {"memory": "32Mi"}, "limits": {"memory": "1Gi"}}));
        assert_eq!(
            admit_pod(&mut small, &min),
            Err("minimum memory usage per Container is 64Mi, but request is 32Mi".into())
        );
        let ratio = range(json!({"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}));
        let mut bursty = pod(json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}));
        assert_eq!(
            admit_pod(&mut bursty, &ratio),
            Err(
                "cpu max limit to request ratio per Container is 2, but provided ratio is \
                 10.000000"
                    .into()
            )
        );
    }

    #[test]
    fn a_claim_over_the_max_storage_is_refused() {
        let ranges = range(json!({"type": "PersistentVolumeClaim", "max": {"storage": "5Gi"}}));
        let claim = json!({"spec": {"resources": {"requests": {"storage": "10Gi"}}}});
        assert_eq!(
            admit_claim(&claim, &ranges),
            Err(
                "maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi"
                    .into()
            )
        );
    }
}

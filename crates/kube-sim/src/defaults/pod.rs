//! Pod spec defaults, shared by Pods and every pod template (Deployments, StatefulSets,
//! ReplicaSets, Jobs), as upstream's `pkg/apis/core/v1/defaults.go` sets them.

use serde_json::{Map, Value, json};

use super::{or_insert, or_insert_with};

/// `SetDefaults_PodSpec` and the defaults of everything a pod spec holds.
pub fn spec(spec: &mut Map<String, Value>) {
    or_insert(spec, "dnsPolicy", json!("ClusterFirst"));
    or_insert(spec, "restartPolicy", json!("Always"));
    or_insert(spec, "terminationGracePeriodSeconds", json!(30));
    or_insert(spec, "securityContext", json!({}));
    or_insert(spec, "schedulerName", json!("default-scheduler"));
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        for container in objects_in(spec, field) {
            self::container(container);
        }
    }
    for volume in objects_in(spec, "volumes") {
        self::volume(volume);
    }
}

/// `SetDefaults_Pod`: what a Pod gets beyond its spec's defaults (templates do not).
pub fn pod_only(spec: &mut Map<String, Value>) {
    or_insert(spec, "enableServiceLinks", json!(true));
    for field in ["containers", "initContainers"] {
        for container in objects_in(spec, field) {
            requests_from_limits(container);
        }
    }
}

/// The items of the list `field` that are objects (client input: anything else is left
/// for validation to refuse).
pub fn objects_in<'a>(
    map: &'a mut Map<String, Value>,
    field: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(field)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn container(container: &mut Map<String, Value>) {
    or_insert(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    or_insert(container, "terminationMessagePolicy", json!("File"));
    if let Some(image) = container.get("image").and_then(Value::as_str) {
        let policy = image_pull_policy(image);
        or_insert(container, "imagePullPolicy", json!(policy));
    }
    for port in objects_in(container, "ports") {
        or_insert(port, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).and_then(Value::as_object_mut) {
            self::probe(probe);
        }
    }
    if let Some(lifecycle) = container
        .get_mut("lifecycle")
        .and_then(Value::as_object_mut)
    {
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = lifecycle.get_mut(hook).and_then(Value::as_object_mut) {
                self::handler(handler);
            }
        }
    }
    for env in objects_in(container, "env") {
        if let Some(field_ref) = env
            .get_mut("valueFrom")
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(Value::as_object_mut)
        {
            or_insert(field_ref, "apiVersion", json!("v1"));
        }
    }
}

/// `Always` for `:latest` or an image without a tag, else `IfNotPresent`
/// (`SetDefaults_Container`; a digest counts as a tag).
fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // The tag follows the last ':' after the last '/' (a registry may carry a port).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn probe(probe: &mut Map<String, Value>) {
    or_insert(probe, "timeoutSeconds", json!(1));
    or_insert(probe, "periodSeconds", json!(10));
    or_insert(probe, "successThreshold", json!(1));
    or_insert(probe, "failureThreshold", json!(3));
    handler(probe);
}

/// Probe and lifecycle handlers: `httpGet` gets a path and a scheme.
fn handler(handler: &mut Map<String, Value>) {
    if let Some(http) = handler.get_mut("httpGet").and_then(Value::as_object_mut) {
        or_insert(http, "path", json!("/"));
        or_insert(http, "scheme", json!("HTTP"));
    }
}

/// `SetDefaults_Pod`: a container with limits and no requests requests its limits.
fn requests_from_limits(container: &mut Map<String, Value>) {
    let Some(resources) = container
        .get_mut("resources")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let requests = or_insert_with(resources, "requests", || json!({}));
    if let Some(requests) = requests.as_object_mut() {
        for (resource, quantity) in limits {
            requests.entry(resource).or_insert(quantity);
        }
    }
}

/// `SetDefaults_Volume` and the volume sources' defaults: a volume without a source is
/// an emptyDir, and files projected from Secrets and ConfigMaps get mode 0644.
fn volume(volume: &mut Map<String, Value>) {
    // Every other field of a volume is a source.
    if volume
        .iter()
        .all(|(key, value)| key == "name" || value.is_null())
    {
        volume.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(source) = volume.get_mut(source).and_then(Value::as_object_mut) {
            or_insert(source, "defaultMode", json!(420));
        }
    }
    if let Some(host_path) = volume.get_mut("hostPath").and_then(Value::as_object_mut) {
        or_insert(host_path, "type", json!(""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_and_untagged_images_are_always_pulled() {
        assert_eq!(image_pull_policy("wordpress"), "Always");
        assert_eq!(image_pull_policy("wordpress:latest"), "Always");
        assert_eq!(image_pull_policy("registry:5000/wordpress"), "Always");
        assert_eq!(image_pull_policy("wordpress:6.8-apache"), "IfNotPresent");
        assert_eq!(
            image_pull_policy("registry:5000/wordpress@sha256:abc"),
            "IfNotPresent"
        );
    }

    #[test]
    fn a_pod_with_only_limits_requests_them() {
        let mut pod = json!({"containers": [{"name": "c", "image": "x:1",
            "resources": {"limits": {"cpu": "1"}}}]});
        let spec_map = pod.as_object_mut().expect("an object");
        spec(spec_map);
        pod_only(spec_map);
        assert_eq!(
            pod["containers"][0]["resources"],
            json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})
        );
    }

    #[test]
    fn an_http_probe_reads_back_with_every_threshold_and_its_scheme() {
        let mut pod = json!({"containers": [{"name": "c", "image": "x:1",
            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}}}]});
        spec(pod.as_object_mut().expect("an object"));
        assert_eq!(
            pod["containers"][0]["readinessProbe"],
            json!({"httpGet": {"path": "/health", "port": "http", "scheme": "HTTP"},
                   "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3})
        );
    }
}

//! Field sets: which fields of an object a field manager owns.
//!
//! A path is a list of elements in the `fieldsV1` encoding the real API server uses
//! (`f:spec`, `k:{"name":"web"}`, `.`), so a set converts to and from the
//! `managedFields[].fieldsV1` tree without translation. Lists of objects that all carry a
//! unique key field (`name`, `mountPath`, `containerPort`, `port`, `type`) are treated as
//! associative lists, the way the built-in schemas mark containers, env, ports and
//! conditions; every other list is atomic and owned as one leaf.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One path element, in `fieldsV1` encoding.
pub type Element = String;
/// A path from the object root to an owned field.
pub type Path = Vec<Element>;

/// Fields never tracked in managedFields (identity and server-owned metadata).
const UNTRACKED_TOP: &[&str] = &["apiVersion", "kind"];
const UNTRACKED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Candidate key fields for associative lists, in order of preference.
const LIST_KEYS: &[&str] = &["mountPath", "name", "containerPort", "port", "type"];

/// A set of owned leaf paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet(pub BTreeSet<Path>);

impl FieldSet {
    /// The leaf fields an object sets, skipping identity metadata and (when asked) status.
    pub fn of_object(object: &Value, include_status: bool) -> Self {
        let mut set = BTreeSet::new();
        if let Value::Object(map) = object {
            for (key, value) in map {
                if UNTRACKED_TOP.contains(&key.as_str()) || (key == "status" && !include_status) {
                    continue;
                }
                let path = vec![format!("f:{key}")];
                if key == "metadata" {
                    if let Value::Object(meta) = value {
                        for (k, v) in meta {
                            if !UNTRACKED_META.contains(&k.as_str()) {
                                collect(v, vec![path[0].clone(), format!("f:{k}")], &mut set);
                            }
                        }
                    }
                } else {
                    collect(value, path, &mut set);
                }
            }
        }
        Self(set)
    }

    /// Parses a `fieldsV1` tree.
    pub fn from_fields_v1(tree: &Value) -> Self {
        fn walk(node: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
            match node {
                Value::Object(map) if !map.is_empty() => {
                    for (k, v) in map {
                        path.push(k.clone());
                        walk(v, path, out);
                        path.pop();
                    }
                }
                _ if !path.is_empty() => {
                    out.insert(path.clone());
                }
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        walk(tree, &mut Vec::new(), &mut out);
        Self(out)
    }

    /// Renders the set as a `fieldsV1` tree.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Map::new();
        for path in &self.0 {
            let mut node = &mut root;
            for element in path {
                let entry = node
                    .entry(element.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = json!({});
                }
                let Value::Object(next) = entry else { break };
                node = next;
            }
        }
        Value::Object(root)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn collect(value: &Value, path: Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let mut child = path.clone();
                child.push(format!("f:{k}"));
                collect(v, child, out);
            }
        }
        Value::Array(items) => match list_key(items) {
            Some(key) => {
                for item in items {
                    let mut item_path = path.clone();
                    item_path.push(key_element(key, item));
                    let mut marker = item_path.clone();
                    marker.push(".".to_string());
                    out.insert(marker);
                    if let Value::Object(fields) = item {
                        for (k, v) in fields {
                            let mut child = item_path.clone();
                            child.push(format!("f:{k}"));
                            collect(v, child, out);
                        }
                    }
                }
            }
            None => {
                out.insert(path);
            }
        },
        _ => {
            out.insert(path);
        }
    }
}

/// The key field that makes `items` an associative list, if any.
pub fn list_key(items: &[Value]) -> Option<&'static str> {
    if items.is_empty() {
        return None;
    }
    LIST_KEYS.iter().copied().find(|key| {
        let mut seen = BTreeSet::new();
        items.iter().all(|item| {
            item.get(key)
                .filter(|v| v.is_string() || v.is_number())
                .is_some_and(|v| seen.insert(v.to_string()))
        })
    })
}

fn key_element(key: &str, item: &Value) -> Element {
    let value = item.get(key).cloned().unwrap_or(Value::Null);
    format!("k:{}", json!({ key: value }))
}

/// Finds the element of `items` that a `k:{...}` path element names.
fn find_keyed(items: &[Value], element: &str) -> Option<usize> {
    let key: Value = serde_json::from_str(element.strip_prefix("k:")?).ok()?;
    let key = key.as_object()?;
    items
        .iter()
        .position(|item| key.iter().all(|(k, v)| item.get(k) == Some(v)))
}

/// The value at `path`, if present.
pub fn value_at<'a>(object: &'a Value, path: &[Element]) -> Option<&'a Value> {
    let mut node = object;
    for element in path {
        node = if element == "." {
            node
        } else if let Some(field) = element.strip_prefix("f:") {
            node.get(field)?
        } else if element.starts_with("k:") {
            let items = node.as_array()?;
            &items[find_keyed(items, element)?]
        } else {
            return None;
        };
    }
    Some(node)
}

fn value_at_mut<'a>(object: &'a mut Value, path: &[Element]) -> Option<&'a mut Value> {
    let mut node = object;
    for element in path {
        node = if let Some(field) = element.strip_prefix("f:") {
            node.get_mut(field)?
        } else if element.starts_with("k:") {
            let items = node.as_array_mut()?;
            let index = find_keyed(items, element)?;
            &mut items[index]
        } else {
            return None;
        };
    }
    Some(node)
}

/// Removes the field (or, for a `.` path, the list item) at `path`, then prunes maps the
/// removal left empty so an applier that drops its last label does not leave `labels: {}`.
pub fn remove_at(object: &mut Value, path: &[Element]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    if last == "." {
        let Some((item, list_path)) = parent_path.split_last() else {
            return;
        };
        if let Some(Value::Array(items)) = value_at_mut(object, list_path)
            && let Some(index) = find_keyed(items, item)
        {
            items.remove(index);
        }
        return;
    }
    let Some(field) = last.strip_prefix("f:") else {
        return;
    };
    if let Some(Value::Object(parent)) = value_at_mut(object, parent_path) {
        parent.remove(field);
    }
    // Prune emptied maps bottom-up, but never the top-level sections themselves.
    for depth in (2..path.len()).rev() {
        let prefix = &path[..depth];
        let empty = matches!(value_at(object, prefix), Some(Value::Object(m)) if m.is_empty());
        if !empty || !prefix[depth - 1].starts_with("f:") {
            break;
        }
        if let Some(Value::Object(parent)) = value_at_mut(object, &prefix[..depth - 1])
            && let Some(f) = prefix[depth - 1].strip_prefix("f:")
        {
            parent.remove(f);
        }
    }
}

/// Renders a path the way conflict messages show it: `.spec.containers[name="web"].image`.
pub fn display(path: &[Element]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(key).unwrap_or(Value::Null);
            let inner: Vec<String> = parsed
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", inner.join(",")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web", "labels": { "app": "web" } },
            "spec": {
                "replicas": 2,
                "template": { "spec": { "containers": [
                    { "name": "web", "image": "nginx", "args": ["a", "b"] }
                ] } }
            }
        })
    }

    #[test]
    fn containers_are_keyed_by_name_and_args_are_atomic() {
        let set = FieldSet::of_object(&deployment(), false);
        let image: Path = ["f:spec", "f:template", "f:spec", "f:containers"]
            .iter()
            .map(|s| s.to_string())
            .chain(["k:{\"name\":\"web\"}".to_string(), "f:image".to_string()])
            .collect();
        assert!(set.0.contains(&image), "{set:?}");
        let mut args = image.clone();
        args.pop();
        args.push("f:args".into());
        assert!(set.0.contains(&args));
        assert_eq!(value_at(&deployment(), &image), Some(&json!("nginx")));
        assert_eq!(
            display(&image),
            ".spec.template.spec.containers[name=\"web\"].image"
        );
    }

    #[test]
    fn identity_metadata_is_not_owned() {
        let set = FieldSet::of_object(&deployment(), false);
        assert!(set.0.iter().all(|p| p[..2] != ["f:metadata", "f:name"]));
        assert!(set.0.contains(&vec![
            "f:metadata".into(),
            "f:labels".into(),
            "f:app".into()
        ]));
    }

    #[test]
    fn fields_v1_round_trips() {
        let set = FieldSet::of_object(&deployment(), false);
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()), set);
    }

    #[test]
    fn removing_the_last_label_prunes_the_labels_map() {
        let mut object = deployment();
        remove_at(
            &mut object,
            &["f:metadata".into(), "f:labels".into(), "f:app".into()],
        );
        assert_eq!(object["metadata"].get("labels"), None);
        assert_eq!(object["metadata"]["name"], "web");
    }

    #[test]
    fn removing_a_keyed_item_drops_it_from_the_list() {
        let mut object = deployment();
        let path: Path = vec![
            "f:spec".into(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            ".".into(),
        ];
        remove_at(&mut object, &path);
        assert_eq!(object["spec"]["template"]["spec"]["containers"], json!([]));
    }
}

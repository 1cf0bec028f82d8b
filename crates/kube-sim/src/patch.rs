//! Patch documents: JSON merge patch (RFC 7386), strategic merge patch (approximated),
//! JSON patch (RFC 6902), and the merge step of server-side apply.
//!
//! All functions are pure: they take the live object and return the patched one, and the
//! store decides what metadata the result may change.

use serde_json::{Map, Value};

use crate::fields::list_key;

/// Why a patch could not be applied; sent back as a 400 or 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The JSON patch document is not a list of valid operations.
    #[error("failed to decode json patch: {0}")]
    Malformed(String),
    /// An operation's path does not exist or a `test` failed.
    #[error("the server rejected our request due to an error in our request: {0}")]
    Failed(String),
}

/// Applies an RFC 7386 merge patch: objects merge, `null` deletes, everything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Applies a strategic merge patch. The simulator knows no per-field patch strategies, so
/// this is a merge patch in which lists of named objects (containers, env, ports) merge
/// by key as the built-in strategies do, and `$`-directives kubectl sends are dropped.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(map), Value::Object(patch)) => {
            for (key, value) in patch {
                if key.starts_with('$') {
                    continue;
                }
                if value.is_null() {
                    map.remove(key);
                } else if let Some(existing) = map.get_mut(key) {
                    strategic_merge_patch(existing, value);
                } else {
                    let mut fresh = value.clone();
                    strip_directives(&mut fresh);
                    map.insert(key.clone(), fresh);
                }
            }
        }
        (Value::Array(items), Value::Array(patch_items)) => {
            match list_key(patch_items).filter(|k| items.iter().all(|i| i.get(k).is_some())) {
                Some(key) => {
                    for patch_item in patch_items {
                        let deleting =
                            patch_item.get("$patch").and_then(Value::as_str) == Some("delete");
                        let position = items.iter().position(|i| i.get(key) == patch_item.get(key));
                        match (position, deleting) {
                            (Some(i), true) => {
                                items.remove(i);
                            }
                            (Some(i), false) => strategic_merge_patch(&mut items[i], patch_item),
                            (None, false) => {
                                let mut fresh = patch_item.clone();
                                strip_directives(&mut fresh);
                                items.push(fresh);
                            }
                            (None, true) => {}
                        }
                    }
                }
                None => *items = patch_items.clone(),
            }
        }
        (target, patch) => {
            let mut fresh = patch.clone();
            strip_directives(&mut fresh);
            *target = fresh;
        }
    }
}

fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// Merges an applied configuration into the live object: maps merge, associative lists
/// merge item by item on their key, atomic lists and scalars are replaced.
pub fn apply_merge(live: &mut Value, applied: &Value) {
    match (live, applied) {
        (Value::Object(map), Value::Object(applied)) => {
            for (key, value) in applied {
                if value.is_null() {
                    continue;
                }
                match map.get_mut(key) {
                    Some(existing) => apply_merge(existing, value),
                    None => {
                        map.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(items), Value::Array(applied_items)) => {
            let key =
                list_key(applied_items).filter(|k| items.is_empty() || list_key(items) == Some(*k));
            match key {
                Some(key) => {
                    for applied_item in applied_items {
                        match items
                            .iter_mut()
                            .find(|i| i.get(key) == applied_item.get(key))
                        {
                            Some(existing) => apply_merge(existing, applied_item),
                            None => items.push(applied_item.clone()),
                        }
                    }
                }
                None => *items = applied_items.clone(),
            }
        }
        (live, applied) => *live = applied.clone(),
    }
}

/// Applies an RFC 6902 JSON patch.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| PatchError::Malformed("expected a list of operations".into()))?;
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| PatchError::Malformed("operation without \"op\"".into()))?;
        let path = pointer(op, "path")?;
        match name {
            "add" => add(target, &path, value(op)?)?,
            "remove" => {
                remove(target, &path)?;
            }
            "replace" => {
                remove(target, &path)?;
                add(target, &path, value(op)?)?;
            }
            "move" => {
                let from = pointer(op, "from")?;
                let moved = remove(target, &from)?;
                add(target, &path, moved)?;
            }
            "copy" => {
                let from = pointer(op, "from")?;
                let copied = lookup(target, &from)
                    .cloned()
                    .ok_or_else(|| missing(&from))?;
                add(target, &path, copied)?;
            }
            "test" => {
                if lookup(target, &path) != Some(&value(op)?) {
                    return Err(PatchError::Failed(format!(
                        "testing value {} failed",
                        path.join("/")
                    )));
                }
            }
            other => {
                return Err(PatchError::Malformed(format!(
                    "unknown operation {other:?}"
                )));
            }
        }
    }
    Ok(())
}

fn value(op: &Value) -> Result<Value, PatchError> {
    op.get("value")
        .cloned()
        .ok_or_else(|| PatchError::Malformed("operation without \"value\"".into()))
}

/// Parses a JSON pointer (`/a/b~1c`) into unescaped tokens.
fn pointer(op: &Value, field: &str) -> Result<Vec<String>, PatchError> {
    let raw = op
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| PatchError::Malformed(format!("operation without {field:?}")))?;
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let rest = raw
        .strip_prefix('/')
        .ok_or_else(|| PatchError::Malformed(format!("invalid pointer {raw:?}")))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn missing(path: &[String]) -> PatchError {
    PatchError::Failed(format!("path /{} does not exist", path.join("/")))
}

fn lookup<'a>(target: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(target, |node, token| match node {
        Value::Object(map) => map.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn lookup_mut<'a>(target: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(target, |node, token| match node {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn add(target: &mut Value, path: &[String], value: Value) -> Result<(), PatchError> {
    let Some((last, parent)) = path.split_last() else {
        *target = value;
        return Ok(());
    };
    match lookup_mut(target, parent).ok_or_else(|| missing(parent))? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| missing(path))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove(target: &mut Value, path: &[String]) -> Result<Value, PatchError> {
    let (last, parent) = path.split_last().ok_or_else(|| missing(path))?;
    match lookup_mut(target, parent).ok_or_else(|| missing(parent))? {
        Value::Object(map) => map.remove(last).ok_or_else(|| missing(path)),
        Value::Array(items) => last
            .parse::<usize>()
            .ok()
            .filter(|i| *i < items.len())
            .map(|i| items.remove(i))
            .ok_or_else(|| missing(path)),
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_deletes_nulls_and_merges_maps() {
        let mut object = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge_patch(&mut object, &json!({"a": {"b": null, "e": 3}, "d": [3]}));
        assert_eq!(object, json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    }

    #[test]
    fn strategic_merge_keeps_other_containers() {
        let mut object = json!({"containers": [{"name": "a", "image": "x"}, {"name": "b"}]});
        strategic_merge_patch(
            &mut object,
            &json!({"$setElementOrder/containers": [], "containers": [{"name": "a", "image": "y"}]}),
        );
        assert_eq!(
            object,
            json!({"containers": [{"name": "a", "image": "y"}, {"name": "b"}]})
        );
    }

    #[test]
    fn json_patch_adds_replaces_and_removes() {
        let mut object = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 3]});
        let patch = json!([
            {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
            {"op": "replace", "path": "/metadata/labels/a", "value": "9"},
            {"op": "add", "path": "/list/1", "value": 2},
            {"op": "remove", "path": "/list/0"},
            {"op": "test", "path": "/list/0", "value": 2},
        ]);
        json_patch(&mut object, &patch).expect("patch applies");
        assert_eq!(
            object,
            json!({"metadata": {"labels": {"a": "9", "b/c": "2"}}, "list": [2, 3]})
        );
    }

    #[test]
    fn json_patch_on_a_missing_path_fails() {
        let mut object = json!({});
        let patch = json!([{"op": "remove", "path": "/nope"}]);
        assert!(matches!(
            json_patch(&mut object, &patch),
            Err(PatchError::Failed(_))
        ));
        assert!(json_patch(&mut object, &json!({"op": "add"})).is_err());
    }

    #[test]
    fn apply_merge_merges_containers_by_name() {
        let mut live = json!({"containers": [{"name": "a", "image": "x", "ports": [80]}]});
        apply_merge(
            &mut live,
            &json!({"containers": [{"name": "a", "image": "y"}, {"name": "b"}]}),
        );
        assert_eq!(
            live,
            json!({"containers": [{"name": "a", "image": "y", "ports": [80]}, {"name": "b"}]})
        );
    }
}

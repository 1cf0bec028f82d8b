//! Field ownership: `metadata.managedFields`, server-side apply and the bookkeeping that
//! ordinary updates do.
//!
//! Semantics follow the real field manager closely enough for controllers written against
//! it: an applier owns exactly what it last applied; applying a value another manager
//! owns with a different value conflicts unless forced (forcing takes ownership);
//! fields an applier stops applying are removed unless someone else still owns them;
//! updates (create, replace, patch) give their manager the fields they changed.

use serde_json::{Value, json};

use crate::fields::{self, FieldSet, Path};
use crate::patch::apply_merge;

/// Whether an entry came from server-side apply or an ordinary update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `application/apply-patch+yaml`.
    Apply,
    /// create, replace, merge or JSON patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// `apiVersion` the fields were set through.
    pub api_version: String,
    /// When the entry last changed.
    pub time: String,
    /// Owned fields.
    pub fields: FieldSet,
}

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field.
    pub manager: String,
    /// `apiVersion` that manager used.
    pub api_version: String,
    /// The contested field.
    pub path: Path,
}

/// Reads `metadata.managedFields`; malformed entries are dropped.
pub fn entries(object: &Value) -> Vec<Entry> {
    let Some(list) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                _ => Operation::Update,
            };
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation,
                api_version: str_field(e, "apiVersion"),
                time: str_field(e, "time"),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
            })
        })
        .collect()
}

fn str_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Writes entries back into `metadata.managedFields`, dropping empty ones.
pub fn store_entries(object: &mut Value, entries: &[Entry]) {
    let rendered: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            json!({
                "manager": e.manager,
                "operation": e.operation.as_str(),
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": e.fields.to_fields_v1(),
            })
        })
        .collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if rendered.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(rendered));
        }
    }
}

/// Records an ordinary update by `manager`: it gains the fields whose values changed,
/// and every manager loses the fields that changed or disappeared.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
) {
    let mut list = old.map(entries).unwrap_or_default();
    let new_fields = FieldSet::of_object(new, false);
    let changed: FieldSet = FieldSet(
        new_fields
            .0
            .iter()
            .filter(|p| old.is_none_or(|o| fields::value_at(o, p) != fields::value_at(new, p)))
            .cloned()
            .collect(),
    );
    for entry in &mut list {
        let before = entry.fields.0.len();
        entry
            .fields
            .0
            .retain(|p| new_fields.0.contains(p) && !changed.0.contains(p));
        if entry.fields.0.len() != before && entry.manager != manager {
            entry.time = now.to_string();
        }
    }
    if !changed.is_empty() {
        match list
            .iter_mut()
            .find(|e| e.manager == manager && e.operation == Operation::Update)
        {
            Some(entry) => {
                entry.fields.0.extend(changed.0);
                entry.time = now.to_string();
            }
            None => list.push(Entry {
                manager: manager.to_string(),
                operation: Operation::Update,
                api_version: api_version.to_string(),
                time: now.to_string(),
                fields: changed,
            }),
        }
    }
    store_entries(new, &list);
}

/// Server-side apply of `applied` by `manager` onto `live` (or onto an empty object when
/// creating). Returns the merged object with managedFields updated, `None` when the
/// apply changes nothing, or the conflicts. `default` fills the API defaults into the
/// merged object before it is compared with `live`: the applier does not own them, and a
/// default that merging dropped (a list replaced whole) and filling put back is no change.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
    default: impl Fn(&mut Value),
) -> Result<Option<Value>, Vec<Conflict>> {
    let api_version = str_field(applied, "apiVersion");
    let applied_fields = FieldSet::of_object(applied, false);
    let Some(live) = live else {
        let mut created = applied.clone();
        default(&mut created);
        let entry = Entry {
            manager: manager.to_string(),
            operation: Operation::Apply,
            api_version,
            time: now.to_string(),
            fields: applied_fields,
        };
        store_entries(&mut created, &[entry]);
        return Ok(Some(created));
    };

    let mut list = entries(live);
    let is_mine = |e: &Entry| e.manager == manager && e.operation == Operation::Apply;
    let conflicts: Vec<Conflict> = list
        .iter()
        .filter(|e| !is_mine(e))
        .flat_map(|e| {
            e.fields
                .0
                .intersection(&applied_fields.0)
                .filter(|p| p.last().is_some_and(|l| l != "."))
                .filter(|p| fields::value_at(live, p) != fields::value_at(applied, p))
                .map(|p| Conflict {
                    manager: e.manager.clone(),
                    api_version: e.api_version.clone(),
                    path: p.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for entry in list.iter_mut().filter(|e| !is_mine(e)) {
        entry
            .fields
            .0
            .retain(|p| !conflicts.iter().any(|c| &c.path == p));
    }

    let mut merged = live.clone();
    let previous = list
        .iter()
        .find(|e| is_mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    for path in previous.0.difference(&applied_fields.0) {
        let owned_elsewhere = list
            .iter()
            .filter(|e| !is_mine(e))
            .any(|e| e.fields.0.iter().any(|p| owns(p, path)));
        if !owned_elsewhere {
            fields::remove_at(&mut merged, path);
        }
    }
    apply_merge(&mut merged, applied);
    default(&mut merged);

    // Re-applying the same configuration is a no-op on a real server: the entry keeps
    // its time, so the object (and its resourceVersion) stays as it was.
    let previous_entry = list.iter().find(|e| is_mine(e)).cloned();
    let unchanged = conflicts.is_empty()
        && previous_entry
            .as_ref()
            .is_some_and(|e| e.fields == applied_fields && e.api_version == api_version)
        && without_managed_fields(&merged) == without_managed_fields(live);
    if unchanged {
        return Ok(None);
    }
    let time = now.to_string();
    let entry = Entry {
        manager: manager.to_string(),
        operation: Operation::Apply,
        api_version,
        time,
        fields: applied_fields,
    };
    // Keep the entry's place in the list, so an unchanged apply leaves it identical.
    match list.iter().position(is_mine) {
        Some(index) => list[index] = entry,
        None => list.push(entry),
    }
    store_entries(&mut merged, &list);
    Ok(Some(merged))
}

/// Compares objects ignoring `metadata.managedFields`, without copying either.
fn without_managed_fields(object: &Value) -> impl PartialEq + '_ {
    let meta = object.get("metadata").and_then(Value::as_object);
    let meta_fields: Vec<(&String, &Value)> = meta
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "managedFields")
        .collect();
    let rest: Vec<(&String, &Value)> = object
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "metadata")
        .collect();
    (meta_fields, rest)
}

/// Whether owning `p` keeps `path` alive: the same field, or for a list item's `.`
/// marker, any field inside that item.
fn owns(p: &Path, path: &Path) -> bool {
    if p == path {
        return true;
    }
    match path.split_last() {
        Some((last, item)) if last == "." => p.starts_with(item),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-01T00:00:00Z";

    fn config(replicas: i64, labels: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas}
        })
    }

    fn applied(live: Option<&Value>, cfg: &Value, manager: &str, force: bool) -> Value {
        apply(live, cfg, manager, force, NOW, |_| {})
            .expect("no conflict")
            .expect("a change")
    }

    #[test]
    fn a_second_manager_conflicts_on_a_different_value() {
        let live = applied(None, &config(1, json!({"a": "1"})), "alice", false);
        let conflicts = apply(
            Some(&live),
            &config(3, json!({})),
            "bob",
            false,
            NOW,
            |_| {},
        )
        .expect_err("replicas differ");
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].manager, "alice");
        assert_eq!(fields::display(&conflicts[0].path), ".spec.replicas");
    }

    #[test]
    fn an_equal_value_is_shared_without_conflict() {
        let live = applied(None, &config(1, json!({})), "alice", false);
        let shared = applied(Some(&live), &config(1, json!({})), "bob", false);
        assert_eq!(entries(&shared).len(), 2);
    }

    #[test]
    fn forcing_takes_ownership() {
        let live = applied(None, &config(1, json!({})), "alice", false);
        let taken = applied(Some(&live), &config(5, json!({})), "bob", true);
        assert_eq!(taken["spec"]["replicas"], 5);
        let replicas: Path = vec!["f:spec".into(), "f:replicas".into()];
        let owners: Vec<String> = entries(&taken)
            .into_iter()
            .filter(|e| e.fields.0.contains(&replicas))
            .map(|e| e.manager)
            .collect();
        assert_eq!(owners, vec!["bob".to_string()]);
    }

    #[test]
    fn fields_no_longer_applied_are_removed() {
        let live = applied(
            None,
            &config(1, json!({"a": "1", "b": "2"})),
            "alice",
            false,
        );
        let next = applied(Some(&live), &config(1, json!({"a": "1"})), "alice", false);
        assert_eq!(next["metadata"]["labels"], json!({"a": "1"}));
    }

    #[test]
    fn reapplying_the_same_configuration_changes_nothing() {
        let cfg = config(1, json!({"a": "1"}));
        let live = applied(None, &cfg, "alice", false);
        let again = apply(
            Some(&live),
            &cfg,
            "alice",
            false,
            "2030-01-01T00:00:00Z",
            |_| {},
        )
        .expect("no conflict");
        assert_eq!(again, None);
    }

    #[test]
    fn an_update_takes_the_fields_it_changed() {
        let live = applied(None, &config(1, json!({})), "alice", false);
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(4);
        record_update(Some(&live), &mut edited, "kubectl-edit", "apps/v1", NOW);
        let conflicts = apply(
            Some(&edited),
            &config(1, json!({})),
            "alice",
            false,
            NOW,
            |_| {},
        )
        .expect_err("kubectl-edit owns replicas now");
        assert_eq!(conflicts[0].manager, "kubectl-edit");
    }
}

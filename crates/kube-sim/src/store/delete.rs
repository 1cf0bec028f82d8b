//! Deletion: finalizers, owner-reference cascades, and namespace termination.
//!
//! The real garbage collector and namespace controller are asynchronous; here a cascade
//! happens inside the delete call (dependents go with their owner), while namespace
//! termination is driven by the namespace controller calling [`Store::finalize_namespace`]
//! so a Terminating phase is observable, as it is on a real cluster.

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, finalizers_of, is_deleting};
use super::{EventType, Key, Scope, State, Store, Stored, key, not_found};
use crate::error::{ApiError, Subject};
use crate::kinds::{self, KINDS, KindId};

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the owner, then its dependents (the default for most kinds).
    #[default]
    Background,
    /// Delete dependents first. The simulator's cascade is immediate, so this behaves like
    /// Background.
    Foreground,
    /// Keep dependents and remove their owner references.
    Orphan,
}

/// The outcome of a delete.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone; the real API answers with a Success Status.
    Gone(Arc<Value>),
    /// The object waits on finalizers (or is a terminating namespace); the real API
    /// answers with the object.
    Pending(Arc<Value>),
}

/// `preconditions` of a delete.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    /// Required uid.
    pub uid: Option<String>,
    /// Required resourceVersion.
    pub resource_version: Option<String>,
}

/// Namespaces the real API server refuses to delete.
const UNDELETABLE: &[&str] = &["default", "kube-system", "kube-public"];

impl Store {
    /// Deletes one object.
    pub fn delete(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        propagation: Propagation,
        preconditions: &Preconditions,
    ) -> Result<Deleted, ApiError> {
        self.delete_as(kind, namespace, name, propagation, preconditions, false)
    }

    /// [`Store::delete`], or with `dry_run` its answer alone: the object as the delete
    /// would leave it (or the deleted object), with nothing removed or marked.
    pub fn delete_as(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        propagation: Propagation,
        preconditions: &Preconditions,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        let k = kinds::get(kind);
        let mut state = self.lock_writing(dry_run);
        let key = key(namespace, name);
        let object = state.objects[kind]
            .get(&key)
            .map(Stored::value)
            .ok_or_else(|| not_found(kind, name))?;
        if preconditions
            .uid
            .as_deref()
            .is_some_and(|uid| uid != meta::uid_of(&object))
            || preconditions
                .resource_version
                .as_deref()
                .is_some_and(|rv| rv != meta::resource_version_of(&object).to_string())
        {
            return Err(ApiError::stale(k.group, k.plural, name));
        }
        if kind == kinds::namespace() {
            if UNDELETABLE.contains(&name) {
                return Err(ApiError::Forbidden {
                    message: format!(
                        "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
                    ),
                    subject: Subject {
                        group: String::new(),
                        kind: "namespaces".into(),
                        name: name.into(),
                    },
                });
            }
            return Ok(Deleted::Pending(state.start_termination(self, object)));
        }
        Ok(state.delete_object(self, kind, key, object, propagation))
    }

    /// One step of namespace termination: deletes what can go, marks what waits on
    /// finalizers, and removes the namespace once it is empty. Returns `false` when the
    /// namespace is not terminating (or gone).
    pub fn finalize_namespace(&self, ns: &str) -> bool {
        let mut state = self.lock();
        let Some(namespace) = state.namespace_object(ns) else {
            return false;
        };
        if !is_deleting(&namespace) {
            return false;
        }
        let mut remaining: Vec<(KindId, Vec<String>)> = Vec::new();
        for kind in (0..KINDS.len()).filter(|k| kinds::get(*k).namespaced) {
            let keys: Vec<Key> = state.objects[kind]
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(key, _)| key.clone())
                .collect();
            for key in keys {
                let Some(object) = state.objects[kind].get(&key).map(Stored::value) else {
                    continue;
                };
                match state.delete_object(self, kind, key, object, Propagation::Background) {
                    Deleted::Gone(_) => {}
                    Deleted::Pending(object) => remaining.push((kind, finalizers_of(&object))),
                }
            }
        }
        let mut updated = (*namespace).clone();
        if remaining.is_empty() {
            meta::set(&mut updated, &["spec", "finalizers"], json!([]));
        } else {
            let mut conditions = termination_conditions(&remaining);
            keep_transition_times(&mut conditions, namespace.pointer("/status/conditions"));
            meta::set(&mut updated, &["status", "conditions"], conditions);
        }
        // `commit_update` completes the deletion once spec.finalizers is empty.
        let ns_kind = kinds::namespace();
        let _ = state.commit_update(
            self,
            ns_kind,
            &namespace,
            updated,
            super::Subresource::Status,
            None,
        );
        if remaining.is_empty()
            && let Some(current) = state.namespace_object(ns)
        {
            let mut cleared = (*current).clone();
            meta::set(&mut cleared, &["spec", "finalizers"], json!([]));
            let _ = state.commit_update(
                self,
                ns_kind,
                &current,
                cleared,
                super::Subresource::Main,
                None,
            );
        }
        true
    }
}

impl State {
    fn start_termination(&mut self, store: &Store, namespace: Arc<Value>) -> Arc<Value> {
        if is_deleting(&namespace) {
            return namespace;
        }
        let mut terminating = (*namespace).clone();
        let m = meta::metadata_mut(&mut terminating);
        m.insert("deletionTimestamp".into(), json!(meta::now()));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        meta::set(&mut terminating, &["status", "phase"], json!("Terminating"));
        let key = (String::new(), meta::name_of(&terminating).to_string());
        self.emit(
            store,
            kinds::namespace(),
            key,
            EventType::Modified,
            terminating,
        )
    }

    /// Deletes (or marks for deletion) one object and cascades to its dependents.
    fn delete_object(
        &mut self,
        store: &Store,
        kind: KindId,
        key: Key,
        object: Arc<Value>,
        propagation: Propagation,
    ) -> Deleted {
        if !finalizers_of(&object).is_empty() {
            if is_deleting(&object) {
                return Deleted::Pending(object);
            }
            let mut marked = (*object).clone();
            let m = meta::metadata_mut(&mut marked);
            m.insert("deletionTimestamp".into(), json!(meta::now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            return Deleted::Pending(self.emit(store, kind, key, EventType::Modified, marked));
        }
        let uid = meta::uid_of(&object).to_string();
        let namespace = key.0.clone();
        let gone = self.emit(store, kind, key, EventType::Deleted, (*object).clone());
        self.cascade(store, &namespace, &uid, propagation);
        Deleted::Gone(gone)
    }

    fn cascade(
        &mut self,
        store: &Store,
        namespace: &str,
        owner_uid: &str,
        propagation: Propagation,
    ) {
        // Dependents live in their owner's namespace (any namespace for a cluster-scoped
        // owner): a range of the map, not a scan of the kind.
        let scope = Scope {
            namespace: (!namespace.is_empty()).then_some(namespace),
            name: None,
        };
        for kind in 0..KINDS.len() {
            let dependents: Vec<(Key, Arc<Value>)> = self
                .in_scope(kind, scope)
                .map(|(k, stored)| (k, stored.value()))
                .filter(|(_, v)| owned_by(v, owner_uid))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (key, dependent) in dependents {
                if propagation == Propagation::Orphan {
                    let mut orphan = (*dependent).clone();
                    if let Some(refs) = orphan
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
                    }
                    let _ = self.commit_update(
                        store,
                        kind,
                        &dependent,
                        orphan,
                        super::Subresource::Main,
                        None,
                    );
                } else {
                    self.delete_object(store, kind, key, dependent, propagation);
                }
            }
        }
    }
}

fn owned_by(object: &Value, uid: &str) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

/// The conditions the real namespace controller reports while content remains.
fn termination_conditions(remaining: &[(KindId, Vec<String>)]) -> Value {
    let now = meta::now();
    let mut resources: Vec<String> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    let mut kinds_seen: Vec<KindId> = remaining.iter().map(|(k, _)| *k).collect();
    kinds_seen.dedup();
    for kind in kinds_seen {
        let k = kinds::get(kind);
        let qualified = if k.group.is_empty() {
            k.plural.to_string()
        } else {
            format!("{}.{}", k.plural, k.group)
        };
        let n = remaining.iter().filter(|(id, _)| *id == kind).count();
        resources.push(qualified.clone());
        counts.push(format!("{qualified} has {n} resource instances"));
    }
    let mut finalizers: Vec<String> = remaining.iter().flat_map(|(_, f)| f.clone()).collect();
    finalizers.sort();
    finalizers.dedup();
    let finalizer_counts: Vec<String> = finalizers
        .iter()
        .map(|f| {
            let n = remaining.iter().filter(|(_, fs)| fs.contains(f)).count();
            format!("{f} in {n} resource instances")
        })
        .collect();
    json!([
        {"type": "NamespaceDeletionDiscoveryFailure", "status": "False",
         "reason": "ResourcesDiscovered", "message": "All resources successfully discovered",
         "lastTransitionTime": now},
        {"type": "NamespaceDeletionGroupVersionParsingFailure", "status": "False",
         "reason": "ParsedGroupVersions", "message": "All legacy kube types successfully parsed",
         "lastTransitionTime": now},
        {"type": "NamespaceDeletionContentFailure", "status": "False",
         "reason": "ContentDeleted",
         "message": "All content successfully deleted, may be waiting on finalization",
         "lastTransitionTime": now},
        {"type": "NamespaceContentRemaining", "status": "True",
         "reason": "SomeResourcesRemain",
         "message": format!("Some resources are remaining: {}", counts.join(", ")),
         "lastTransitionTime": now},
        {"type": "NamespaceFinalizersRemaining", "status": "True",
         "reason": "SomeFinalizersRemain",
         "message": format!(
             "Some content in the namespace has finalizers remaining: {}",
             finalizer_counts.join(", ")
         ),
         "lastTransitionTime": now},
    ])
}

/// Keeps `lastTransitionTime` of conditions whose status and message did not change, so
/// repeated passes over a stuck namespace do not rewrite it.
fn keep_transition_times(conditions: &mut Value, previous: Option<&Value>) {
    let (Some(list), Some(previous)) = (
        conditions.as_array_mut(),
        previous.and_then(Value::as_array),
    ) else {
        return;
    };
    for condition in list {
        let same = previous.iter().find(|p| {
            p.get("type") == condition.get("type")
                && p.get("status") == condition.get("status")
                && p.get("message") == condition.get("message")
        });
        if let Some(time) = same.and_then(|p| p.get("lastTransitionTime")) {
            condition["lastTransitionTime"] = time.clone();
        }
    }
}

//! Writes: create, replace, patch and server-side apply, all funnelled through one
//! commit step that enforces what a client may and may not change.

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, name_of};
use super::{EventType, State, Store, Stored, key, not_found};
use crate::error::{ApiError, Cause};
use crate::fields;
use crate::kinds::{self, KindId};
use crate::managed;
use crate::patch::apply_merge;

/// Which endpoint a write came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// The object itself; status changes are ignored for kinds with a status subresource.
    Main,
    /// `/status`: only status changes are kept.
    Status,
}

/// Who is writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    /// The field manager recorded in managedFields.
    pub manager: String,
    /// `?dryRun=All`: validate, default and admit the write, answer with the object as
    /// it would be stored, and store nothing.
    pub dry_run: bool,
}

impl WriteContext {
    /// A write by the simulator's own controllers.
    pub fn system() -> Self {
        Self {
            manager: "kube-controller-manager".into(),
            dry_run: false,
        }
    }

    /// A write by `manager`.
    pub fn new(manager: impl Into<String>) -> Self {
        Self {
            manager: manager.into(),
            dry_run: false,
        }
    }

    /// The same write as a dry run when `dry_run`.
    #[must_use]
    pub fn dry_run(self, dry_run: bool) -> Self {
        Self { dry_run, ..self }
    }
}

impl Store {
    /// Creates an object. `namespace` is the namespace from the URL.
    pub fn create(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        mut object: Value,
        ctx: &WriteContext,
    ) -> Result<Arc<Value>, ApiError> {
        let k = kinds::get(kind);
        meta::check_type(k, &object)?;
        let body_ns = meta::namespace_of(&object);
        if k.namespaced && !body_ns.is_empty() && Some(body_ns) != namespace {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on \
                 the request"
                    .into(),
            ));
        }
        if name_of(&object).is_empty()
            && let Some(prefix) = object
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
        {
            let generated = format!("{prefix}{}", crate::random::suffix(5));
            meta::metadata_mut(&mut object).insert("name".into(), json!(generated));
        }
        crate::defaults::fill(kind, &mut object);
        let mut state = self.lock_writing(ctx.dry_run);
        let now = meta::now();
        managed::record_update(None, &mut object, &ctx.manager, &k.api_version(), &now);
        state.insert_new(self, kind, namespace, object)
    }

    /// Replaces an object (PUT), with optimistic concurrency on `resourceVersion`.
    pub fn replace(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        object: Value,
        subresource: Subresource,
        ctx: &WriteContext,
    ) -> Result<Arc<Value>, ApiError> {
        let k = kinds::get(kind);
        meta::check_type(k, &object)?;
        check_name(kind, name, &object)?;
        let mut state = self.lock_writing(ctx.dry_run);
        let old = state.objects[kind]
            .get(&key(namespace, name))
            .map(Stored::value)
            .ok_or_else(|| not_found(kind, name))?;
        state.commit_update(self, kind, &old, object, subresource, Some(ctx))
    }

    /// Read-modify-write of one object: `change` gets the live object and returns the new
    /// one. A `resourceVersion` the change leaves in place is checked like a replace.
    pub fn modify(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        subresource: Subresource,
        ctx: &WriteContext,
        change: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock_writing(ctx.dry_run);
        let old = state.objects[kind]
            .get(&key(namespace, name))
            .map(Stored::value)
            .ok_or_else(|| not_found(kind, name))?;
        let new = change(&old)?;
        meta::check_type(kinds::get(kind), &new)?;
        check_name(kind, name, &new)?;
        state.commit_update(self, kind, &old, new, subresource, Some(ctx))
    }

    /// Server-side apply. Returns the object and whether it was created.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        mut applied: Value,
        subresource: Subresource,
        ctx: &WriteContext,
        force: bool,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let k = kinds::get(kind);
        meta::check_type(k, &applied)?;
        if applied.get("apiVersion").is_none() || applied.get("kind").is_none() {
            return Err(ApiError::BadRequest(
                "apiVersion and kind must be set in an applied configuration".into(),
            ));
        }
        check_name(kind, name, &applied)?;
        let m = meta::metadata_mut(&mut applied);
        m.insert("name".into(), json!(name));
        m.remove("managedFields");
        let mut state = self.lock_writing(ctx.dry_run);
        let now = meta::now();
        let live = state.objects[kind]
            .get(&key(namespace, name))
            .map(Stored::value);
        if subresource == Subresource::Status {
            let live = live.ok_or_else(|| not_found(kind, name))?;
            let mut merged = (*live).clone();
            if let Some(status) = applied.get("status") {
                apply_merge(&mut merged["status"], status);
            }
            let out = state.commit_update(self, kind, &live, merged, subresource, None)?;
            return Ok((out, false));
        }
        let default = |object: &mut Value| crate::defaults::fill(kind, object);
        let merged = managed::apply(
            live.as_deref(),
            &applied,
            &ctx.manager,
            force,
            &now,
            default,
        )
        .map_err(|c| conflict_error(kind, name, &c))?;
        match (live, merged) {
            (Some(live), None) => Ok((live, false)),
            (Some(live), Some(merged)) => {
                let out = state.commit_update(self, kind, &live, merged, subresource, None)?;
                Ok((out, false))
            }
            (None, merged) => {
                let created = merged.unwrap_or(applied);
                Ok((state.insert_new(self, kind, namespace, created)?, true))
            }
        }
    }
}

fn check_name(kind: KindId, name: &str, object: &Value) -> Result<(), ApiError> {
    let body_name = name_of(object);
    if !body_name.is_empty() && body_name != name {
        let k = kinds::get(kind);
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name}) \
             for {}",
            k.plural
        )));
    }
    Ok(())
}

fn conflict_error(kind: KindId, name: &str, conflicts: &[managed::Conflict]) -> ApiError {
    let k = kinds::get(kind);
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|c| {
            Cause::new(
                "FieldManagerConflict",
                format!("conflict with \"{}\" using {}", c.manager, c.api_version),
                fields::display(&c.path),
            )
        })
        .collect();
    let summary = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with \"{}\" using {}: {}",
            one.manager,
            one.api_version,
            fields::display(&one.path)
        ),
        many => {
            let lines: Vec<String> = many
                .iter()
                .map(|c| {
                    format!(
                        "conflict with \"{}\" using {}: {}",
                        c.manager,
                        c.api_version,
                        fields::display(&c.path)
                    )
                })
                .collect();
            format!(
                "Apply failed with {} conflicts: {}",
                many.len(),
                lines.join("\n")
            )
        }
    };
    ApiError::Conflict {
        message: summary,
        subject: crate::error::Subject {
            group: k.group.to_string(),
            kind: k.plural.to_string(),
            name: name.to_string(),
        },
        causes,
    }
}

impl State {
    /// Validates and inserts a new object, emitting ADDED.
    pub(super) fn insert_new(
        &mut self,
        store: &Store,
        kind: KindId,
        namespace: Option<&str>,
        mut object: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let k = kinds::get(kind);
        let name = name_of(&object).to_string();
        crate::validation::check_create(kind, &object)?;
        let namespace = if k.namespaced {
            let ns = namespace.unwrap_or("default");
            match self.namespace_object(ns) {
                None => return Err(ApiError::not_found("", "namespaces", ns)),
                Some(n) if meta::is_deleting(&n) => {
                    return Err(ApiError::namespace_terminating(
                        k.group, k.plural, &name, ns,
                    ));
                }
                Some(_) => Some(ns),
            }
        } else {
            None
        };
        let ns_object = namespace.and_then(|ns| self.namespace_object(ns));
        crate::admission::check_write(kind, &object, None, ns_object.as_deref())?;
        if let Some(ns) = namespace {
            crate::quota::admit(kind, &mut object, None, &|k| self.objects_in(k, ns))?;
        }
        let key = key(namespace, &name);
        if self.objects[kind].contains_key(&key) {
            return Err(ApiError::already_exists(k.group, k.plural, &name));
        }
        meta::initialize(k, &mut object, namespace);
        Ok(self.emit(store, kind, key, EventType::Added, object))
    }

    /// The one place updates land: keeps identity and server-owned fields, honours the
    /// status subresource split, bumps generation, and skips no-op writes (the real server
    /// does not bump resourceVersion for them, and the controllers rely on that to settle).
    pub(super) fn commit_update(
        &mut self,
        store: &Store,
        kind: KindId,
        old: &Arc<Value>,
        mut new: Value,
        subresource: Subresource,
        ctx: Option<&WriteContext>,
    ) -> Result<Arc<Value>, ApiError> {
        let k = kinds::get(kind);
        let name = name_of(old).to_string();
        let given_rv = new
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty());
        if given_rv.is_some_and(|rv| rv.parse::<u64>().ok() != Some(meta::resource_version_of(old)))
        {
            return Err(ApiError::stale(k.group, k.plural, &name));
        }
        if k.has_status {
            new = match subresource {
                Subresource::Main => {
                    let mut kept = new;
                    match old.get("status") {
                        Some(status) => kept["status"] = status.clone(),
                        None => {
                            if let Value::Object(map) = &mut kept {
                                map.remove("status");
                            }
                        }
                    }
                    kept
                }
                Subresource::Status => {
                    let mut kept = (**old).clone();
                    kept["status"] = new.get("status").cloned().unwrap_or(json!({}));
                    kept
                }
            };
        }
        new["apiVersion"] = json!(k.api_version());
        new["kind"] = json!(k.kind);
        if subresource == Subresource::Main {
            crate::defaults::fill(kind, &mut new);
        }
        let empty = json!({});
        let old_meta = old.get("metadata").unwrap_or(&empty);
        let m = meta::metadata_mut(&mut new);
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "generation",
        ] {
            match old_meta.get(field) {
                Some(v) => m.insert(field.into(), v.clone()),
                None => m.remove(field),
            };
        }
        if subresource == Subresource::Main {
            if !m.contains_key("managedFields")
                && let Some(mf) = old_meta.get("managedFields")
            {
                m.insert("managedFields".into(), mf.clone());
            }
            if let Some(ctx) = ctx {
                managed::record_update(
                    Some(old),
                    &mut new,
                    &ctx.manager,
                    &k.api_version(),
                    &meta::now(),
                );
            }
        }
        if k.has_generation && meta::spec_changed(&new, old) {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            meta::metadata_mut(&mut new).insert("generation".into(), json!(generation + 1));
        }
        if new == **old {
            return Ok(old.clone());
        }
        if subresource == Subresource::Main {
            crate::validation::check_update(kind, &new, old)?;
            let ns_object = self.namespace_object(meta::namespace_of(old));
            crate::admission::check_write(kind, &new, Some(old), ns_object.as_deref())?;
            let ns = meta::namespace_of(old).to_string();
            crate::quota::admit(kind, &mut new, Some(old), &|k| self.objects_in(k, &ns))?;
        }
        let key = (meta::namespace_of(old).to_string(), name);
        if meta::is_deleting(&new) && meta::finalizers_of(&new).is_empty() && !held_by_spec(&new) {
            // The last finalizer is gone: the pending deletion completes now.
            return Ok(self.emit(store, kind, key, EventType::Deleted, new));
        }
        Ok(self.emit(store, kind, key, EventType::Modified, new))
    }
}

/// Namespaces carry their own finalizer in `spec.finalizers` (`kubernetes`), which the
/// namespace controller removes once the namespace is empty.
fn held_by_spec(object: &Value) -> bool {
    object
        .pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

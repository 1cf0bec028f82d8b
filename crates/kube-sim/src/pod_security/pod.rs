//! A lenient read-only view of a pod's metadata and spec as JSON, and the wording helpers
//! every check shares.
//!
//! The checks read JSON rather than typed k8s-openapi structs so that a simulator given
//! any body can evaluate it: a missing field reads as unset, exactly as an absent pointer
//! does in the upstream Go types.

use serde_json::Value;

static NULL: Value = Value::Null;

/// The part of a pod the checks look at.
#[derive(Debug, Clone, Copy)]
pub struct Pod<'a> {
    /// `metadata` (annotations are checked).
    pub metadata: &'a Value,
    /// `spec`.
    pub spec: &'a Value,
}

impl<'a> Pod<'a> {
    /// A view of `metadata` and `spec`.
    pub fn new(metadata: &'a Value, spec: &'a Value) -> Self {
        Self { metadata, spec }
    }

    /// Every container: init containers, then containers, then ephemeral containers, in
    /// the order upstream visits them (it decides the order of names in messages).
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |field| spec.get(field).and_then(Value::as_array).into_iter())
            .flatten()
            .map(Container)
    }

    /// `spec.securityContext` (null when unset).
    pub fn security_context(&self) -> &'a Value {
        self.spec.get("securityContext").unwrap_or(&NULL)
    }

    /// `spec.volumes`.
    pub fn volumes(&self) -> impl Iterator<Item = &'a Value> + 'a {
        self.spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata.get("annotations")?.get(key)?.as_str()
    }

    /// Every annotation whose key starts with `prefix`.
    pub fn annotations_with_prefix<'p>(
        &self,
        prefix: &'p str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'p
    where
        'a: 'p,
    {
        self.metadata
            .get("annotations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))
    }

    /// Whether `spec.os.name` is `windows` (some restricted checks exempt such pods from
    /// policy version 1.25 on).
    pub fn is_windows(&self) -> bool {
        text(self.spec, "/os/name") == Some("windows")
    }

    /// Whether the pod explicitly runs in a user namespace (`hostUsers: false`).
    pub fn in_user_namespace(&self) -> bool {
        flag(self.spec, "/hostUsers") == Some(false)
    }
}

/// One container of a pod.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a>(pub &'a Value);

impl<'a> Container<'a> {
    /// Its name.
    pub fn name(&self) -> String {
        text(self.0, "/name").unwrap_or_default().to_string()
    }

    /// `securityContext` (null when unset).
    pub fn security_context(&self) -> &'a Value {
        self.0.get("securityContext").unwrap_or(&NULL)
    }

    /// A field of `securityContext` by JSON pointer (`/capabilities/add`).
    pub fn context(&self, pointer: &str) -> Option<&'a Value> {
        self.security_context()
            .pointer(pointer)
            .filter(|v| !v.is_null())
    }
}

/// A string at `pointer`.
pub fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A boolean at `pointer`.
pub fn flag(value: &Value, pointer: &str) -> Option<bool> {
    value.pointer(pointer).and_then(Value::as_bool)
}

/// The strings of an array at `pointer`.
pub fn strings<'a>(value: &'a Value, pointer: &str) -> impl Iterator<Item = &'a str> + 'a {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// `"a", "b"`: how upstream quotes names in messages.
pub fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let quoted: Vec<String> = items
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    quoted.join(", ")
}

/// `singular` for one, `plural` otherwise.
pub fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
pub fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// A value quoted the way Go's `%q` quotes it, for the messages that embed annotations.
pub fn go_quote(value: &str) -> String {
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn containers_are_visited_init_first_then_regular_then_ephemeral() {
        let spec = json!({
            "containers": [{"name": "app"}],
            "ephemeralContainers": [{"name": "debug"}],
            "initContainers": [{"name": "setup"}],
        });
        let meta = json!({});
        let names: Vec<String> = Pod::new(&meta, &spec)
            .containers()
            .map(|c| c.name())
            .collect();
        assert_eq!(names, ["setup", "app", "debug"]);
    }

    #[test]
    fn names_are_quoted_and_pluralized_as_upstream_words_them() {
        assert_eq!(containers_phrase(&["a".into()]), "container \"a\"");
        assert_eq!(
            containers_phrase(&["a".into(), "b".into()]),
            "containers \"a\", \"b\""
        );
    }
}

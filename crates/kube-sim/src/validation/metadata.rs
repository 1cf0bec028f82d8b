//! Object metadata validation, as upstream's `ValidateObjectMeta`: the name's format per
//! kind, label keys and values, annotation keys and their total size. Messages are
//! upstream's (`k8s.io/apimachinery/pkg/util/validation`), regex hints included.

use serde_json::Value;

use crate::error::Cause;
use crate::kinds::ResourceKind;

const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case \
     alphanumeric characters or '-', and must start and end with an alphanumeric character \
     (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
     alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
     character (e.g. 'example.com', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric \
     characters or '-', start with an alphabetic character, and end with an alphanumeric \
     character (e.g. 'my-name',  or 'abc-123', regex used for validation is \
     '[a-z]([-a-z0-9]*[a-z0-9])?')";

const QUALIFIED_NAME: &str = "name part must consist of alphanumeric characters, '-', '_' \
     or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or \
     'my.name',  or '123-abc', regex used for validation is \
     '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const LABEL_VALUE: &str = "a valid label must be an empty string or consist of \
     alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric \
     character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// Upstream's limit on the total size of an object's annotations (keys and values).
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// The format a kind's names must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameFormat {
    /// Namespaces: they become DNS labels.
    Dns1123Label,
    /// Services: their names become DNS names and environment variables.
    Dns1035Label,
    /// RBAC objects: any path segment.
    PathSegment,
    /// Every other kind.
    Dns1123Subdomain,
}

fn name_format(kind: &ResourceKind) -> NameFormat {
    match (kind.group, kind.kind) {
        ("", "Namespace") => NameFormat::Dns1123Label,
        ("", "Service") => NameFormat::Dns1035Label,
        ("rbac.authorization.k8s.io", _) => NameFormat::PathSegment,
        _ => NameFormat::Dns1123Subdomain,
    }
}

/// The causes a create's `metadata.name` gives (an empty name included).
pub fn name(kind: &ResourceKind, name: &str) -> Vec<Cause> {
    const FIELD: &str = "metadata.name";
    if name.is_empty() {
        return vec![Cause::new(
            "FieldValueRequired",
            "Required value: name or generateName is required",
            FIELD,
        )];
    }
    let errors = match name_format(kind) {
        NameFormat::Dns1123Label => dns1123_label(name),
        NameFormat::Dns1035Label => dns1035_label(name),
        NameFormat::Dns1123Subdomain => dns1123_subdomain(name),
        NameFormat::PathSegment => path_segment(name),
    };
    errors
        .into_iter()
        .map(|error| invalid(FIELD, name, &error))
        .collect()
}

/// The causes `metadata.labels` and `metadata.annotations` give.
pub fn labels_and_annotations(object: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            for error in qualified_name(key) {
                causes.push(invalid("metadata.labels", key, &error));
            }
            let value = value.as_str().unwrap_or_default();
            for error in label_value(value) {
                causes.push(invalid("metadata.labels", value, &error));
            }
        }
    }
    if let Some(annotations) = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let mut total = 0;
        for (key, value) in annotations {
            for error in qualified_name(&key.to_ascii_lowercase()) {
                causes.push(invalid("metadata.annotations", key, &error));
            }
            total += key.len() + value.as_str().map_or(0, str::len);
        }
        if total > ANNOTATIONS_MAX_BYTES {
            causes.push(Cause::new(
                "FieldValueTooLong",
                format!("Too long: may not be more than {ANNOTATIONS_MAX_BYTES} bytes"),
                "metadata.annotations",
            ));
        }
    }
    causes
}

/// The causes the labels of a pod template give, at `field`.
pub fn template_labels(template: &Value, field: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    if let Some(labels) = template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            for error in qualified_name(key) {
                causes.push(invalid(field, key, &error));
            }
            let value = value.as_str().unwrap_or_default();
            for error in label_value(value) {
                causes.push(invalid(field, value, &error));
            }
        }
    }
    causes
}

/// Whether `s` is a DNS-1123 label (a container's name must be one).
pub fn is_dns1123_label(s: &str) -> bool {
    dns1123_label(s).is_empty()
}

/// The cause a value at `field` that is not a DNS-1123 label gives.
pub fn invalid_label(field: &str, value: &str) -> Cause {
    invalid(field, value, &dns1123_label(value).join(", "))
}

fn invalid(field: &str, value: &str, error: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        format!("Invalid value: {value:?}: {error}"),
        field,
    )
}

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

fn is_label(s: &str, first: impl Fn(u8) -> bool) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && first(bytes[0])
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn dns1123_label(s: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if s.len() > 63 {
        errors.push(too_long(63));
    }
    if !is_label(s, |b| b.is_ascii_alphanumeric()) {
        errors.push(DNS1123_LABEL.to_string());
    }
    errors
}

fn dns1035_label(s: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if s.len() > 63 {
        errors.push(too_long(63));
    }
    if !is_label(s, |b| b.is_ascii_lowercase()) {
        errors.push(DNS1035_LABEL.to_string());
    }
    errors
}

fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if s.len() > 253 {
        errors.push(too_long(253));
    }
    if !s
        .split('.')
        .all(|part| is_label(part, |b| b.is_ascii_alphanumeric()))
    {
        errors.push(DNS1123_SUBDOMAIN.to_string());
    }
    errors
}

fn path_segment(s: &str) -> Vec<String> {
    if s == "." || s == ".." {
        return vec![format!("may not be '{s}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|bad| s.contains(**bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

fn is_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `IsQualifiedName`: an optional DNS subdomain prefix and `/`, then a name part.
fn qualified_name(key: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) if !name.contains('/') => (Some(prefix), name),
        Some(_) => {
            return vec![format!(
                "a qualified name {QUALIFIED_NAME_TAIL} with an optional DNS subdomain prefix \
                 and '/' (e.g. 'example.com/MyName')"
            )];
        }
        None => (None, key),
    };
    match prefix {
        Some("") => errors.push("prefix part must be non-empty".to_string()),
        Some(prefix) => errors.extend(
            dns1123_subdomain(prefix)
                .into_iter()
                .map(|e| format!("prefix part {e}")),
        ),
        None => {}
    }
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else {
        if name.len() > 63 {
            errors.push(format!("name part {}", too_long(63)));
        }
        if !is_name_part(name) {
            errors.push(QUALIFIED_NAME.to_string());
        }
    }
    errors
}

const QUALIFIED_NAME_TAIL: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
     and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
     or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(too_long(63));
    }
    if !value.is_empty() && !is_name_part(value) {
        errors.push(LABEL_VALUE.to_string());
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds;

    fn kind(group: &str, plural: &str) -> &'static ResourceKind {
        kinds::get(kinds::by_path(group, "v1", plural).expect("served"))
    }

    #[test]
    fn a_service_name_must_start_with_a_letter() {
        let causes = name(kind("", "services"), "1shop");
        assert_eq!(causes.len(), 1);
        assert!(
            causes[0]
                .message
                .starts_with("Invalid value: \"1shop\": a DNS-1035 label")
        );
        assert!(name(kind("", "configmaps"), "1shop").is_empty());
    }

    #[test]
    fn a_namespace_name_may_not_contain_dots() {
        assert_eq!(name(kind("", "namespaces"), "shop.x").len(), 1);
        assert!(name(kind("", "secrets"), "shop.x").is_empty());
        assert!(
            name(
                kind("rbac.authorization.k8s.io", "clusterroles"),
                "system:sim"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_long_label_value_is_too_long() {
        let object = serde_json::json!({"metadata": {"labels": {"app": "x".repeat(64)}}});
        let causes = labels_and_annotations(&object);
        assert_eq!(causes.len(), 1);
        assert!(
            causes[0]
                .message
                .ends_with("must be no more than 63 characters")
        );
    }

    #[test]
    fn label_keys_may_carry_a_dns_prefix() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert_eq!(
            qualified_name("Bad_Prefix/name"),
            vec![format!("prefix part {DNS1123_SUBDOMAIN}")]
        );
        assert_eq!(qualified_name("-x"), vec![QUALIFIED_NAME.to_string()]);
    }
}

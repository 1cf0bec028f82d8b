//! Label and field selectors, parsed from the `labelSelector` and `fieldSelector` query
//! parameters.
//!
//! Grammar as in apimachinery's `labels.Parse`: comma-separated requirements, each
//! `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` or
//! `!key`. Field selectors take `=`, `==` and `!=` on a dotted path into the object.

use serde_json::Value;

/// A parse failure; the message is sent back in a 400 Status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::Equals(want), Some(v)) => v == want,
            (Op::Equals(_), None) => false,
            // As in apimachinery: `!=` and `notin` also match objects without the key.
            (Op::NotEquals(want), v) => v != Some(want.as_str()),
            (Op::In(set), Some(v)) => set.iter().any(|s| s == v),
            (Op::In(_), None) => false,
            (Op::NotIn(set), v) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
            (Op::Exists, v) => v.is_some(),
            (Op::DoesNotExist, v) => v.is_none(),
        }
    }
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        split_top_level(input)
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_requirement(s.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether the object's labels satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        self.0.iter().all(|r| {
            let value = labels.and_then(|l| l.get(&r.key)).and_then(Value::as_str);
            r.matches(value)
        })
    }
}

/// Splits on commas that are not inside parentheses (`a in (x,y),b`).
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_requirement(s: &str) -> Result<Requirement, SelectorError> {
    let err = || SelectorError(s.to_string());
    if let Some(key) = s.strip_prefix('!') {
        return Ok(Requirement {
            key: valid_key(key.trim()).ok_or_else(err)?,
            op: Op::DoesNotExist,
        });
    }
    if let Some((key, value)) = s.split_once("!=") {
        return Ok(Requirement {
            key: valid_key(key.trim()).ok_or_else(err)?,
            op: Op::NotEquals(value.trim().to_string()),
        });
    }
    if let Some((key, value)) = s.split_once("==").or_else(|| s.split_once('=')) {
        return Ok(Requirement {
            key: valid_key(key.trim()).ok_or_else(err)?,
            op: Op::Equals(value.trim().to_string()),
        });
    }
    let mut words = s.splitn(2, char::is_whitespace);
    let key = valid_key(words.next().unwrap_or_default()).ok_or_else(err)?;
    let Some(rest) = words.next().map(str::trim) else {
        return Ok(Requirement {
            key,
            op: Op::Exists,
        });
    };
    let (negated, set) = if let Some(set) = rest.strip_prefix("notin") {
        (true, set)
    } else if let Some(set) = rest.strip_prefix("in") {
        (false, set)
    } else {
        return Err(err());
    };
    let set = set
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(err)?;
    let values: Vec<String> = set
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    Ok(Requirement {
        key,
        op: if negated {
            Op::NotIn(values)
        } else {
            Op::In(values)
        },
    })
}

fn valid_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| key.to_string())
}

/// A parsed field selector: `=`/`==`/`!=` on dotted paths such as `metadata.name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(Vec<String>, bool, String)>);

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        for term in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (path, equal, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (p, true, v)
            } else {
                return Err(SelectorError(term.to_string()));
            };
            let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
            terms.push((path, equal, value.trim().to_string()));
        }
        Ok(Self(terms))
    }

    /// The name an `metadata.name=NAME` term pins the selection to, if there is one: a
    /// watch or list can then look that object up instead of scanning its kind.
    pub fn name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(path, equal, _)| {
                *equal && path.len() == 2 && path[0] == "metadata" && path[1] == "name"
            })
            .map(|(_, _, name)| name.as_str())
    }

    /// Whether the object satisfies every term; a missing field compares as "".
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, want)| {
            let got = path
                .iter()
                .try_fold(object, |v, k| v.get(k))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            (got == *want) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({ "metadata": { "name": "x", "namespace": "ns", "labels": labels } })
    }

    fn matches(selector: &str, labels: Value) -> bool {
        LabelSelector::parse(selector)
            .expect("selector parses")
            .matches(&labelled(labels))
    }

    #[test]
    fn equality_forms_match_the_same_objects() {
        assert!(matches("app=web", json!({"app": "web"})));
        assert!(matches("app==web", json!({"app": "web"})));
        assert!(!matches("app=web", json!({"app": "db"})));
        assert!(matches("app!=web", json!({})));
    }

    #[test]
    fn set_based_requirements_match() {
        assert!(matches(
            "tier in (a, b),app",
            json!({"tier": "b", "app": "x"})
        ));
        assert!(!matches("tier notin (a,b)", json!({"tier": "a"})));
        assert!(matches("tier notin (a,b)", json!({})));
        assert!(matches("!tier", json!({"app": "x"})));
        assert!(!matches("tier", json!({"app": "x"})));
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(LabelSelector::parse("app in x").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selectors_compare_dotted_paths() {
        let object = labelled(json!({}));
        let by_name = FieldSelector::parse("metadata.name=x").expect("parses");
        assert!(by_name.matches(&object));
        assert_eq!(by_name.name(), Some("x"));
        let not_ns = FieldSelector::parse("metadata.namespace!=ns").expect("parses");
        assert!(!not_ns.matches(&object));
        assert_eq!(not_ns.name(), None);
        let not_name = FieldSelector::parse("metadata.name!=x").expect("parses");
        assert_eq!(not_name.name(), None);
    }
}

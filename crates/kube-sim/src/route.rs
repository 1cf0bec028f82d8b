//! Resource paths: which kind, namespace, object and subresource a URL names.
//!
//! Layout as the real API server's: `/api/v1/{plural}` and `/apis/{group}/{version}/{plural}`
//! for cluster-scoped kinds and all-namespace lists, with `/namespaces/{ns}` inserted for
//! namespaced ones; `/{name}` and `/{name}/{subresource}` after the plural.

use crate::error::ApiError;
use crate::kinds::{self, KindId};

/// What a resource URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A collection: list, watch, create, deletecollection.
    Collection {
        /// The kind.
        kind: KindId,
        /// The namespace; `None` for cluster-scoped kinds and all-namespace requests.
        namespace: Option<String>,
    },
    /// One object, or one of its subresources.
    Object {
        /// The kind.
        kind: KindId,
        /// The namespace; `None` for cluster-scoped kinds.
        namespace: Option<String>,
        /// The object's name.
        name: String,
        /// `status`, `finalize`, ... when addressing a subresource.
        subresource: Option<String>,
    },
}

/// The 404 the real server gives for a path it does not serve.
pub fn unknown_path() -> ApiError {
    ApiError::NotFound {
        message: "the server could not find the requested resource".into(),
        subject: Default::default(),
    }
}

/// Parses a resource path.
pub fn parse(path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(unknown_path()),
    };
    let find = |plural: &str| kinds::by_path(group, version, plural).ok_or_else(unknown_path);
    let object = |kind, namespace: Option<&str>, name: &str, sub: Option<&str>| Route::Object {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
        subresource: sub.map(str::to_string),
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..] if !is_namespace_subresource(plural, tail) => {
            let kind = find(plural)?;
            if !kinds::get(kind).namespaced {
                return Err(unknown_path());
            }
            match tail {
                [] => Ok(Route::Collection {
                    kind,
                    namespace: Some(ns.to_string()),
                }),
                [name] => Ok(object(kind, Some(ns), name, None)),
                [name, sub] => Ok(object(kind, Some(ns), name, Some(sub))),
                _ => Err(unknown_path()),
            }
        }
        [plural] => Ok(Route::Collection {
            kind: find(plural)?,
            namespace: None,
        }),
        [plural, name] if !kinds::get(find(plural)?).namespaced => {
            Ok(object(find(plural)?, None, name, None))
        }
        [plural, name, sub] if !kinds::get(find(plural)?).namespaced => {
            Ok(object(find(plural)?, None, name, Some(sub)))
        }
        _ => Err(unknown_path()),
    }
}

/// `namespaces/{ns}/status` and `namespaces/{ns}/finalize` address the namespace itself.
fn is_namespace_subresource(segment: &str, tail: &[&str]) -> bool {
    tail.is_empty() && matches!(segment, "status" | "finalize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(plural: &str) -> KindId {
        kinds::KINDS
            .iter()
            .position(|k| k.plural == plural)
            .expect("served kind")
    }

    #[test]
    fn namespaced_collections_and_objects_parse() {
        assert_eq!(
            parse("/api/v1/namespaces/shop/pods").ok(),
            Some(Route::Collection {
                kind: kind("pods"),
                namespace: Some("shop".into())
            })
        );
        assert_eq!(
            parse("/apis/apps/v1/namespaces/shop/deployments/web/status").ok(),
            Some(Route::Object {
                kind: kind("deployments"),
                namespace: Some("shop".into()),
                name: "web".into(),
                subresource: Some("status".into())
            })
        );
    }

    #[test]
    fn namespaces_are_cluster_scoped_objects_with_subresources() {
        assert_eq!(
            parse("/api/v1/namespaces/shop").ok(),
            Some(Route::Object {
                kind: kinds::namespace(),
                namespace: None,
                name: "shop".into(),
                subresource: None
            })
        );
        assert!(matches!(
            parse("/api/v1/namespaces/shop/status"),
            Ok(Route::Object { subresource: Some(s), .. }) if s == "status"
        ));
    }

    #[test]
    fn all_namespace_lists_have_no_namespace() {
        assert_eq!(
            parse("/apis/apps/v1/deployments").ok(),
            Some(Route::Collection {
                kind: kind("deployments"),
                namespace: None
            })
        );
    }

    #[test]
    fn unknown_kinds_and_shapes_are_not_found() {
        assert!(parse("/api/v1/widgets").is_err());
        assert!(parse("/apis/apps/v1/deployments/web").is_err());
        assert!(parse("/healthz").is_err());
    }
}

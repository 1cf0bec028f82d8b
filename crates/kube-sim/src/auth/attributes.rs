//! What a request asks to do, in the terms RBAC rules are written in: a verb on a
//! resource (with its subresource, namespace and name) of an API group, or a verb on a
//! non-resource path. Derived from the URL as upstream's `RequestInfoFactory` does, before
//! the path is known to name a served kind, so an unauthorized caller learns nothing about
//! what exists (403, never 404).

use axum::http::{Method, Uri};

use crate::error::{ApiError, Subject};
use crate::kinds::{self, KindId};

/// A request's authorization attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attributes {
    /// A request for a resource under `/api/v1/...` or `/apis/GROUP/VERSION/...`.
    Resource {
        /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete` or
        /// `deletecollection`.
        verb: String,
        /// API group; empty for the core group.
        group: String,
        /// API version.
        version: String,
        /// Plural resource name.
        resource: String,
        /// `status`, `token`, `log`, ...; empty for the object itself.
        subresource: String,
        /// Namespace; empty for cluster-scoped resources and all-namespace requests.
        namespace: String,
        /// Object name; empty for collections.
        name: String,
    },
    /// Any other path (`/version`, `/api`, `/openapi/v3`, `/healthz`, ...).
    NonResource {
        /// The lower-cased HTTP method (`get`, `post`, ...).
        verb: String,
        /// The path.
        path: String,
    },
}

impl Attributes {
    /// The attributes of a request.
    pub fn of(method: &Method, uri: &Uri) -> Self {
        let path = uri.path();
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, version, mut rest) = match parts.as_slice() {
            ["api", version, rest @ ..] if !rest.is_empty() => ("", *version, rest),
            ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
            _ => {
                return Self::NonResource {
                    verb: method.as_str().to_ascii_lowercase(),
                    path: path.to_string(),
                };
            }
        };
        let mut namespace = "";
        if rest[0] == "namespaces" && rest.len() > 1 {
            namespace = rest[1];
            // `namespaces/NAME/status` and `/finalize` are the namespace's subresources.
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
        let resource = rest[0];
        let mut name = rest.get(1).copied().unwrap_or_default().to_string();
        let subresource = rest.get(2).copied().unwrap_or_default();
        let query = Query(uri.query().unwrap_or_default());
        let verb = match *method {
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if name.is_empty() => "deletecollection",
            Method::DELETE => "delete",
            _ if !name.is_empty() => "get",
            _ if query.flag("watch") => "watch",
            _ => "list",
        };
        // A list or watch of one object by `metadata.name` is authorized for that name,
        // so a rule with resourceNames can allow watching one object.
        if matches!(verb, "list" | "watch")
            && let Some(selected) = query.single_name()
        {
            name = selected;
        }
        Self::Resource {
            verb: verb.into(),
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name,
        }
    }

    /// A resource request from its parts (what a SubjectAccessReview asks about).
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        Self::Resource {
            verb: verb.into(),
            group: group.into(),
            version: String::new(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// For a server-side apply (`patch` of one object), the `create` it is authorized as
    /// too when `absent` says the object does not exist yet; `None` when it does, or when
    /// the path names no served kind (the handler answers that).
    pub fn apply_create(
        &self,
        absent: impl Fn(KindId, Option<&str>, &str) -> bool,
    ) -> Option<Self> {
        let Self::Resource {
            verb,
            group,
            version,
            resource,
            subresource,
            namespace,
            name,
        } = self
        else {
            return None;
        };
        if verb != "patch" || !subresource.is_empty() || name.is_empty() {
            return None;
        }
        let kind = kinds::by_path(group, version, resource)?;
        let ns =
            (!namespace.is_empty() && kinds::get(kind).namespaced).then_some(namespace.as_str());
        absent(kind, ns, name).then(|| Self::Resource {
            verb: "create".into(),
            group: group.clone(),
            version: version.clone(),
            resource: resource.clone(),
            subresource: String::new(),
            namespace: namespace.clone(),
            name: name.clone(),
        })
    }

    /// The 403 upstream answers when `user` may not do this, word for word
    /// (apiserver/pkg/endpoints/handlers/responsewriters/errors.go).
    pub fn forbidden(&self, user: &super::User) -> ApiError {
        let who = &user.name;
        match self {
            Self::NonResource { verb, path } => ApiError::Forbidden {
                message: format!("forbidden: User \"{who}\" cannot {verb} path \"{path}\""),
                subject: Subject::default(),
            },
            Self::Resource {
                verb,
                group,
                resource,
                subresource,
                namespace,
                name,
                ..
            } => {
                let combined = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                let scope = if namespace.is_empty() {
                    "at the cluster scope".to_string()
                } else {
                    format!("in the namespace \"{namespace}\"")
                };
                let reason = format!(
                    "User \"{who}\" cannot {verb} resource \"{combined}\" in API group \
                     \"{group}\" {scope}"
                );
                let qualified = if group.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}.{group}")
                };
                let message = if name.is_empty() {
                    format!("{qualified} is forbidden: {reason}")
                } else {
                    format!("{qualified} \"{name}\" is forbidden: {reason}")
                };
                ApiError::Forbidden {
                    message,
                    subject: Subject {
                        group: group.clone(),
                        kind: resource.clone(),
                        name: name.clone(),
                    },
                }
            }
        }
    }
}

impl Attributes {
    /// The 403 of a check made inside a handler rather than in front of it (the create
    /// path of a server-side apply): upstream's message there is the authorizer's reason
    /// alone, and RBAC gives none.
    pub fn forbidden_without_reason(&self) -> ApiError {
        let (group, resource, name) = match self {
            Self::Resource {
                group,
                resource,
                name,
                ..
            } => (group.as_str(), resource.as_str(), name.as_str()),
            Self::NonResource { .. } => ("", "", ""),
        };
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        ApiError::Forbidden {
            message: format!("{qualified} \"{name}\" is forbidden: "),
            subject: Subject {
                group: group.into(),
                kind: resource.into(),
                name: name.into(),
            },
        }
    }
}

/// A raw query string, read only for what authorization needs.
struct Query<'a>(&'a str);

impl Query<'_> {
    fn values(&self, key: &str) -> impl Iterator<Item = String> {
        self.0
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| percent_decode(v))
    }

    fn flag(&self, key: &str) -> bool {
        self.values(key)
            .last()
            .is_some_and(|v| matches!(v.as_str(), "true" | "1" | "True"))
    }

    /// The name a `fieldSelector` of exactly `metadata.name=NAME` selects.
    fn single_name(&self) -> Option<String> {
        let selector = self.values("fieldSelector").last()?;
        let name = selector
            .strip_prefix("metadata.name==")
            .or_else(|| selector.strip_prefix("metadata.name="))?;
        (!name.is_empty() && !name.contains(',')).then(|| name.to_string())
    }
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(method: Method, uri: &str) -> Attributes {
        Attributes::of(&method, &uri.parse().expect("a uri"))
    }

    /// A core-group (`v1`) resource request.
    fn core(
        verb: &str,
        group: &str,
        resource: &str,
        sub: &str,
        ns: &str,
        name: &str,
    ) -> Attributes {
        Attributes::Resource {
            verb: verb.into(),
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn verb_of(attributes: &Attributes) -> &str {
        match attributes {
            Attributes::Resource { verb, .. } | Attributes::NonResource { verb, .. } => verb,
        }
    }

    #[test]
    fn collections_are_listed_watched_and_deleted_as_collections() {
        assert_eq!(
            verb_of(&of(Method::GET, "/api/v1/namespaces/a/pods")),
            "list"
        );
        assert_eq!(
            verb_of(&of(Method::GET, "/api/v1/namespaces/a/pods?watch=true")),
            "watch"
        );
        assert_eq!(
            verb_of(&of(
                Method::DELETE,
                "/apis/apps/v1/namespaces/a/deployments"
            )),
            "deletecollection"
        );
    }

    #[test]
    fn a_namespace_is_a_resource_in_its_own_namespace() {
        assert_eq!(
            of(Method::GET, "/api/v1/namespaces/shop"),
            core("get", "", "namespaces", "", "shop", "shop")
        );
        assert_eq!(
            of(Method::PUT, "/api/v1/namespaces/shop/finalize"),
            core("update", "", "namespaces", "finalize", "shop", "shop")
        );
    }

    #[test]
    fn subresources_and_discovery_are_told_apart() {
        assert_eq!(
            of(
                Method::POST,
                "/api/v1/namespaces/a/serviceaccounts/sa/token"
            ),
            core("create", "", "serviceaccounts", "token", "a", "sa")
        );
        assert_eq!(
            of(Method::GET, "/apis/apps/v1"),
            Attributes::NonResource {
                verb: "get".into(),
                path: "/apis/apps/v1".into()
            }
        );
    }

    #[test]
    fn a_watch_of_one_name_is_authorized_for_that_name() {
        let attributes = of(
            Method::GET,
            "/api/v1/namespaces/a/pods?watch=1&fieldSelector=metadata.name%3Dweb",
        );
        assert_eq!(attributes, core("watch", "", "pods", "", "a", "web"));
    }

    #[test]
    fn denials_read_as_upstream_writes_them() {
        let user = super::super::User::service_account("ns", "sa", "uid");
        let list = of(Method::GET, "/api/v1/namespaces/default/pods").forbidden(&user);
        assert_eq!(
            list.to_string(),
            "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \
             \"pods\" in API group \"\" in the namespace \"default\""
        );
        let cluster = of(
            Method::DELETE,
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/x",
        )
        .forbidden(&user);
        assert_eq!(
            cluster.to_string(),
            "clusterroles.rbac.authorization.k8s.io \"x\" is forbidden: User \
             \"system:serviceaccount:ns:sa\" cannot delete resource \"clusterroles\" in API \
             group \"rbac.authorization.k8s.io\" at the cluster scope"
        );
        assert_eq!(list.code(), 403);
    }
}

//! The RBAC authorizer: a request is allowed when a rule of a role bound to its user
//! allows it. ClusterRoleBindings grant their ClusterRole everywhere; a RoleBinding grants
//! its Role, or a ClusterRole, in its own namespace only. Rules only allow; there is no
//! deny. Matching follows upstream's `plugin/pkg/auth/authorizer/rbac` (`rule.go`).

use serde_json::Value;

use super::{Attributes, User};
use crate::kinds;
use crate::store::{ListQuery, Store, name_of};

/// Whether some binding gives `user` a rule that allows `attributes`.
pub fn allows(store: &Store, user: &User, attributes: &Attributes) -> bool {
    let cluster_bindings = objects(store, "clusterrolebindings", None);
    let granted_everywhere = cluster_bindings
        .iter()
        .filter(|binding| binds(binding, "", user))
        .any(|binding| {
            role_rules(store, binding, "")
                .iter()
                .any(|r| rule_allows(r, attributes))
        });
    if granted_everywhere {
        return true;
    }
    let namespace = match attributes {
        Attributes::Resource { namespace, .. } if !namespace.is_empty() => namespace,
        _ => return false,
    };
    objects(store, "rolebindings", Some(namespace))
        .iter()
        .filter(|binding| binds(binding, namespace, user))
        .any(|binding| {
            role_rules(store, binding, namespace)
                .iter()
                .any(|r| rule_allows(r, attributes))
        })
}

fn object(
    store: &Store,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> Option<std::sync::Arc<Value>> {
    let kind = kinds::by_path("rbac.authorization.k8s.io", "v1", plural)?;
    store.get(kind, namespace, name).ok()
}

fn objects(store: &Store, plural: &str, namespace: Option<&str>) -> Vec<std::sync::Arc<Value>> {
    let Some(kind) = kinds::by_path("rbac.authorization.k8s.io", "v1", plural) else {
        return Vec::new();
    };
    let query = ListQuery {
        namespace: namespace.map(str::to_string),
        ..ListQuery::default()
    };
    store
        .list(kind, &query)
        .map(|page| page.items)
        .unwrap_or_default()
}

/// Whether one of `binding`'s subjects is `user`; a ServiceAccount subject without a
/// namespace means the binding's own (`namespace`).
fn binds(binding: &Value, namespace: &str, user: &User) -> bool {
    let subjects = binding["subjects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    subjects.iter().any(|subject| {
        let name = subject["name"].as_str().unwrap_or_default();
        match subject["kind"].as_str() {
            Some("User") => user.name == name,
            Some("Group") => user.groups.iter().any(|g| g == name),
            Some("ServiceAccount") => {
                let ns = subject["namespace"]
                    .as_str()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(namespace);
                user.name == format!("system:serviceaccount:{ns}:{name}")
            }
            _ => false,
        }
    })
}

/// The rules of the role `binding` refers to: a Role in `namespace`, or a ClusterRole;
/// none when it does not exist (upstream's authorizer likewise skips a dangling binding).
fn role_rules(store: &Store, binding: &Value, namespace: &str) -> Vec<Value> {
    let role = &binding["roleRef"]["name"];
    let role = role.as_str().unwrap_or_default();
    match binding["roleRef"]["kind"].as_str() {
        Some("Role") if !namespace.is_empty() => object(store, "roles", Some(namespace), role)
            .map(|r| rules_of(&r))
            .unwrap_or_default(),
        Some("ClusterRole") => cluster_role_rules(store, role),
        _ => Vec::new(),
    }
}

/// A ClusterRole's rules; for an aggregated one (`aggregationRule`), those of every
/// ClusterRole its selectors' labels match as well, which upstream's aggregation
/// controller would have copied into it.
fn cluster_role_rules(store: &Store, name: &str) -> Vec<Value> {
    let Some(role) = object(store, "clusterroles", None, name) else {
        return Vec::new();
    };
    let mut rules = rules_of(&role);
    let Some(selectors) = role["aggregationRule"]["clusterRoleSelectors"].as_array() else {
        return rules;
    };
    for other in objects(store, "clusterroles", None)
        .iter()
        .filter(|r| name_of(r) != name)
    {
        if selectors.iter().any(|s| labels_match(s, other)) {
            rules.extend(rules_of(other));
        }
    }
    rules
}

/// A selector's `matchLabels` against `object`'s labels (an empty selector matches none,
/// as aggregation treats it).
fn labels_match(selector: &Value, object: &Value) -> bool {
    let Some(wanted) = selector["matchLabels"]
        .as_object()
        .filter(|m| !m.is_empty())
    else {
        return false;
    };
    let labels = &object["metadata"]["labels"];
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn rules_of(role: &Value) -> Vec<Value> {
    role["rules"].as_array().cloned().unwrap_or_default()
}

fn strings(rule: &Value, field: &str) -> Vec<String> {
    rule[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn has(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v == "*" || v == wanted)
}

/// Whether one PolicyRule allows the request.
fn rule_allows(rule: &Value, attributes: &Attributes) -> bool {
    match attributes {
        Attributes::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            has(&strings(rule, "verbs"), verb)
                && has(&strings(rule, "apiGroups"), group)
                && resource_matches(&strings(rule, "resources"), resource, subresource)
                && name_matches(&strings(rule, "resourceNames"), name)
        }
        Attributes::NonResource { verb, path } => {
            has(&strings(rule, "verbs"), verb)
                && strings(rule, "nonResourceURLs").iter().any(|url| {
                    url == "*"
                        || url == path
                        || url
                            .strip_suffix('*')
                            .is_some_and(|prefix| path.starts_with(prefix))
                })
        }
    }
}

/// `*`, the exact `resource` or `resource/subresource`, or `*/subresource`.
fn resource_matches(rule_resources: &[String], resource: &str, subresource: &str) -> bool {
    let combined = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    rule_resources.iter().any(|r| {
        r == "*"
            || *r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// No resourceNames allows every name; otherwise only a request for one of them (never a
/// create, list or watch of the whole collection).
fn name_matches(names: &[String], name: &str) -> bool {
    names.is_empty() || (!name.is_empty() && names.iter().any(|n| n == name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pods_in(namespace: &str, verb: &str, name: &str) -> Attributes {
        Attributes::resource(verb, "", "pods", "", namespace, name)
    }

    #[test]
    fn a_rule_allows_only_its_verbs_groups_and_resources() {
        let rule = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]});
        assert!(rule_allows(&rule, &pods_in("a", "list", "")));
        assert!(!rule_allows(&rule, &pods_in("a", "watch", "")));
        assert!(!rule_allows(
            &rule,
            &Attributes::resource("list", "apps", "pods", "", "a", "")
        ));
    }

    #[test]
    fn a_subresource_needs_its_own_rule_or_a_wildcard_resource() {
        let status = Attributes::resource("patch", "apps", "deployments", "status", "a", "web");
        let main = json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]});
        let any_status = json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]});
        assert!(!rule_allows(&main, &status));
        assert!(rule_allows(&any_status, &status));
    }

    #[test]
    fn resource_names_never_allow_a_whole_collection() {
        let rule = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"],
                          "resourceNames": ["web"]});
        assert!(rule_allows(&rule, &pods_in("a", "get", "web")));
        assert!(!rule_allows(&rule, &pods_in("a", "get", "db")));
        assert!(!rule_allows(&rule, &pods_in("a", "list", "")));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_a_trailing_star() {
        let rule = json!({"nonResourceURLs": ["/api", "/api/*"], "verbs": ["get"]});
        let get = |path: &str| Attributes::NonResource {
            verb: "get".into(),
            path: path.into(),
        };
        assert!(rule_allows(&rule, &get("/api/v1")));
        assert!(!rule_allows(&rule, &get("/apis")));
    }

    #[test]
    fn service_account_subjects_default_to_the_binding_namespace() {
        let binding = json!({"subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        let user = User::service_account("shop", "sa", "uid");
        assert!(binds(&binding, "shop", &user));
        assert!(!binds(&binding, "other", &user));
    }
}

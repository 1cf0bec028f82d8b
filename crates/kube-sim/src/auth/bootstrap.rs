//! The default ClusterRoles and ClusterRoleBindings every cluster starts with that matter
//! to a client: `cluster-admin` (bound to `system:masters`), and the roles that let every
//! authenticated user read discovery, the version and health, and ask what it may do
//! (`system:discovery`, `system:public-info-viewer`, `system:basic-user`), with the rules
//! upstream's bootstrap policy gives them (plugin/pkg/auth/authorizer/rbac/bootstrappolicy).

use serde_json::{Value, json};

use crate::kinds;
use crate::store::{Store, WriteContext};

const GROUP: &str = "rbac.authorization.k8s.io";

/// Creates the default roles and bindings in a new cluster.
pub fn bootstrap(store: &Store) {
    let (Some(roles), Some(bindings)) = (
        kinds::by_path(GROUP, "v1", "clusterroles"),
        kinds::by_path(GROUP, "v1", "clusterrolebindings"),
    ) else {
        return;
    };
    let system = WriteContext::system();
    for (name, rules, subjects) in defaults() {
        // Fixed, valid objects in an empty store: creating them cannot fail.
        let _ = store.create(roles, None, role(name, rules), &system);
        let _ = store.create(bindings, None, binding(name, subjects), &system);
    }
}

fn defaults() -> Vec<(&'static str, Value, Value)> {
    let authenticated =
        json!([{"apiGroup": GROUP, "kind": "Group", "name": "system:authenticated"}]);
    vec![
        (
            "cluster-admin",
            json!([
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ]),
            json!([{"apiGroup": GROUP, "kind": "Group", "name": "system:masters"}]),
        ),
        (
            "system:discovery",
            json!([{
                "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                    "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                "verbs": ["get"],
            }]),
            authenticated.clone(),
        ),
        (
            "system:public-info-viewer",
            json!([{
                "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                "verbs": ["get"],
            }]),
            json!([
                {"apiGroup": GROUP, "kind": "Group", "name": "system:authenticated"},
                {"apiGroup": GROUP, "kind": "Group", "name": "system:unauthenticated"},
            ]),
        ),
        (
            "system:basic-user",
            json!([
                {"apiGroups": ["authorization.k8s.io"],
                 "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                 "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"],
                 "resources": ["selfsubjectreviews"],
                 "verbs": ["create"]},
            ]),
            authenticated,
        ),
    ]
}

fn metadata(name: &str) -> Value {
    json!({
        "name": name,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn role(name: &str, rules: Value) -> Value {
    json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": "ClusterRole",
        "metadata": metadata(name),
        "rules": rules,
    })
}

fn binding(name: &str, subjects: Value) -> Value {
    json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": "ClusterRoleBinding",
        "metadata": metadata(name),
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
        "subjects": subjects,
    })
}

//! Authentication and RBAC: ServiceAccount tokens from the TokenRequest subresource are
//! authorized against Roles, ClusterRoles and their bindings, through kube-rs and through
//! the real kubectl, with the status codes and messages a real API server gives.

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SubjectAccessReview};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchParams};
use kube::core::Status;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::fixtures::{Sim, config_map, sim};
use crate::kubectl::Kubectl;

fn from<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object")
}

/// The API error a request failed with.
fn refusal<T: std::fmt::Debug>(result: kube::Result<T>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

impl Sim {
    /// Creates ServiceAccount `name` in `ns` and returns a token for it from the
    /// TokenRequest subresource.
    async fn token_for(&self, ns: &str, name: &str) -> String {
        let accounts: Api<ServiceAccount> = self.api(ns);
        accounts
            .create(
                &PostParams::default(),
                &from(json!({"metadata": {"name": name}})),
            )
            .await
            .expect("service account is created");
        self.new_token(ns, name).await
    }

    async fn new_token(&self, ns: &str, name: &str) -> String {
        let accounts: Api<ServiceAccount> = self.api(ns);
        let request: TokenRequest = from(json!({"spec": {"audiences": []}}));
        let issued: TokenRequest = accounts
            .create_subresource("token", name, &PostParams::default(), &request)
            .await
            .expect("token is issued");
        issued.status.expect("a token in the status").token
    }

    /// A client that authenticates with `token`.
    fn client_as(&self, token: &str) -> Client {
        let mut config = self.handle.kube_config();
        config.auth_info.token = Some(token.to_string().into());
        Client::try_from(config).expect("client builds")
    }

    /// Applies an RBAC object as the admin.
    async fn grant(&self, object: Value) {
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ns = object["metadata"]["namespace"].as_str().map(str::to_string);
        let pp = PostParams::default();
        let client = self.client.clone();
        let created = match (kind.as_str(), ns) {
            ("Role", Some(ns)) => Api::<Role>::namespaced(client, &ns)
                .create(&pp, &from(object))
                .await
                .map(drop),
            ("RoleBinding", Some(ns)) => Api::<RoleBinding>::namespaced(client, &ns)
                .create(&pp, &from(object))
                .await
                .map(drop),
            ("ClusterRole", None) => Api::<ClusterRole>::all(client)
                .create(&pp, &from(object))
                .await
                .map(drop),
            ("ClusterRoleBinding", None) => Api::<ClusterRoleBinding>::all(client)
                .create(&pp, &from(object))
                .await
                .map(drop),
            other => panic!("not an RBAC object: {other:?}"),
        };
        created.unwrap_or_else(|e| panic!("{kind} {name} is created: {e}"));
    }
}

fn role(ns: &str, name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
           "metadata": {"name": name, "namespace": ns}, "rules": rules})
}

fn cluster_role(name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name}, "rules": rules})
}

/// Binds `role_kind` `role` to ServiceAccount `sa_ns/sa`, in `ns` (a RoleBinding) or
/// cluster-wide (`ns` `None`: a ClusterRoleBinding).
fn binding(ns: Option<&str>, role_kind: &str, role: &str, sa_ns: &str, sa: &str) -> Value {
    let mut metadata = json!({"name": format!("{role}-{sa}")});
    if let Some(ns) = ns {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": if ns.is_some() { "RoleBinding" } else { "ClusterRoleBinding" },
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": sa_ns}],
    })
}

#[tokio::test]
async fn a_service_account_without_roles_is_refused_with_the_upstream_message() {
    let sim = sim().await;
    let ns = sim.namespace("shop").await;
    let token = sim.token_for(&ns, "robot").await;
    let pods: Api<Pod> = Api::namespaced(sim.client_as(&token), &ns);

    let status = refusal(pods.list(&ListParams::default()).await);

    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "pods is forbidden: User \"system:serviceaccount:shop:robot\" cannot list resource \
         \"pods\" in API group \"\" in the namespace \"shop\""
    );
}

#[tokio::test]
async fn a_cluster_scoped_denial_names_the_object_and_the_cluster_scope() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let roles: Api<ClusterRole> = Api::all(sim.client_as(&token));

    let status = refusal(
        roles
            .delete("cluster-admin", &DeleteParams::default())
            .await,
    );

    assert_eq!(
        status.message,
        "clusterroles.rbac.authorization.k8s.io \"cluster-admin\" is forbidden: User \
         \"system:serviceaccount:default:robot\" cannot delete resource \"clusterroles\" in \
         API group \"rbac.authorization.k8s.io\" at the cluster scope"
    );
}

#[tokio::test]
async fn a_role_binding_grants_its_role_in_its_own_namespace_only() {
    let sim = sim().await;
    let shop = sim.namespace("shop").await;
    let other = sim.namespace("other").await;
    let token = sim.token_for(&shop, "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create"]}]);
    sim.grant(role(&shop, "config", rules)).await;
    sim.grant(binding(Some(&shop), "Role", "config", &shop, "robot"))
        .await;
    let client = sim.client_as(&token);

    let in_shop: Api<ConfigMap> = Api::namespaced(client.clone(), &shop);
    in_shop
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("the role allows create in its namespace");
    in_shop.get("settings").await.expect("and get");
    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), &other);
    assert_eq!(
        refusal(elsewhere.list(&ListParams::default()).await).code,
        403
    );
    let everywhere: Api<ConfigMap> = Api::all(client);
    let status = refusal(everywhere.list(&ListParams::default()).await);
    assert!(
        status.message.ends_with("at the cluster scope"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_cluster_role_bound_in_a_namespace_grants_only_there() {
    let sim = sim().await;
    let shop = sim.namespace("shop").await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]);
    sim.grant(cluster_role("config-reader", rules)).await;
    sim.grant(binding(
        Some(&shop),
        "ClusterRole",
        "config-reader",
        "default",
        "robot",
    ))
    .await;
    let client = sim.client_as(&token);

    let in_shop: Api<ConfigMap> = Api::namespaced(client.clone(), &shop);
    in_shop
        .list(&ListParams::default())
        .await
        .expect("allowed in shop");
    let in_default: Api<ConfigMap> = Api::namespaced(client, "default");
    assert_eq!(
        refusal(in_default.list(&ListParams::default()).await).code,
        403
    );
}

#[tokio::test]
async fn watching_needs_watch_not_only_list() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]);
    sim.grant(cluster_role("lister", rules)).await;
    sim.grant(binding(None, "ClusterRole", "lister", "default", "robot"))
        .await;
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_as(&token), "default");

    maps.list(&ListParams::default())
        .await
        .expect("list is allowed");
    let status = refusal(maps.watch(&WatchParams::default(), "0").await.map(drop));

    assert!(
        status
            .message
            .contains("cannot watch resource \"configmaps\""),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_server_side_apply_that_creates_needs_create_as_well_as_patch() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}]);
    sim.grant(cluster_role("patcher", rules)).await;
    sim.grant(binding(None, "ClusterRole", "patcher", "default", "robot"))
        .await;
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_as(&token), "default");
    let apply = PatchParams::apply("robot").force();
    let desired = json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "settings"}, "data": {"a": "1"}});

    // Upstream authorizes the create inside the patch handler and answers with the
    // authorizer's reason alone, which RBAC leaves empty.
    let status = refusal(
        maps.patch("settings", &apply, &Patch::Apply(&desired))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(status.message, "configmaps \"settings\" is forbidden: ");

    sim.api::<ConfigMap>("default")
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("the admin creates it");
    let applied = maps
        .patch("settings", &apply, &Patch::Apply(&desired))
        .await
        .expect("patch alone updates an existing object");
    assert_eq!(applied.data.expect("data")["a"], "1");
}

#[tokio::test]
async fn resource_names_limit_a_rule_to_the_named_objects() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                        "resourceNames": ["public"]}]);
    sim.grant(cluster_role("public-reader", rules)).await;
    sim.grant(binding(
        None,
        "ClusterRole",
        "public-reader",
        "default",
        "robot",
    ))
    .await;
    for name in ["public", "private"] {
        sim.api::<ConfigMap>("default")
            .create(&PostParams::default(), &config_map(name))
            .await
            .expect("config map is created");
    }
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_as(&token), "default");

    maps.get("public")
        .await
        .expect("the named object is readable");
    assert_eq!(refusal(maps.get("private").await).code, 403);
}

#[tokio::test]
async fn subresources_need_rules_of_their_own() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["*"]}]);
    sim.grant(cluster_role("accounts", rules)).await;
    sim.grant(binding(None, "ClusterRole", "accounts", "default", "robot"))
        .await;
    let accounts: Api<ServiceAccount> = Api::namespaced(sim.client_as(&token), "default");
    let request: TokenRequest = from(json!({"spec": {"audiences": []}}));

    accounts
        .get("robot")
        .await
        .expect("the account itself is readable");
    let status = refusal(
        accounts
            .create_subresource::<_, TokenRequest>(
                "token",
                "robot",
                &PostParams::default(),
                &request,
            )
            .await,
    );

    assert!(
        status
            .message
            .contains("cannot create resource \"serviceaccounts/token\""),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn an_aggregated_cluster_role_grants_the_rules_of_the_roles_it_selects() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let mut piece = cluster_role(
        "config-piece",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]),
    );
    piece["metadata"]["labels"] = json!({"example.com/aggregate-to-reader": "true"});
    sim.grant(piece).await;
    let mut reader = cluster_role("reader", json!([]));
    reader["aggregationRule"] = json!({"clusterRoleSelectors": [
        {"matchLabels": {"example.com/aggregate-to-reader": "true"}}]});
    sim.grant(reader).await;
    sim.grant(binding(None, "ClusterRole", "reader", "default", "robot"))
        .await;
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_as(&token), "default");

    maps.list(&ListParams::default())
        .await
        .expect("the aggregated rule allows list");
}

#[tokio::test]
async fn every_authenticated_account_reads_discovery_and_the_version() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let client = sim.client_as(&token);

    client
        .apiserver_version()
        .await
        .expect("/version is readable");
    client.list_api_groups().await.expect("/apis is readable");
    client
        .list_core_api_versions()
        .await
        .expect("/api is readable");
}

#[tokio::test]
async fn an_unknown_token_is_unauthorized() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = Api::namespaced(sim.client_as("not-a-token"), "default");

    let status = refusal(maps.list(&ListParams::default()).await);

    assert_eq!((status.code, status.reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn a_token_stops_working_when_its_service_account_is_deleted() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let client = sim.client_as(&token);
    client.apiserver_version().await.expect("the token works");

    let accounts: Api<ServiceAccount> = sim.api("default");
    accounts
        .delete("robot", &DeleteParams::default())
        .await
        .expect("account is deleted");
    accounts
        .create(
            &PostParams::default(),
            &from(json!({"metadata": {"name": "robot"}})),
        )
        .await
        .expect("an account of the same name is created again");

    let status = refusal(client.apiserver_version().await);
    assert_eq!(status.code, 401);
}

#[tokio::test]
async fn a_token_for_a_missing_account_or_too_short_a_time_is_refused() {
    let sim = sim().await;
    let accounts: Api<ServiceAccount> = sim.api("default");
    let pp = PostParams::default();
    let request: TokenRequest = from(json!({"spec": {"audiences": []}}));
    let missing = refusal(
        accounts
            .create_subresource::<_, TokenRequest>("token", "nobody", &pp, &request)
            .await,
    );
    assert_eq!(missing.message, "serviceaccounts \"nobody\" not found");

    sim.token_for("default", "robot").await;
    let brief: TokenRequest = from(json!({"spec": {"audiences": [], "expirationSeconds": 60}}));
    let status = refusal(
        accounts
            .create_subresource::<_, TokenRequest>("token", "robot", &pp, &brief)
            .await,
    );
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn access_reviews_answer_for_the_caller_and_for_another_subject() {
    let sim = sim().await;
    let token = sim.token_for("default", "robot").await;
    let rules = json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]);
    sim.grant(cluster_role("pod-reader", rules)).await;
    sim.grant(binding(
        Some("default"),
        "ClusterRole",
        "pod-reader",
        "default",
        "robot",
    ))
    .await;
    let ask = |verb: &str| -> SelfSubjectAccessReview {
        from(
            json!({"spec": {"resourceAttributes": {"namespace": "default", "verb": verb,
                                                    "resource": "pods"}}}),
        )
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(sim.client_as(&token));
    let pp = PostParams::default();

    let get = reviews.create(&pp, &ask("get")).await.expect("reviewed");
    let delete = reviews.create(&pp, &ask("delete")).await.expect("reviewed");
    assert!(get.status.expect("status").allowed);
    assert!(!delete.status.expect("status").allowed);

    let about_robot: SubjectAccessReview = from(json!({"spec": {
        "user": "system:serviceaccount:default:robot",
        "resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}}}));
    let reviews: Api<SubjectAccessReview> = Api::all(sim.client.clone());
    let answer = reviews.create(&pp, &about_robot).await.expect("reviewed");
    assert!(answer.status.expect("status").allowed);
    let forbidden: Api<SubjectAccessReview> = Api::all(sim.client_as(&token));
    assert_eq!(refusal(forbidden.create(&pp, &about_robot).await).code, 403);
}

/// kubectl sends a kubeconfig's or `--token`'s credentials only over TLS (client-go's
/// clientcmd drops them for an `http://` server), and kube-sim serves plain HTTP, so
/// kubectl authenticates as kube-sim's admin; it acts as an account by impersonating it
/// (`--as`), and the token it issues is checked through kube-rs.
#[tokio::test]
async fn kubectl_create_token_issues_a_token_that_authenticates_the_account() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["create", "serviceaccount", "robot"], None)
        .await;

    let token = kubectl
        .ok(&["create", "token", "robot", "--duration", "1h"], None)
        .await;
    let token = token.trim();
    let pods: Api<Pod> = Api::namespaced(sim.client_as(token), "default");
    let status = refusal(pods.list(&ListParams::default()).await);

    assert_eq!(
        status.message,
        "pods is forbidden: User \"system:serviceaccount:default:robot\" cannot list \
         resource \"pods\" in API group \"\" in the namespace \"default\""
    );
}

const DEPLOYER: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: example:deployer
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: example:deployer
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: example:deployer
subjects:
  - kind: ServiceAccount
    name: robot
";

#[tokio::test]
async fn kubectl_applies_rbac_and_auth_can_i_asks_the_server() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["create", "serviceaccount", "robot"], None)
        .await;
    kubectl
        .ok(&["apply", "--server-side", "-f", "-"], Some(DEPLOYER))
        .await;

    // The admin may do anything; the SelfSubjectAccessReview kubectl sends says so.
    assert_eq!(
        kubectl
            .ok(&["auth", "can-i", "delete", "clusterroles"], None)
            .await
            .trim(),
        "yes"
    );
    let token = kubectl.ok(&["create", "token", "robot"], None).await;
    let token = token.trim();
    let review = |verb: &str, ns: &str| -> SelfSubjectAccessReview {
        from(
            json!({"spec": {"resourceAttributes": {"namespace": ns, "verb": verb,
                    "group": "apps", "resource": "deployments"}}}),
        )
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(sim.client_as(token));
    let pp = PostParams::default();
    let allowed = |r: SelfSubjectAccessReview| r.status.expect("status").allowed;
    assert!(allowed(
        reviews
            .create(&pp, &review("watch", "default"))
            .await
            .expect("reviewed")
    ));
    assert!(!allowed(
        reviews
            .create(&pp, &review("delete", "default"))
            .await
            .expect("reviewed")
    ));
    assert!(!allowed(
        reviews
            .create(&pp, &review("list", "kube-system"))
            .await
            .expect("reviewed")
    ));
}

#[tokio::test]
async fn kubectl_as_a_service_account_is_refused_what_its_roles_do_not_grant() {
    let sim = sim().await;
    let kubectl = Kubectl::new(&sim.handle.kubeconfig());
    kubectl
        .ok(&["create", "serviceaccount", "robot"], None)
        .await;
    kubectl.ok(&["apply", "-f", "-"], Some(DEPLOYER)).await;
    let robot = "--as=system:serviceaccount:default:robot";

    let refused = kubectl.run(&[robot, "get", "pods"], None).await;
    assert!(!refused.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "Error from server (Forbidden): pods is forbidden: User \
         \"system:serviceaccount:default:robot\" cannot list resource \"pods\" in API group \
         \"\" in the namespace \"default\""
    );
    kubectl.ok(&[robot, "get", "deployments"], None).await;
    assert_eq!(
        kubectl
            .ok(&[robot, "auth", "can-i", "watch", "deployments.apps"], None)
            .await
            .trim(),
        "yes"
    );
    let delete = kubectl
        .run(
            &[robot, "auth", "can-i", "delete", "deployments.apps"],
            None,
        )
        .await;
    assert_eq!(String::from_utf8_lossy(&delete.stdout).trim(), "no");
}

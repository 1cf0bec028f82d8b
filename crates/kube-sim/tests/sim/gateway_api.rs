//! The Gateway API (`gateway.networking.k8s.io/v1`) through kube-rs: found by discovery
//! like any installed CRD, GatewayClasses cluster-wide, Gateways and HTTPRoutes in
//! namespaces, applied, selected, watched for their generation and deleted.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::{Discovery, Scope};
use serde_json::json;

use crate::fixtures::sim;

const GROUP: &str = "gateway.networking.k8s.io";

#[tokio::test]
async fn discovery_finds_gateway_classes_gateways_and_http_routes() {
    let sim = sim().await;
    let discovery = Discovery::new(sim.client.clone())
        .filter(&[GROUP])
        .run()
        .await
        .expect("discovery runs");
    let group = discovery
        .get(GROUP)
        .expect("the Gateway API group is served");
    let mut kinds: Vec<(String, bool)> = group
        .recommended_resources()
        .into_iter()
        .map(|(resource, caps)| (resource.kind, caps.scope == Scope::Namespaced))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("Gateway".to_owned(), true),
            ("GatewayClass".to_owned(), false),
            ("HTTPRoute".to_owned(), true),
        ]
    );
}

#[tokio::test]
async fn an_http_route_is_applied_selected_changed_and_deleted() {
    let sim = sim().await;
    let ns = sim.namespace("store-a").await;
    let discovery = Discovery::new(sim.client.clone())
        .filter(&[GROUP])
        .run()
        .await
        .expect("discovery runs");
    let (resource, _) = discovery
        .get(GROUP)
        .and_then(|g| g.recommended_kind("HTTPRoute"))
        .expect("HTTPRoute is served");
    let routes: Api<DynamicObject> = Api::namespaced_with(sim.client.clone(), &ns, &resource);
    let route = |host: &str| {
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "storefront", "labels": {"app": "shop"}},
            "spec": {
                "parentRefs": [{"name": "platform", "namespace": "gateways"}],
                "hostnames": [host],
                "rules": [{"backendRefs": [{"name": "web", "port": 80}]}],
            },
        })
    };
    let apply = PatchParams::apply("test").force();

    let created = routes
        .patch("storefront", &apply, &Patch::Apply(route("a.example.test")))
        .await
        .expect("applied");
    assert_eq!(created.metadata.generation, Some(1));
    let changed = routes
        .patch("storefront", &apply, &Patch::Apply(route("b.example.test")))
        .await
        .expect("applied again");
    assert_eq!(changed.metadata.generation, Some(2), "a spec change");
    assert_eq!(changed.data["spec"]["hostnames"], json!(["b.example.test"]));

    let selected = routes
        .list(&ListParams::default().labels("app=shop"))
        .await
        .expect("listed");
    assert_eq!(selected.items.len(), 1);
    routes
        .delete("storefront", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(routes.get_opt("storefront").await.expect("read").is_none());
}

#[tokio::test]
async fn gateway_classes_live_outside_namespaces_and_gateways_inside() {
    let sim = sim().await;
    let ns = sim.namespace("gateways").await;
    let resource = |kind: &str, plural: &str| kube::core::ApiResource {
        group: GROUP.to_owned(),
        version: "v1".to_owned(),
        api_version: format!("{GROUP}/v1"),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    };
    let classes: Api<DynamicObject> = Api::all_with(
        sim.client.clone(),
        &resource("GatewayClass", "gatewayclasses"),
    );
    let gateways: Api<DynamicObject> =
        Api::namespaced_with(sim.client.clone(), &ns, &resource("Gateway", "gateways"));
    let apply = PatchParams::apply("test");
    let class = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "traefik"},
        "spec": {"controllerName": "traefik.io/gateway-controller"},
    });
    let gateway = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "platform"},
        "spec": {"gatewayClassName": "traefik",
                 "listeners": [{"name": "http", "protocol": "HTTP", "port": 8000}]},
    });

    let class = classes
        .patch("traefik", &apply, &Patch::Apply(class))
        .await
        .expect("class applied");
    let gateway = gateways
        .patch("platform", &apply, &Patch::Apply(gateway))
        .await
        .expect("gateway applied");

    assert_eq!(class.metadata.namespace, None);
    assert_eq!(gateway.metadata.namespace.as_deref(), Some("gateways"));
    let everywhere: Api<DynamicObject> =
        Api::all_with(sim.client.clone(), &resource("Gateway", "gateways"));
    let names: Vec<_> = everywhere
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items
        .into_iter()
        .filter_map(|g| g.metadata.name)
        .collect();
    assert_eq!(names, ["platform"]);
}

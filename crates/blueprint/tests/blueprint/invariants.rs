//! What must hold for every store, whatever its plan, name or the platform's settings:
//! isolation (network policies, no exposed Services, no leaked secret), sizing (every
//! container bounded, the whole store within its quota), hygiene (labels, probes,
//! seccomp), apply order, and every pod template (the store's and every engine step's)
//! admitted by the `restricted` Pod Security its namespace enforces, judged by the same
//! rule code kube-sim enforces.

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_sim::pod_security::{self, Level, LevelVersion, Policy};
use proptest::prelude::*;
use storeplane_blueprint::labels::{COMPONENT, MANAGED_BY, PART_OF, STORE_ID};
use storeplane_blueprint::quantity::{Bytes, Cpu};
use storeplane_blueprint::{
    Blueprint, Checkpoint, Engine, FrontDoor, Plan, PlatformSettings, Resource, Step,
    StoreResources, objects_to_yaml,
};

use crate::fixtures;

/// Every pod template of the store: (owner name, pod spec, whether it is a Job's).
fn pods(objects: &[Resource]) -> Vec<(String, &PodSpec, bool)> {
    objects
        .iter()
        .filter_map(|object| {
            let (template, is_job) = match object {
                Resource::Deployment(d) => (&d.spec.as_ref()?.template, false),
                Resource::StatefulSet(s) => (&s.spec.as_ref()?.template, false),
                Resource::Job(j) => (&j.spec.as_ref()?.template, true),
                _ => return None,
            };
            Some((object.name().to_owned(), template.spec.as_ref()?, is_job))
        })
        .collect()
}

fn all_containers(pod: &PodSpec) -> impl Iterator<Item = &Container> {
    pod.containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
}

fn policies(objects: &[Resource]) -> Vec<&NetworkPolicy> {
    objects
        .iter()
        .filter_map(|o| match o {
            Resource::NetworkPolicy(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn cpu(q: &Quantity) -> Cpu {
    q.0.parse().unwrap()
}

fn bytes(q: &Quantity) -> Bytes {
    q.0.parse().unwrap()
}

fn check_default_deny_covers_every_pod(objects: &[Resource]) {
    let deny = policies(objects)
        .into_iter()
        .find(|p| {
            let spec = p.spec.as_ref().unwrap();
            let selector = spec.pod_selector.as_ref().unwrap();
            let selects_all = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && selector
                    .match_expressions
                    .as_ref()
                    .is_none_or(|m| m.is_empty());
            let types = spec.policy_types.clone().unwrap_or_default();
            selects_all
                && types.contains(&"Ingress".to_owned())
                && types.contains(&"Egress".to_owned())
                && spec.ingress.is_none()
                && spec.egress.is_none()
        })
        .expect("a default-deny policy selecting every pod");
    assert!(!pods(objects).is_empty());
    for object in objects
        .iter()
        .filter(|o| pods(std::slice::from_ref(o)).len() == 1)
    {
        assert_eq!(object.namespace(), deny.metadata.namespace.as_deref());
    }
}

fn check_peer(peer: &NetworkPolicyPeer, allowed_namespaces: &[&str], egress: bool) {
    if let Some(namespaces) = &peer.namespace_selector {
        let labels = namespaces.match_labels.clone().unwrap_or_default();
        assert!(namespaces.match_expressions.is_none(), "{peer:?}");
        assert_eq!(
            labels.len(),
            1,
            "a namespace selector must name one namespace: {peer:?}"
        );
        let name = labels
            .get("kubernetes.io/metadata.name")
            .expect("selected by name");
        assert!(allowed_namespaces.contains(&name.as_str()), "{name}");
    } else if let Some(block) = &peer.ip_block {
        assert!(egress, "no ingress from IP blocks: {peer:?}");
        let except = block.except.clone().unwrap_or_default();
        for private in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "169.254.0.0/16",
        ] {
            assert!(
                except.contains(&private.to_owned()),
                "{private} must be excluded"
            );
        }
    } else {
        assert!(
            peer.pod_selector.is_some(),
            "a peer with no selector: {peer:?}"
        );
    }
}

fn check_no_policy_admits_another_store(objects: &[Resource], settings: &PlatformSettings) {
    let allowed = ["kube-system", settings.front_door_namespace()];
    for policy in policies(objects) {
        let spec = policy.spec.as_ref().unwrap();
        for rule in spec.ingress.iter().flatten() {
            let from = rule
                .from
                .as_ref()
                .expect("an ingress rule names its sources");
            assert!(!from.is_empty(), "an empty `from` admits everyone");
            from.iter().for_each(|p| check_peer(p, &allowed, false));
        }
        for rule in spec.egress.iter().flatten() {
            let to = rule
                .to
                .as_ref()
                .expect("an egress rule names its destinations");
            assert!(!to.is_empty(), "an empty `to` allows everywhere");
            to.iter().for_each(|p| check_peer(p, &allowed, true));
        }
    }
}

fn check_containers_within_limit_range(resources: &StoreResources) {
    let item = &resources.limit_range.spec.as_ref().unwrap().limits[0];
    let (min, max) = (item.min.as_ref().unwrap(), item.max.as_ref().unwrap());
    for (owner, pod, _) in pods(&resources.ordered()) {
        for c in all_containers(pod) {
            let r = c
                .resources
                .as_ref()
                .unwrap_or_else(|| panic!("{owner}/{}", c.name));
            let (requests, limits) = (r.requests.as_ref().unwrap(), r.limits.as_ref().unwrap());
            assert!(
                cpu(&requests["cpu"]) >= cpu(&min["cpu"]),
                "{owner}/{}",
                c.name
            );
            assert!(
                bytes(&requests["memory"]) >= bytes(&min["memory"]),
                "{owner}/{}",
                c.name
            );
            assert!(
                cpu(&limits["cpu"]) <= cpu(&max["cpu"]),
                "{owner}/{}",
                c.name
            );
            assert!(
                bytes(&limits["memory"]) <= bytes(&max["memory"]),
                "{owner}/{}",
                c.name
            );
            assert!(
                cpu(&requests["cpu"]) <= cpu(&limits["cpu"]),
                "{owner}/{}",
                c.name
            );
            assert!(
                bytes(&requests["memory"]) <= bytes(&limits["memory"]),
                "{owner}/{}",
                c.name
            );
        }
    }
}

/// Conservatively, as if init containers ran alongside the others: every pod of the store
/// at once, at its limits, and every claim fit the quota.
fn check_everything_fits_the_quota(resources: &StoreResources) {
    let hard = resources
        .resource_quota
        .spec
        .as_ref()
        .unwrap()
        .hard
        .clone()
        .unwrap();
    let objects = resources.ordered();
    let (mut requests_cpu, mut requests_memory, mut limits_cpu, mut limits_memory) = (0, 0, 0, 0);
    let all = pods(&objects);
    for (_, pod, _) in &all {
        for c in all_containers(pod) {
            let r = c.resources.as_ref().unwrap();
            requests_cpu += cpu(&r.requests.as_ref().unwrap()["cpu"]).0;
            requests_memory += bytes(&r.requests.as_ref().unwrap()["memory"]).0;
            limits_cpu += cpu(&r.limits.as_ref().unwrap()["cpu"]).0;
            limits_memory += bytes(&r.limits.as_ref().unwrap()["memory"]).0;
        }
    }
    assert!(requests_cpu <= cpu(&hard["requests.cpu"]).0);
    assert!(requests_memory <= bytes(&hard["requests.memory"]).0);
    assert!(limits_cpu <= cpu(&hard["limits.cpu"]).0);
    assert!(limits_memory <= bytes(&hard["limits.memory"]).0);
    assert!(all.len() as u64 <= hard["pods"].0.parse::<u64>().unwrap());
    let claims: Vec<_> = objects
        .iter()
        .filter_map(|o| match o {
            Resource::PersistentVolumeClaim(c) => Some(c),
            _ => None,
        })
        .collect();
    let storage: u64 = claims
        .iter()
        .map(|c| {
            bytes(
                &c.spec
                    .as_ref()
                    .unwrap()
                    .resources
                    .as_ref()
                    .unwrap()
                    .requests
                    .as_ref()
                    .unwrap()["storage"],
            )
            .0
        })
        .sum();
    assert!(claims.len() as u64 <= hard["persistentvolumeclaims"].0.parse::<u64>().unwrap());
    assert!(storage <= bytes(&hard["requests.storage"]).0);
    assert_eq!(hard["services.nodeports"].0, "0");
    assert_eq!(hard["services.loadbalancers"].0, "0");
}

fn check_no_secret_value_leaves_its_secret(objects: &[Resource], engine: Engine) {
    let outside: Vec<Resource> = objects
        .iter()
        .filter(|o| !matches!(o, Resource::Secret(_)))
        .cloned()
        .collect();
    let yaml = objects_to_yaml(&outside).unwrap();
    let json = serde_json::to_string(&outside).unwrap();
    let debug = format!("{objects:?}");
    let values = fixtures::confidential_values(engine);
    assert!(!values.is_empty());
    for value in values {
        assert!(!yaml.contains(&value), "a secret value is in the YAML");
        assert!(!json.contains(&value), "a secret value is in the JSON");
        assert!(!debug.contains(&value), "a secret value is in Debug output");
    }
}

fn check_labels_and_namespace(objects: &[Resource], namespace: &str) {
    for object in objects {
        let labels = object.metadata().labels.clone().unwrap_or_default();
        let reference = object.reference();
        assert_eq!(
            labels.get(MANAGED_BY).map(String::as_str),
            Some("storeplane"),
            "{reference}"
        );
        assert_eq!(
            labels.get(PART_OF).map(String::as_str),
            Some("storeplane"),
            "{reference}"
        );
        assert_eq!(
            labels.get(STORE_ID).map(String::as_str),
            Some(fixtures::STORE_ID),
            "{reference}"
        );
        assert!(labels.contains_key(COMPONENT), "{reference}");
        match object {
            Resource::Namespace(_) => assert_eq!(object.name(), namespace),
            _ => assert_eq!(object.namespace(), Some(namespace), "{reference}"),
        }
    }
}

fn check_services_are_internal(objects: &[Resource]) {
    for object in objects {
        if let Resource::Service(service) = object {
            let kind = service.spec.as_ref().unwrap().type_.as_deref();
            assert!(
                matches!(kind, None | Some("ClusterIP")),
                "{}",
                object.reference()
            );
        }
    }
}

fn check_probes_and_security(objects: &[Resource]) {
    for (owner, pod, is_job) in pods(objects) {
        let pod_seccomp = pod
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref());
        assert_eq!(
            pod_seccomp.map(|s| s.type_.as_str()),
            Some("RuntimeDefault"),
            "{owner}"
        );
        assert_eq!(pod.automount_service_account_token, Some(false), "{owner}");
        for c in all_containers(pod) {
            let context = c.security_context.as_ref().unwrap();
            assert_eq!(
                context.allow_privilege_escalation,
                Some(false),
                "{owner}/{}",
                c.name
            );
            let drop = context.capabilities.as_ref().and_then(|c| c.drop.clone());
            assert_eq!(drop, Some(vec!["ALL".to_owned()]), "{owner}/{}", c.name);
            assert_eq!(
                context.read_only_root_filesystem,
                Some(true),
                "{owner}/{}",
                c.name
            );
            let seccomp = context.seccomp_profile.as_ref().map(|s| s.type_.as_str());
            assert_eq!(seccomp, Some("RuntimeDefault"), "{owner}/{}", c.name);
            assert!(context.privileged.is_none_or(|p| !p), "{owner}/{}", c.name);
        }
        if !is_job {
            for c in &pod.containers {
                assert!(c.readiness_probe.is_some(), "{owner}/{} readiness", c.name);
                assert!(c.liveness_probe.is_some(), "{owner}/{} liveness", c.name);
            }
        }
    }
}

fn check_apply_order(objects: &[Resource], settings: &PlatformSettings, workload_count: usize) {
    let (front_door, other) = match settings.front_door {
        FrontDoor::Gateway => ("HTTPRoute", "Ingress"),
        FrontDoor::Ingress => ("Ingress", "HTTPRoute"),
    };
    assert_eq!(objects.first().map(Resource::kind), Some("Namespace"));
    assert_eq!(objects.last().map(Resource::kind), Some(front_door));
    assert!(
        !objects.iter().any(|o| o.kind() == other),
        "one front door only"
    );
    let position = |kinds: &[&str]| -> Vec<usize> {
        objects
            .iter()
            .enumerate()
            .filter(|(_, o)| kinds.contains(&o.kind()))
            .map(|(i, _)| i)
            .collect()
    };
    let fences = position(&["ResourceQuota", "LimitRange", "NetworkPolicy"]);
    let secrets = position(&["Secret"]);
    let workloads = position(&["StatefulSet", "Deployment", "Job"]);
    assert!(fences.iter().max() < secrets.iter().min());
    assert!(secrets.iter().max() < workloads.iter().min());
    assert_eq!(
        workloads.len(),
        workload_count,
        "every workload is waited for"
    );
    assert_eq!(
        objects[*workloads.last().unwrap()].kind(),
        "Job",
        "setup runs after the app"
    );
}

/// The Pod Security policy the store's Namespace labels give, as admission reads them.
fn namespace_policy(objects: &[Resource]) -> Policy {
    let namespace = objects
        .iter()
        .find(|o| o.kind() == "Namespace")
        .expect("a store has its Namespace");
    let labels = serde_json::to_value(namespace.metadata().labels.clone()).unwrap();
    let (policy, errors) = Policy::from_labels(labels.as_object());
    assert!(errors.is_empty(), "{errors:?}");
    policy
}

/// The Pod Security violations of every pod template among `objects`, by owner.
fn pod_security_violations(objects: &[Resource], level: LevelVersion) -> Vec<(String, String)> {
    let evaluated = objects.iter().filter_map(|object| {
        let violations = match object {
            Resource::Deployment(d) => pod_security::evaluate_resource(level, d),
            Resource::StatefulSet(s) => pod_security::evaluate_resource(level, s),
            Resource::Job(j) => pod_security::evaluate_resource(level, j),
            _ => None,
        }?;
        Some((object.reference(), violations))
    });
    evaluated
        .filter(|(_, v)| !v.is_empty())
        .map(|(owner, v)| {
            (
                owner,
                v.iter()
                    .map(|v| v.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
        .collect()
}

fn restricted(settings: &PlatformSettings) -> LevelVersion {
    let version = settings.pod_security_version.parse().unwrap();
    LevelVersion::new(Level::Restricted, version)
}

fn check_namespace_enforces_warns_and_audits_restricted(
    objects: &[Resource],
    settings: &PlatformSettings,
) {
    let policy = namespace_policy(objects);
    let pinned = restricted(settings);
    assert_eq!(policy.enforce, pinned);
    assert_eq!(policy.warn, pinned);
    assert_eq!(policy.audit, pinned);
}

fn check_every_pod_passes_restricted(objects: &[Resource], settings: &PlatformSettings) {
    assert_eq!(
        pod_security_violations(objects, restricted(settings)),
        Vec::<(String, String)>::new()
    );
}

/// Every engine step's objects for a store of `engine` and `plan`.
fn steps(settings: &PlatformSettings, engine: Engine, plan: Plan) -> Vec<Resource> {
    let blueprint = Blueprint::new(settings.clone()).unwrap();
    let spec = fixtures::spec_of(engine, "demo", plan);
    let backup = fixtures::backup_secrets();
    let checkpoint = Checkpoint {
        job: "checkpoint-r2".to_owned(),
        claim: "checkpoints".to_owned(),
        path: "/checkpoints/r2.sql.gz".to_owned(),
    };
    [
        Step::Checkpoint { revision: 2 },
        Step::Upgrade { revision: 2 },
        Step::Restore {
            revision: 3,
            checkpoint: &checkpoint,
        },
        Step::ResetAdminPassword { generation: 1 },
        Step::Backup(fixtures::backup_request(&backup)),
        Step::RestoreBackup(fixtures::restore_request(&backup)),
    ]
    .into_iter()
    .flat_map(|step| {
        blueprint
            .step(fixtures::store_id(), &spec, step)
            .unwrap()
            .ordered()
    })
    .chain([blueprint
        .maintenance_page(fixtures::store_id(), &spec)
        .unwrap()
        .0])
    .collect()
}

fn check_all(resources: &StoreResources, settings: &PlatformSettings) {
    let objects = resources.ordered();
    let engine = engine_of(&objects);
    check_default_deny_covers_every_pod(&objects);
    check_no_policy_admits_another_store(&objects, settings);
    check_containers_within_limit_range(resources);
    check_everything_fits_the_quota(resources);
    check_no_secret_value_leaves_its_secret(&objects, engine);
    check_labels_and_namespace(&objects, &fixtures::store_id().namespace());
    check_services_are_internal(&objects);
    check_probes_and_security(&objects);
    check_apply_order(&objects, settings, resources.readiness.len());
    check_namespace_enforces_warns_and_audits_restricted(&objects, settings);
    check_every_pod_passes_restricted(&objects, settings);
}

/// Which engine built `objects`, told by its Secrets (the fixtures' secrets differ).
fn engine_of(objects: &[Resource]) -> Engine {
    let has = |name: &str| {
        objects
            .iter()
            .any(|o| o.kind() == "Secret" && o.name() == name)
    };
    match (has("mariadb"), has("postgres")) {
        (true, false) => Engine::WooCommerce,
        (false, true) => Engine::Medusa,
        other => panic!("no single engine's Secrets: {other:?}"),
    }
}

#[test]
fn every_plan_of_every_engine_keeps_every_invariant_with_the_default_settings() {
    for engine in Engine::ALL {
        for plan in Plan::ALL {
            let settings = PlatformSettings::default();
            let resources = fixtures::build_engine(settings.clone(), *engine, "demo", *plan);
            check_all(&resources, &settings);
        }
    }
}

#[test]
fn every_plan_of_every_engine_keeps_every_invariant_with_every_option_on() {
    for engine in Engine::ALL {
        for plan in Plan::ALL {
            for settings in [fixtures::everything_on(), fixtures::everything_on_gateway()] {
                check_all(
                    &fixtures::build_engine(settings.clone(), *engine, "demo", *plan),
                    &settings,
                );
            }
        }
    }
}

/// Where traffic to a pod may come from, as the store's policies say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// Every pod of the namespace of this name.
    Namespace(String),
    /// Pods of the store's own namespace with these labels.
    Pods(Vec<(String, String)>),
}

/// Every source admitted to a pod with `labels` on TCP `port`, by any ingress rule of any
/// policy that selects the pod (policies are additive). A rule without ports admits every
/// port.
fn admitted(objects: &[Resource], labels: &[(&str, &str)], port: i32) -> Vec<Source> {
    let selects = |policy: &NetworkPolicy| {
        let selector = policy.spec.as_ref().unwrap().pod_selector.clone().unwrap();
        assert!(selector.match_expressions.is_none());
        selector
            .match_labels
            .unwrap_or_default()
            .iter()
            .all(|(k, v)| labels.contains(&(k.as_str(), v.as_str())))
    };
    let mut sources: Vec<Source> = policies(objects)
        .into_iter()
        .filter(|p| selects(p))
        .flat_map(|p| p.spec.clone().unwrap().ingress.unwrap_or_default())
        .filter(|rule| {
            rule.ports.as_ref().is_none_or(|ports| {
                ports.iter().any(|p| {
                    p.protocol.as_deref() == Some("TCP") && p.port == Some(IntOrString::Int(port))
                })
            })
        })
        .flat_map(|rule| rule.from.unwrap_or_default())
        .map(|peer| match (peer.namespace_selector, peer.pod_selector) {
            (Some(namespaces), None) => {
                let names = namespaces.match_labels.unwrap_or_default();
                assert_eq!(names.len(), 1, "one namespace, by name");
                Source::Namespace(names["kubernetes.io/metadata.name"].clone())
            }
            (None, Some(pods)) => {
                Source::Pods(pods.match_labels.unwrap_or_default().into_iter().collect())
            }
            other => panic!("an unexpected peer {other:?}"),
        })
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

const SOLVER: (&str, &str) = ("acme.cert-manager.io/http01-solver", "true");
const SOLVER_PORT: i32 = 8089;
const WEB: (&str, &str) = (COMPONENT, "web");
const WEB_PORT: i32 = 80;

fn namespaces_only(sources: Vec<Source>) -> Vec<String> {
    sources
        .into_iter()
        .filter_map(|s| match s {
            Source::Namespace(name) => Some(name),
            Source::Pods(_) => None,
        })
        .collect()
}

#[test]
fn with_an_issuer_the_solver_is_reachable_from_the_ingress_namespace_and_nowhere_else() {
    let settings = PlatformSettings {
        tls: true,
        cluster_issuer: Some("letsencrypt".to_owned()),
        ingress_namespace: "edge".to_owned(),
        ..fixtures::ingress()
    };
    let objects = fixtures::build_with(settings, "demo", Plan::Small).ordered();

    assert_eq!(
        admitted(&objects, &[SOLVER], SOLVER_PORT),
        vec![Source::Namespace("edge".to_owned())]
    );
    for port in [WEB_PORT, 8080, 443] {
        assert_eq!(admitted(&objects, &[SOLVER], port), vec![], "port {port}");
    }
    // The solver port is not opened to any of the store's own pods either.
    for component in ["web", "database", "setup"] {
        assert_eq!(
            admitted(&objects, &[(COMPONENT, component)], SOLVER_PORT),
            vec![],
            "{component}"
        );
    }
}

#[test]
fn without_an_issuer_nothing_admits_the_solver_and_the_policies_stay_as_they_were() {
    for settings in [
        fixtures::ingress(),
        PlatformSettings {
            tls: true,
            ..fixtures::ingress()
        },
        PlatformSettings::default(),
    ] {
        let objects = fixtures::build_with(settings, "demo", Plan::Small).ordered();
        assert_eq!(admitted(&objects, &[SOLVER], SOLVER_PORT), vec![]);
        let names: Vec<_> = policies(&objects)
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "default-deny",
                "allow-dns",
                "wordpress-ingress",
                "wordpress-egress",
                "mariadb-ingress",
                "setup-egress"
            ]
        );
    }
    // Adding an issuer adds the solver's policy and changes no other.
    let with_tls = PlatformSettings {
        tls: true,
        ..fixtures::ingress()
    };
    let with_issuer = PlatformSettings {
        cluster_issuer: Some("letsencrypt".to_owned()),
        ..with_tls.clone()
    };
    let before = fixtures::build_with(with_tls, "demo", Plan::Small).ordered();
    let after = fixtures::build_with(with_issuer, "demo", Plan::Small).ordered();
    let before: Vec<_> = policies(&before).into_iter().cloned().collect();
    let mut after: Vec<_> = policies(&after).into_iter().cloned().collect();
    after.retain(|p| p.metadata.name.as_deref() != Some("allow-acme-http01-solver"));
    assert_eq!(before, after);
}

#[test]
fn the_web_port_is_reachable_from_outside_only_through_the_chosen_front_door() {
    let mut gateway = PlatformSettings::default();
    gateway.gateway.data_plane_namespace = "kube-system".to_owned();
    let ingress = PlatformSettings {
        ingress_namespace: "edge".to_owned(),
        ..fixtures::ingress()
    };
    for (settings, expected) in [(gateway, "kube-system"), (ingress, "edge")] {
        let objects = fixtures::build_with(settings, "demo", Plan::Small).ordered();
        assert_eq!(
            namespaces_only(admitted(&objects, &[WEB], WEB_PORT)),
            [expected]
        );
        assert!(
            admitted(&objects, &[WEB], WEB_PORT).contains(&Source::Pods(vec![(
                COMPONENT.to_owned(),
                "setup".to_owned()
            )])),
            "the setup job reaches WordPress"
        );
        for port in [SOLVER_PORT, 443, 3306] {
            assert_eq!(admitted(&objects, &[WEB], port), vec![], "port {port}");
        }
    }
}

#[test]
fn a_medusa_store_admits_the_front_door_to_its_server_and_its_own_processes_to_its_backends() {
    let settings = PlatformSettings::default();
    let objects =
        fixtures::build_engine(settings.clone(), Engine::Medusa, "demo", Plan::Small).ordered();
    let pods = |component: &str| Source::Pods(vec![(COMPONENT.to_owned(), component.to_owned())]);
    let mut server = admitted(&objects, &[(COMPONENT, "web")], 9000);
    server.sort();
    assert_eq!(
        server,
        [
            Source::Namespace(settings.front_door_namespace().to_owned()),
            pods("setup")
        ]
    );
    for (component, port) in [("database", 5432), ("cache", 6379)] {
        let mut clients = admitted(&objects, &[(COMPONENT, component)], port);
        clients.sort();
        assert_eq!(
            clients,
            [pods("setup"), pods("web"), pods("worker")],
            "{component}"
        );
    }
    assert_eq!(admitted(&objects, &[(COMPONENT, "worker")], 9000), vec![]);
    assert_eq!(admitted(&objects, &[(COMPONENT, "database")], 6379), vec![]);
    assert_eq!(admitted(&objects, &[(COMPONENT, "web")], 5432), vec![]);
}

#[test]
fn the_gateway_front_door_routes_the_store_host_to_the_web_service_through_the_platform_gateway() {
    let settings = fixtures::everything_on_gateway();
    let objects = fixtures::build_with(settings, "acme", Plan::Small).ordered();
    let route = objects
        .iter()
        .find_map(|o| match o {
            Resource::HTTPRoute(route) => Some(route),
            _ => None,
        })
        .expect("an HTTPRoute");
    assert_eq!(route.metadata.name.as_deref(), Some("storefront"));
    let parent = &route.spec.parent_refs[0];
    assert_eq!(
        (parent.namespace.as_deref(), parent.name.as_str()),
        (Some("infra"), "public")
    );
    assert_eq!(parent.section_name.as_deref(), Some("https"));
    assert_eq!(route.spec.hostnames, ["acme.shops.example.com"]);
    let backend = &route.spec.rules[0].backend_refs[0];
    let service = objects
        .iter()
        .find_map(|o| match o {
            Resource::Service(s) if s.metadata.name.as_deref() == Some(&backend.name) => Some(s),
            _ => None,
        })
        .expect("the backend is one of the store's Services");
    let ports = service.spec.as_ref().unwrap().ports.as_ref().unwrap();
    assert!(ports.iter().any(|p| p.port == backend.port));
}

#[test]
fn the_web_pod_reaches_the_internet_only_when_the_platform_allows_it() {
    let internet = |resources: &StoreResources| {
        policies(&resources.ordered())
            .iter()
            .filter(|p| p.metadata.name.as_deref() == Some("wordpress-egress"))
            .flat_map(|p| p.spec.clone().unwrap().egress.unwrap_or_default())
            .any(|rule| rule.to.unwrap().iter().any(|peer| peer.ip_block.is_some()))
    };
    assert!(!internet(&fixtures::build(Plan::Small)));
    assert!(internet(&fixtures::build_with(
        fixtures::everything_on(),
        "demo",
        Plan::Small
    )));
}

#[test]
fn the_setup_job_downloads_nothing_when_woocommerce_is_baked_in() {
    let setup_internet = |resources: &StoreResources| {
        policies(&resources.ordered())
            .iter()
            .filter(|p| p.metadata.name.as_deref() == Some("setup-egress"))
            .flat_map(|p| p.spec.clone().unwrap().egress.unwrap_or_default())
            .any(|rule| rule.to.unwrap().iter().any(|peer| peer.ip_block.is_some()))
    };
    assert!(setup_internet(&fixtures::build(Plan::Small)));
    let mut baked = PlatformSettings::default();
    fixtures::with_wordpress_woo(&mut baked, "registry.example/wordpress-woo:1");
    assert!(!setup_internet(&fixtures::build_with(
        baked,
        "demo",
        Plan::Small
    )));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_store_on_any_settings_keeps_every_invariant(
        name in "[a-z][a-z0-9-]{1,30}[a-z0-9]",
        plan in prop::sample::select(Plan::ALL.to_vec()),
        tls in any::<bool>(),
        issuer in any::<bool>(),
        internet in any::<bool>(),
        baked in any::<bool>(),
        ingress_namespace in "[a-z][a-z0-9-]{0,20}[a-z0-9]",
        data_plane_namespace in "[a-z][a-z0-9-]{0,20}[a-z0-9]",
        gateway in any::<bool>(),
        engine in prop::sample::select(Engine::ALL.to_vec()),
    ) {
        prop_assume!(name.parse::<storeplane_blueprint::StoreName>().is_ok());
        let front_door = if gateway { FrontDoor::Gateway } else { FrontDoor::Ingress };
        // An issuer is for the Ingress only (refused with the Gateway).
        let issuer = issuer && !gateway;
        let mut settings = PlatformSettings {
            front_door,
            tls: tls || issuer,
            cluster_issuer: issuer.then(|| "letsencrypt".to_owned()),
            allow_internet_egress: internet,
            ingress_namespace,
            ..PlatformSettings::default()
        };
        settings.gateway.data_plane_namespace = data_plane_namespace;
        if baked {
            fixtures::with_wordpress_woo(&mut settings, "registry.example/wordpress-woo:1");
        }
        let resources = fixtures::build_engine(settings.clone(), engine, &name, plan);
        check_all(&resources, &settings);
        let host = format!("{name}.{}", settings.base_domain);
        let scheme = if settings.tls { "https" } else { "http" };
        let paths = Blueprint::paths(engine).unwrap();
        prop_assert_eq!(
            resources.urls.storefront,
            format!("{scheme}://{host}{}", paths.storefront)
        );
    }
}

#[test]
fn every_engine_step_of_every_plan_of_every_engine_passes_restricted_pod_security() {
    for engine in Engine::ALL {
        for plan in Plan::ALL {
            for settings in [
                PlatformSettings::default(),
                fixtures::everything_on(),
                fixtures::s3_backups(),
            ] {
                let objects = steps(&settings, *engine, *plan);
                assert_eq!(
                    objects.iter().filter(|o| o.kind() == "Job").count(),
                    6,
                    "{engine} {plan}"
                );
                check_probes_and_security(&objects);
                check_every_pod_passes_restricted(&objects, &settings);
                check_no_secret_value_leaves_its_secret(&objects, *engine);
            }
        }
    }
}

#[test]
fn a_release_whose_wordpress_runs_as_root_is_what_restricted_refuses() {
    let mut settings = PlatformSettings::default();
    fixtures::with_wordpress_user(&mut settings, 0);
    let objects = fixtures::build_with(settings.clone(), "demo", Plan::Small).ordered();

    let refused = pod_security_violations(&objects, restricted(&settings));

    let owners: Vec<&str> = refused.iter().map(|(owner, _)| owner.as_str()).collect();
    assert!(
        owners
            .iter()
            .any(|o| o.contains("Deployment") && o.contains("wordpress")),
        "{refused:?}"
    );
    assert!(owners.iter().all(|o| !o.contains("mariadb")), "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|(_, why)| why.contains("must not set runAsUser=0")),
        "{refused:?}"
    );
}

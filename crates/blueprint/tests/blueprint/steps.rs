//! The engine steps (checkpoint, upgrade, restore, password reset) keep the store's
//! invariants: no secret on a command line, every step pod fenced by the default deny and
//! let through to MariaDB on 3306 only, containers inside the plan's LimitRange, room in
//! the quota, and names keyed by revision so a step applied twice is the same step.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use storeplane_blueprint::labels::{COMPONENT, STEP, STORE_ID};
use storeplane_blueprint::quantity::{Bytes, Cpu};
use storeplane_blueprint::{
    Blueprint, BuildError, Checkpoint, Engine, Plan, PlatformSettings, Resource, Step,
    StepResources, StoreResources, objects_to_yaml,
};

use crate::fixtures;

fn checkpoint_of(revision: u32) -> Checkpoint {
    Checkpoint {
        job: format!("checkpoint-r{revision}"),
        claim: "checkpoints".to_owned(),
        path: format!("/checkpoints/r{revision}.sql.gz"),
    }
}

fn build_step(settings: PlatformSettings, plan: Plan, step: Step<'_>) -> StepResources {
    Blueprint::new(settings)
        .unwrap()
        .step(fixtures::store_id(), &fixtures::spec("demo", plan), step)
        .unwrap()
}

/// Every step of revision 4 (restoring revision 3's checkpoint; the second password reset).
fn all_steps(settings: &PlatformSettings, plan: Plan) -> Vec<StepResources> {
    let checkpoint = checkpoint_of(3);
    [
        Step::Checkpoint { revision: 4 },
        Step::Upgrade { revision: 4 },
        Step::Restore {
            revision: 4,
            checkpoint: &checkpoint,
        },
        Step::ResetAdminPassword { generation: 2 },
    ]
    .into_iter()
    .map(|step| build_step(settings.clone(), plan, step))
    .collect()
}

fn pod(step: &StepResources) -> &PodSpec {
    step.job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
}

fn pod_labels(step: &StepResources) -> Vec<(String, String)> {
    let template = &step.job.spec.as_ref().unwrap().template;
    let labels = template.metadata.as_ref().unwrap().labels.clone().unwrap();
    labels.into_iter().collect()
}

fn selects(selector: &LabelSelector, labels: &[(String, String)]) -> bool {
    assert!(selector.match_expressions.is_none());
    selector
        .match_labels
        .clone()
        .unwrap_or_default()
        .iter()
        .all(|(k, v)| labels.contains(&(k.clone(), v.clone())))
}

fn policies(objects: &[Resource]) -> Vec<NetworkPolicy> {
    objects
        .iter()
        .filter_map(|o| match o {
            Resource::NetworkPolicy(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// Where a pod with `labels` may send traffic, as (peer description, TCP port), by the
/// store's and the step's policies together.
fn egress(objects: &[Resource], labels: &[(String, String)]) -> Vec<(String, i32)> {
    let mut allowed = Vec::new();
    for policy in policies(objects) {
        let spec = policy.spec.unwrap();
        if !selects(spec.pod_selector.as_ref().unwrap(), labels) {
            continue;
        }
        for rule in spec.egress.unwrap_or_default() {
            for peer in rule.to.unwrap_or_default() {
                let who = format!(
                    "{:?}/{:?}/{}",
                    peer.namespace_selector.and_then(|s| s.match_labels),
                    peer.pod_selector.and_then(|s| s.match_labels),
                    peer.ip_block.is_some()
                );
                for port in rule.ports.clone().unwrap_or_default() {
                    let Some(IntOrString::Int(number)) = port.port else {
                        panic!("a port by name: {port:?}");
                    };
                    allowed.push((who.clone(), number));
                }
            }
        }
    }
    allowed.sort();
    allowed.dedup();
    allowed
}

/// Whether MariaDB's pods admit a pod with `labels` on 3306.
fn mariadb_admits(objects: &[Resource], labels: &[(String, String)]) -> bool {
    let database = vec![(COMPONENT.to_owned(), "database".to_owned())];
    policies(objects).into_iter().any(|policy| {
        let spec = policy.spec.unwrap();
        selects(spec.pod_selector.as_ref().unwrap(), &database)
            && spec.ingress.unwrap_or_default().iter().any(|rule| {
                rule.ports
                    .iter()
                    .flatten()
                    .any(|p| p.port == Some(IntOrString::Int(3306)))
                    && rule.from.iter().flatten().any(|peer| {
                        peer.namespace_selector.is_none()
                            && peer
                                .pod_selector
                                .as_ref()
                                .is_some_and(|s| selects(s, labels))
                    })
            })
    })
}

#[test]
fn no_step_puts_a_secret_on_a_command_line_and_passwords_come_from_secrets() {
    for step in all_steps(&PlatformSettings::default(), Plan::Small) {
        let text = objects_to_yaml(&step.ordered()).unwrap();
        for value in fixtures::confidential_values(Engine::WooCommerce) {
            assert!(!text.contains(&value));
        }
        for c in pod(&step)
            .containers
            .iter()
            .chain(pod(&step).init_containers.iter().flatten())
        {
            let argv = [c.command.clone(), c.args.clone()]
                .into_iter()
                .flatten()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            // A password is never passed as a flag, expanded or not.
            for flag in ["--password", "--user_pass=", "--admin_password="] {
                assert!(!argv.contains(flag), "{}: {flag}", c.name);
            }
            for var in c.env.iter().flatten() {
                if var.name.contains("PASSWORD") || var.name.contains("PWD") {
                    assert!(var.value.is_none(), "{} is a literal", var.name);
                    let from = var
                        .value_from
                        .as_ref()
                        .and_then(|v| v.secret_key_ref.as_ref());
                    assert!(from.is_some(), "{} comes from a Secret", var.name);
                }
            }
        }
    }
}

#[test]
fn every_step_pod_is_fenced_and_reaches_mariadb_on_3306_and_nothing_else() {
    for settings in [
        PlatformSettings::default(),
        fixtures::everything_on(),
        fixtures::everything_on_gateway(),
    ] {
        let store = fixtures::build_with(settings.clone(), "demo", Plan::Small).ordered();
        for step in all_steps(&settings, Plan::Small) {
            let mut objects = store.clone();
            objects.extend(step.ordered());
            let labels = pod_labels(&step);
            assert_eq!(
                step.job.metadata.namespace.as_deref(),
                Some(fixtures::store_id().namespace().as_str())
            );
            let to = egress(&objects, &labels);
            let kube_dns: Vec<_> = to
                .iter()
                .filter(|(who, _)| who.contains("kube-dns"))
                .collect();
            assert_eq!(kube_dns.len(), 1, "{to:?}");
            assert_eq!(kube_dns[0].1, 53, "DNS only: {to:?}");
            let rest: Vec<_> = to
                .iter()
                .filter(|(who, _)| !who.contains("kube-dns"))
                .collect();
            assert_eq!(rest.len(), 1, "{to:?}");
            assert!(rest[0].0.contains("\"database\""), "{to:?}");
            assert_eq!(rest[0].1, 3306);
            assert!(
                mariadb_admits(&objects, &labels),
                "{}",
                step.job.metadata.name.clone().unwrap()
            );
            // The store's own pods gain nothing from the step's policies.
            let web = vec![(COMPONENT.to_owned(), "web".to_owned())];
            assert_eq!(egress(&objects, &web), egress(&store, &web));
        }
    }
}

#[test]
fn every_step_container_fits_the_plans_limit_range_and_runs_as_non_root() {
    for plan in Plan::ALL {
        let store: StoreResources = fixtures::build(*plan);
        let item = &store.limit_range.spec.as_ref().unwrap().limits[0];
        let (min, max) = (item.min.clone().unwrap(), item.max.clone().unwrap());
        let cpu = |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| {
            q.0.parse::<Cpu>().unwrap()
        };
        let bytes = |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| {
            q.0.parse::<Bytes>().unwrap()
        };
        for step in all_steps(&PlatformSettings::default(), *plan) {
            let pod = pod(&step);
            let context = pod.security_context.as_ref().unwrap();
            assert_eq!(context.run_as_non_root, Some(true));
            assert!(context.run_as_user.is_some_and(|uid| uid > 0));
            assert_eq!(pod.automount_service_account_token, Some(false));
            for c in pod
                .containers
                .iter()
                .chain(pod.init_containers.iter().flatten())
            {
                let security = c.security_context.as_ref().unwrap();
                assert_eq!(security.allow_privilege_escalation, Some(false));
                assert_eq!(security.run_as_non_root, Some(true));
                let r = c.resources.as_ref().unwrap();
                let (requests, limits) = (r.requests.clone().unwrap(), r.limits.clone().unwrap());
                assert!(cpu(&requests["cpu"]) >= cpu(&min["cpu"]), "{}", c.name);
                assert!(
                    bytes(&requests["memory"]) >= bytes(&min["memory"]),
                    "{}",
                    c.name
                );
                assert!(cpu(&limits["cpu"]) <= cpu(&max["cpu"]), "{}", c.name);
                assert!(
                    bytes(&limits["memory"]) <= bytes(&max["memory"]),
                    "{}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn steps_are_keyed_by_revision_and_outlive_the_stores_prune() {
    let first = all_steps(&PlatformSettings::default(), Plan::Small);
    assert_eq!(first, all_steps(&PlatformSettings::default(), Plan::Small));
    let names: Vec<_> = first
        .iter()
        .map(|s| s.job.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "checkpoint-r4",
            "upgrade-r4",
            "restore-r4",
            "reset-admin-password-g2"
        ]
    );
    assert_eq!(
        first[0].checkpoint,
        Some(Checkpoint {
            job: "checkpoint-r4".to_owned(),
            claim: "checkpoints".to_owned(),
            path: "/checkpoints/r4.sql.gz".to_owned(),
        })
    );
    assert_eq!(first[0].readiness().name, "checkpoint-r4");
    let next = build_step(
        PlatformSettings::default(),
        Plan::Small,
        Step::Checkpoint { revision: 5 },
    );
    assert_eq!(next.job.metadata.name.as_deref(), Some("checkpoint-r5"));
    assert_eq!(
        next.claim, first[0].claim,
        "one claim holds every checkpoint"
    );
    assert_eq!(next.network_policies, first[1].network_policies);
    let selector = StoreResources::selector(fixtures::store_id());
    assert!(selector.ends_with(&format!(",!{STEP}")), "{selector}");
    for step in &first {
        for object in step.ordered() {
            let labels = object.metadata().labels.clone().unwrap();
            assert!(labels.contains_key(STEP), "{}", object.reference());
            assert_eq!(labels[STORE_ID], fixtures::STORE_ID);
        }
    }
}

#[test]
fn a_plan_without_room_for_the_checkpoints_claim_is_refused_naming_the_quota_field() {
    let mut settings = PlatformSettings::default();
    settings.plans.small.quota.persistent_volume_claims = 2;
    let err = Blueprint::new(settings)
        .unwrap()
        .step(
            fixtures::store_id(),
            &fixtures::spec("demo", Plan::Small),
            Step::Checkpoint { revision: 2 },
        )
        .unwrap_err();
    assert!(
        matches!(&err, BuildError::PlanDoesNotFit { field, .. } if field == "plans.small.quota.persistent_volume_claims"),
        "{err}"
    );
}

#[test]
fn the_checkpoint_claim_is_sized_from_the_plan() {
    let storage = |step: &StepResources| {
        step.claim
            .as_ref()
            .unwrap()
            .spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"]
            .0
            .clone()
    };
    let small = build_step(
        PlatformSettings::default(),
        Plan::Small,
        Step::Checkpoint { revision: 2 },
    );
    assert_eq!(storage(&small), "1Gi");
    let mut settings = PlatformSettings::default();
    settings.plans.large.checkpoint_storage = Some(Bytes::gibi(30));
    let large = build_step(settings, Plan::Large, Step::Checkpoint { revision: 2 });
    assert_eq!(storage(&large), "30Gi");
}

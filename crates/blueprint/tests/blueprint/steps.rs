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

fn backup_step(settings: PlatformSettings, engine: Engine) -> StepResources {
    let secrets = fixtures::backup_secrets();
    Blueprint::new(settings)
        .unwrap()
        .step(
            fixtures::store_id(),
            &fixtures::spec_of(engine, "demo", Plan::Small),
            Step::Backup(fixtures::backup_request(&secrets)),
        )
        .unwrap()
}

fn env_of(container: &k8s_openapi::api::core::v1::Container, name: &str) -> Option<String> {
    container
        .env
        .iter()
        .flatten()
        .find(|v| v.name == name)
        .and_then(|v| v.value.clone())
}

#[test]
fn a_backup_dumps_with_the_engines_own_container_then_copies_dump_and_files_with_restic() {
    for (engine, dump, files, claim) in [
        (
            Engine::WooCommerce,
            "/checkpoints/database.sql.gz",
            "/var/www/html/wp-content",
            "wordpress-content",
        ),
        (
            Engine::Medusa,
            "/checkpoints/database.dump",
            "/srv/medusa/static",
            "medusa-uploads",
        ),
    ] {
        let step = backup_step(PlatformSettings::default(), engine);
        let pod = pod(&step);
        let init = &pod.init_containers.as_ref().unwrap()[0];
        assert_eq!(
            env_of(init, "CHECKPOINT").as_deref(),
            Some(dump),
            "{engine}"
        );
        let restic = &pod.containers[0];
        assert_eq!(restic.name, "restic");
        assert_eq!(
            env_of(restic, "BACKUP_PATHS"),
            Some(format!("/checkpoints {files}"))
        );
        assert_eq!(env_of(restic, "BACKUP_KIND").as_deref(), Some("manual"));
        assert_eq!(env_of(restic, "BACKUP_REVISION").as_deref(), Some("2"));
        assert_eq!(
            env_of(restic, "RESTIC_REPOSITORY"),
            Some(format!(
                "rest:http://storeplane-backups.storeplane.svc:8000/{}/",
                fixtures::store_id()
            ))
        );
        // The files claim, read-only, where the store's pods mount it; the dump on an
        // emptyDir, never on a claim of the store.
        let volumes = pod.volumes.as_ref().unwrap();
        let files_volume = volumes.iter().find(|v| v.name == "files").unwrap();
        let source = files_volume.persistent_volume_claim.as_ref().unwrap();
        assert_eq!(
            (source.claim_name.as_str(), source.read_only),
            (claim, Some(true))
        );
        let mounted = restic.volume_mounts.as_ref().unwrap();
        assert!(
            mounted
                .iter()
                .any(|m| m.name == "files" && m.mount_path == files && m.read_only == Some(true))
        );
        let dump_volume = volumes.iter().find(|v| v.name == "checkpoints").unwrap();
        assert!(dump_volume.empty_dir.is_some(), "{engine}");
        assert!(step.claim.is_none());
        // On the node of the web pod, which holds the ReadWriteOnce claim.
        let affinity = pod
            .affinity
            .as_ref()
            .unwrap()
            .pod_affinity
            .as_ref()
            .unwrap();
        let term = &affinity
            .required_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap()[0];
        assert_eq!(term.topology_key, "kubernetes.io/hostname");
        let selected = term
            .label_selector
            .as_ref()
            .unwrap()
            .match_labels
            .clone()
            .unwrap();
        assert_eq!(selected.get(COMPONENT).map(String::as_str), Some("web"));
        assert_eq!(
            selected.get(STORE_ID).cloned(),
            Some(fixtures::store_id().to_string())
        );
    }
}

#[test]
fn a_backups_key_and_credentials_reach_the_job_through_secrets_only() {
    let step = backup_step(fixtures::s3_backups(), Engine::WooCommerce);
    let restic = &pod(&step).containers[0];
    let from_secret = |name: &str| {
        let var = restic
            .env
            .iter()
            .flatten()
            .find(|v| v.name == name)
            .unwrap();
        assert!(var.value.is_none(), "{name} is a literal");
        let key = var
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        key.name.clone()
    };
    assert_eq!(from_secret("RESTIC_PASSWORD"), "backup-key");
    assert_eq!(from_secret("AWS_ACCESS_KEY_ID"), "backup-repository");
    assert_eq!(from_secret("AWS_SECRET_ACCESS_KEY"), "backup-repository");
    let objects = step.ordered();
    let secret = |name: &str| {
        objects
            .iter()
            .find(|o| o.kind() == "Secret" && o.name() == name)
            .unwrap()
            .clone()
    };
    // The namespace's copies follow the platform's: the key (generated once in the keys
    // namespace), and the credentials through a rotation.
    assert_eq!(
        secret("backup-key").apply_mode(),
        storeplane_blueprint::ApplyMode::Apply
    );
    assert_eq!(
        secret("backup-repository").apply_mode(),
        storeplane_blueprint::ApplyMode::Apply
    );
    // Secrets come before the Job that reads them.
    let position = |kind: &str| objects.iter().position(|o| o.kind() == kind).unwrap();
    assert!(position("Secret") < position("Job"));
    // No key or credential anywhere but in the Secrets.
    let secrets = fixtures::backup_secrets();
    let s3 = secrets.s3.clone().unwrap();
    let others: Vec<_> = objects
        .iter()
        .filter(|o| o.kind() != "Secret")
        .cloned()
        .collect();
    let text = objects_to_yaml(&others).unwrap();
    for value in [secrets.key, s3.access_key_id, s3.secret_access_key] {
        assert!(!text.contains(&value));
    }
    assert_eq!(
        env_of(restic, "RESTIC_REPOSITORY"),
        Some(format!(
            "s3:http://minio.backups.svc:9000/shops/storeplane/{}",
            fixtures::store_id()
        ))
    );
}

#[test]
fn a_backup_pod_reaches_the_database_and_the_repository_and_nothing_else() {
    for (settings, repository) in [
        (
            PlatformSettings::default(),
            (
                r#"Some({"kubernetes.io/metadata.name": "storeplane"})/None/false"#,
                8000,
            ),
        ),
        (
            fixtures::s3_backups(),
            (
                r#"Some({"kubernetes.io/metadata.name": "backups"})/None/false"#,
                9000,
            ),
        ),
    ] {
        let store = fixtures::build_with(settings.clone(), "demo", Plan::Small).ordered();
        let step = backup_step(settings, Engine::WooCommerce);
        let mut objects = store.clone();
        objects.extend(step.ordered());
        let to: Vec<_> = egress(&objects, &pod_labels(&step))
            .into_iter()
            .filter(|(who, _)| !who.contains("kube-dns"))
            .collect();
        assert_eq!(to.len(), 2, "{to:?}");
        assert!(
            to.iter()
                .any(|(who, port)| who.contains("\"database\"") && *port == 3306)
        );
        assert!(
            to.iter()
                .any(|(who, port)| who == repository.0 && *port == repository.1),
            "{to:?}"
        );
        assert!(mariadb_admits(&objects, &pod_labels(&step)));
        // The store's own pods gain nothing from the backup's policies.
        let web = vec![(COMPONENT.to_owned(), "web".to_owned())];
        assert_eq!(egress(&objects, &web), egress(&store, &web));
    }
    // An object store outside the cluster: public addresses on its port, nothing private.
    let mut settings = fixtures::s3_backups();
    if let storeplane_blueprint::Repository::S3(s3) = &mut settings.backups.repository {
        s3.endpoint = "https://s3.eu-west-1.amazonaws.com".to_owned();
        s3.namespace = None;
    }
    let step = backup_step(settings, Engine::WooCommerce);
    let to = egress(&step.ordered(), &pod_labels(&step));
    assert!(to.contains(&("None/None/true".to_owned(), 443)), "{to:?}");
}

#[test]
fn an_s3_repository_without_credentials_is_refused() {
    let secrets = storeplane_blueprint::BackupSecrets {
        key: "k".repeat(32),
        s3: None,
    };
    let refused = Blueprint::new(fixtures::s3_backups()).unwrap().step(
        fixtures::store_id(),
        &fixtures::spec("demo", Plan::Small),
        Step::Backup(fixtures::backup_request(&secrets)),
    );
    assert!(
        matches!(refused, Err(BuildError::Step { step: "backup", .. })),
        "{refused:?}"
    );
}

#[test]
fn a_restore_fetches_the_snapshot_loads_it_with_the_engines_loader_and_puts_the_files_back() {
    for (engine, dump, files) in [
        (
            Engine::WooCommerce,
            "/checkpoints/fetched/checkpoints/database.sql.gz",
            "/var/www/html/wp-content",
        ),
        (
            Engine::Medusa,
            "/checkpoints/fetched/checkpoints/database.dump",
            "/srv/medusa/static",
        ),
    ] {
        let secrets = fixtures::backup_secrets();
        let step = Blueprint::new(PlatformSettings::default())
            .unwrap()
            .step(
                fixtures::store_id(),
                &fixtures::spec_of(engine, "demo", Plan::Small),
                Step::RestoreBackup(fixtures::restore_request(&secrets)),
            )
            .unwrap();
        assert_eq!(step.job.metadata.name.as_deref(), Some("restore-backup-r3"));
        let pod = pod(&step);
        let init = pod.init_containers.as_ref().unwrap();
        let names: Vec<_> = init.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["fetch", "load"], "{engine}");
        assert_eq!(
            env_of(&init[0], "SNAPSHOT").as_deref(),
            Some(fixtures::restore_request(&secrets).snapshot)
        );
        assert_eq!(
            env_of(&init[1], "CHECKPOINT").as_deref(),
            Some(dump),
            "{engine}"
        );
        let put = &pod.containers[0];
        assert_eq!(env_of(put, "FILES").as_deref(), Some(files));
        // The files claim writable here, and only here.
        let claim = pod
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "files")
            .and_then(|v| v.persistent_volume_claim.as_ref())
            .unwrap();
        assert_eq!(claim.read_only, Some(false));
        assert!(pod.affinity.is_some(), "beside the web pod's claim");
        // Where the engine's own restore reaches, and the repository: nothing else.
        let engine_restore = Blueprint::new(PlatformSettings::default())
            .unwrap()
            .step(
                fixtures::store_id(),
                &fixtures::spec_of(engine, "demo", Plan::Small),
                Step::Restore {
                    revision: 3,
                    checkpoint: &checkpoint_of(2),
                },
            )
            .unwrap();
        let mut expected = egress(&engine_restore.ordered(), &pod_labels(&engine_restore));
        expected.push((
            r#"Some({"kubernetes.io/metadata.name": "storeplane"})/None/false"#.to_owned(),
            8000,
        ));
        expected.sort();
        assert_eq!(
            egress(&step.ordered(), &pod_labels(&step)),
            expected,
            "{engine}"
        );
    }
}

#[test]
fn the_maintenance_page_takes_the_web_pods_place_on_their_port() {
    for (engine, port) in [(Engine::WooCommerce, 80), (Engine::Medusa, 9000)] {
        let spec = fixtures::spec_of(engine, "demo", Plan::Small);
        let (page, ready) = Blueprint::new(PlatformSettings::default())
            .unwrap()
            .maintenance_page(fixtures::store_id(), &spec)
            .unwrap();
        let Resource::Deployment(page) = page else {
            panic!("the page is a Deployment");
        };
        assert_eq!(ready.name, "maintenance-page");
        let template = &page.spec.as_ref().unwrap().template;
        let labels = template.metadata.as_ref().unwrap().labels.clone().unwrap();
        // The web Service selects it, and the store's prune leaves it alone.
        assert_eq!(labels.get(COMPONENT).map(String::as_str), Some("web"));
        assert!(labels.contains_key(STEP));
        let container = &template.spec.as_ref().unwrap().containers[0];
        let ports = container.ports.as_ref().unwrap();
        assert_eq!(
            (ports[0].name.as_deref(), ports[0].container_port),
            (Some("http"), port)
        );
        let conf = env_of(container, "NGINX_CONF").unwrap();
        assert!(conf.contains(&format!("listen {port};")), "{conf}");
        assert!(conf.contains("return 503;") && conf.contains("Retry-After 120"));
        assert!(
            env_of(container, "PAGE")
                .unwrap()
                .contains("demo is down for maintenance")
        );
    }
}

#[test]
fn a_stores_key_is_created_once_in_the_keys_namespace_outside_the_store() {
    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    let objects = storeplane_blueprint::backup_key_objects(
        blueprint.settings(),
        fixtures::store_id(),
        "fresh-key-0123456789",
    );
    let [namespace, secret] = objects.as_slice() else {
        panic!("a namespace and a Secret: {objects:?}");
    };
    assert_eq!(
        (namespace.kind(), namespace.name()),
        ("Namespace", "storeplane")
    );
    assert_eq!(secret.kind(), "Secret");
    assert_eq!(secret.namespace(), Some("storeplane"));
    assert_ne!(
        secret.namespace(),
        Some(fixtures::store_id().namespace().as_str()),
        "a key outlives its store's namespace"
    );
    assert_eq!(
        secret.name(),
        format!("backup-key-{}", fixtures::store_id())
    );
    assert_eq!(
        secret.apply_mode(),
        storeplane_blueprint::ApplyMode::CreateIfAbsent,
        "never replaced: every backup of the store is read with it"
    );
}

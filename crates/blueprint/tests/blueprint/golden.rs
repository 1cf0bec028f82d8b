//! The rendered manifests of each plan, compared with `tests/golden/<plan>.yaml` (the
//! default front door, an HTTPRoute on the platform Gateway), `<plan>-ingress.yaml` (an
//! Ingress) and `small-ingress-issuer.yaml` (an Ingress with TLS and a cert-manager
//! issuer, whose HTTP-01 solver is let in).
//! `small-steps.yaml` holds the engine steps of a small store (checkpoint, upgrade,
//! restore, password reset), each step's objects in apply order.
//! `medusa-<plan>.yaml`, `medusa-small-ingress.yaml` and `medusa-small-steps.yaml` are
//! the same for a Medusa store.
//! Run with `UPDATE_GOLDEN=1` to rewrite the files after an intended change, then read
//! the diff.

use std::path::PathBuf;

use storeplane_blueprint::{
    Blueprint, Checkpoint, Engine, Plan, PlatformSettings, Step, StoreResources, objects_to_yaml,
    to_yaml,
};

use crate::fixtures;

fn assert_golden(plan: Plan) {
    assert_golden_file(&fixtures::build(plan), &format!("{plan}.yaml"));
}

fn assert_golden_ingress(plan: Plan) {
    let resources = fixtures::build_with(fixtures::ingress(), "demo", plan);
    assert_golden_file(&resources, &format!("{plan}-ingress.yaml"));
}

fn assert_golden_file(resources: &StoreResources, file: &str) {
    assert_golden_text(&to_yaml(resources).unwrap(), file);
}

fn assert_golden_text(rendered: &str, file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        rendered == expected,
        "{} differs from the rendered manifests; run with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

#[test]
fn a_small_store_renders_as_its_golden_file() {
    assert_golden(Plan::Small);
}

#[test]
fn a_medium_store_renders_as_its_golden_file() {
    assert_golden(Plan::Medium);
}

#[test]
fn a_large_store_renders_as_its_golden_file() {
    assert_golden(Plan::Large);
}

#[test]
fn a_small_store_behind_an_ingress_renders_as_its_golden_file() {
    assert_golden_ingress(Plan::Small);
}

#[test]
fn a_medium_store_behind_an_ingress_renders_as_its_golden_file() {
    assert_golden_ingress(Plan::Medium);
}

#[test]
fn a_large_store_behind_an_ingress_renders_as_its_golden_file() {
    assert_golden_ingress(Plan::Large);
}

#[test]
fn a_store_with_a_cert_manager_issuer_renders_as_its_golden_file() {
    let settings = PlatformSettings {
        tls: true,
        cluster_issuer: Some("letsencrypt".to_owned()),
        ..fixtures::ingress()
    };
    let resources = fixtures::build_with(settings, "demo", Plan::Small);
    assert_golden_file(&resources, "small-ingress-issuer.yaml");
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    let first = to_yaml(&fixtures::build(Plan::Small)).unwrap();
    let second = to_yaml(&fixtures::build(Plan::Small)).unwrap();
    assert_eq!(first, second);
}

#[test]
fn the_rendered_stream_has_one_document_per_object() {
    let resources = fixtures::build(Plan::Small);
    let yaml = to_yaml(&resources).unwrap();
    assert_eq!(
        yaml.lines().filter(|l| *l == "---").count(),
        resources.ordered().len()
    );
}

#[test]
fn the_engine_steps_of_a_small_store_render_as_their_golden_file() {
    assert_steps_golden(
        Engine::WooCommerce,
        "/checkpoints/r2.sql.gz",
        "small-steps.yaml",
    );
}

#[test]
fn the_engine_steps_of_a_small_medusa_store_render_as_their_golden_file() {
    assert_steps_golden(
        Engine::Medusa,
        "/checkpoints/r2.dump",
        "medusa-small-steps.yaml",
    );
}

#[test]
fn a_medusa_store_of_each_plan_renders_as_its_golden_file() {
    for plan in Plan::ALL {
        let resources =
            fixtures::build_engine(PlatformSettings::default(), Engine::Medusa, "demo", *plan);
        assert_golden_file(&resources, &format!("medusa-{plan}.yaml"));
    }
}

#[test]
fn a_small_medusa_store_behind_an_ingress_renders_as_its_golden_file() {
    let resources =
        fixtures::build_engine(fixtures::ingress(), Engine::Medusa, "demo", Plan::Small);
    assert_golden_file(&resources, "medusa-small-ingress.yaml");
}

fn assert_steps_golden(engine: Engine, checkpoint_path: &str, file: &str) {
    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    let spec = fixtures::spec_of(engine, "demo", Plan::Small);
    let checkpoint = Checkpoint {
        job: "checkpoint-r2".to_owned(),
        claim: "checkpoints".to_owned(),
        path: checkpoint_path.to_owned(),
    };
    let backup = fixtures::backup_secrets();
    let steps = [
        Step::Checkpoint { revision: 2 },
        Step::Upgrade { revision: 2 },
        Step::Restore {
            revision: 3,
            checkpoint: &checkpoint,
        },
        Step::ResetAdminPassword { generation: 1 },
        Step::Backup(fixtures::backup_request(&backup)),
        Step::RestoreBackup(fixtures::restore_request(&backup)),
    ];
    let mut rendered = String::new();
    for step in steps {
        let objects = blueprint
            .step(fixtures::store_id(), &spec, step)
            .unwrap()
            .ordered();
        rendered.push_str(&objects_to_yaml(&objects).unwrap());
    }
    let (page, _) = blueprint
        .maintenance_page(fixtures::store_id(), &spec)
        .unwrap();
    rendered.push_str(&objects_to_yaml(&[page]).unwrap());
    assert_golden_text(&rendered, file);
}

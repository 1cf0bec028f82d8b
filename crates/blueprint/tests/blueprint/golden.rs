//! The rendered manifests of each plan, compared with `tests/golden/<plan>.yaml`.
//! Run with `UPDATE_GOLDEN=1` to rewrite the files after an intended change, then read
//! the diff.

use std::path::PathBuf;

use storeplane_blueprint::{Plan, to_yaml};

use crate::fixtures;

fn assert_golden(plan: Plan) {
    let rendered = to_yaml(&fixtures::build(plan)).unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{plan}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &rendered).unwrap();
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

//! kube-sim's Pod Security evaluator against upstream's own conformance fixtures
//! (`testdata/pod-security/`, copied from kubernetes/pod-security-admission): every `pass`
//! Pod is admitted at its level and version, every `fail` Pod refused, with no file
//! skipped.

use std::path::{Path, PathBuf};

use kube_sim::pod_security::{self, Level, LevelVersion, Version};
use serde_json::Value;

/// The levels and versions the copied fixtures cover.
const LEVELS: &[(&str, Level)] = &[
    ("baseline", Level::Baseline),
    ("restricted", Level::Restricted),
];
const VERSIONS: &[&str] = &["v1.33", "v1.34", "v1.35"];

/// One fixture: a Pod, the policy it was written for, and whether that policy admits it.
struct Fixture {
    path: PathBuf,
    policy: LevelVersion,
    admitted: bool,
    pod: Value,
}

fn fixtures() -> Vec<Fixture> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pod-security");
    let mut out = Vec::new();
    for (level_dir, level) in LEVELS {
        for version in VERSIONS {
            let policy = LevelVersion::new(*level, version.parse::<Version>().expect("version"));
            for (outcome, admitted) in [("pass", true), ("fail", false)] {
                let dir = root.join(level_dir).join(version).join(outcome);
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                    .map(|entry| entry.expect("directory entry").path())
                    .collect();
                files.sort();
                for path in files {
                    let text = std::fs::read_to_string(&path).expect("fixture reads");
                    let pod: Value = serde_saphyr::from_str(&text)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    out.push(Fixture {
                        path,
                        policy,
                        admitted,
                        pod,
                    });
                }
            }
        }
    }
    out
}

#[test]
fn the_evaluator_agrees_with_every_upstream_pod_security_fixture() {
    let fixtures = fixtures();
    let mut disagreements = Vec::new();
    for fixture in &fixtures {
        let violations =
            pod_security::evaluate_object(fixture.policy, &fixture.pod).expect("a Pod");
        if violations.is_empty() != fixture.admitted {
            disagreements.push(format!(
                "{} at {}: expected {}, got [{violations}]",
                fixture.path.display(),
                fixture.policy,
                if fixture.admitted {
                    "admitted"
                } else {
                    "refused"
                },
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        disagreements.len(),
        fixtures.len(),
        disagreements.join("\n")
    );
    let passing = fixtures.iter().filter(|f| f.admitted).count();
    println!(
        "{} upstream fixtures agree ({passing} admitted, {} refused)",
        fixtures.len(),
        fixtures.len() - passing
    );
    // Every file of the copy is a fixture: nothing was skipped.
    assert_eq!(fixtures.len(), 420);
}

#[test]
fn a_restricted_pass_fixture_also_passes_baseline_and_a_baseline_failure_fails_restricted() {
    for fixture in fixtures() {
        let other = match (fixture.policy.level, fixture.admitted) {
            (Level::Restricted, true) => Level::Baseline,
            (Level::Baseline, false) => Level::Restricted,
            _ => continue,
        };
        let policy = LevelVersion::new(other, fixture.policy.version);
        let violations = pod_security::evaluate_object(policy, &fixture.pod).expect("a Pod");
        assert_eq!(
            violations.is_empty(),
            fixture.admitted,
            "{} at {policy}: [{violations}]",
            fixture.path.display()
        );
    }
}

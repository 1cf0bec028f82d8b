//! Fault injection: error rates per verb, added latency, dropped connections, namespaces
//! and images whose pods never become ready, and jobs that fail.
//!
//! The same [`Faults`] value is set from flags at start and replaced at runtime through
//! `PUT /kube-sim/faults` or [`FaultControl::set`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::{Method, Uri};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::random;

/// An API verb, as Kubernetes audit logs and RBAC name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// GET of a collection with `watch=true`.
    Watch,
    /// POST.
    Create,
    /// PUT.
    Update,
    /// PATCH (including server-side apply).
    Patch,
    /// DELETE of one object.
    Delete,
    /// DELETE of a collection.
    Deletecollection,
}

impl FromStr for Verb {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
            .map_err(|_| FaultSpecError(format!("unknown verb {s:?}")))
    }
}

/// Answer a share of requests for some verbs with an error status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRule {
    /// Verbs the rule applies to; empty means every verb.
    #[serde(default)]
    pub verbs: Vec<Verb>,
    /// Share of matching requests that fail, 0.0 to 1.0.
    pub rate: f64,
    /// Status code: 500, 503 and 429 (both with `Retry-After`), or 409.
    pub code: u16,
}

/// A malformed `--fault-error` flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse fault rule: {0}")]
pub struct FaultSpecError(String);

impl FromStr for ErrorRule {
    type Err = FaultSpecError;

    /// `VERB[,VERB...]=RATE:CODE`, with `*` for every verb: `create=0.5:503`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || FaultSpecError(format!("{s:?} is not VERBS=RATE:CODE"));
        let (verbs, rest) = s.split_once('=').ok_or_else(bad)?;
        let (rate, code) = rest.split_once(':').ok_or_else(bad)?;
        let verbs = if verbs.trim() == "*" {
            Vec::new()
        } else {
            verbs
                .split(',')
                .map(|v| v.trim().parse())
                .collect::<Result<_, _>>()?
        };
        let rule = Self {
            verbs,
            rate: rate.trim().parse().map_err(|_| bad())?,
            code: code.trim().parse().map_err(|_| bad())?,
        };
        if !matches!(rule.code, 409 | 429 | 500 | 503) {
            return Err(FaultSpecError(format!(
                "code {} is not one of 409, 429, 500, 503",
                rule.code
            )));
        }
        Ok(rule)
    }
}

impl fmt::Display for ErrorRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}={}:{}", self.verbs, self.rate, self.code)
    }
}

/// Every fault the simulator can inject. The default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Error responses by verb.
    pub errors: Vec<ErrorRule>,
    /// Latency added to every API request, in milliseconds.
    pub latency_ms: u64,
    /// Share of API requests whose connection is closed without a response.
    pub reset_rate: f64,
    /// Verbs the reset applies to; empty means every verb.
    pub reset_verbs: Vec<Verb>,
    /// Namespaces whose pods stay in `ImagePullBackOff` and never become ready (`*` for
    /// every namespace).
    pub never_ready_namespaces: BTreeSet<String>,
    /// Container images that can never be pulled (`wordpress:9.9-bad`): a pod with a
    /// container of one of these images stays in `ImagePullBackOff`, in any namespace,
    /// the way a release naming a missing tag fails on a real cluster.
    pub never_ready_images: BTreeSet<String>,
    /// Jobs that fail instead of completing, as `namespace/name`; either part may be `*`
    /// (`namespace/*` for all jobs in a namespace, `*/name` for that job everywhere).
    pub failing_jobs: BTreeSet<String>,
}

impl Faults {
    /// Whether pods in `namespace` are held not-ready.
    pub fn pods_never_ready(&self, namespace: &str) -> bool {
        self.never_ready_namespaces.contains(namespace) || self.never_ready_namespaces.contains("*")
    }

    /// Whether a container of `image` cannot be pulled.
    pub fn image_never_pulls(&self, image: &str) -> bool {
        self.never_ready_images.contains(image)
    }

    /// Whether the job `namespace/name` should fail.
    pub fn job_fails(&self, namespace: &str, name: &str) -> bool {
        [
            format!("{namespace}/{name}"),
            format!("{namespace}/*"),
            format!("*/{name}"),
            "*/*".to_owned(),
        ]
        .iter()
        .any(|rule| self.failing_jobs.contains(rule))
    }
}

/// What to do to one request.
#[derive(Debug, Default)]
pub struct Decision {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Drop the connection without answering.
    pub reset: bool,
    /// Answer with this error instead of serving the request.
    pub error: Option<ApiError>,
}

/// Shared, runtime-adjustable fault settings.
#[derive(Debug, Clone, Default)]
pub struct FaultControl(Arc<RwLock<Faults>>, Arc<std::sync::atomic::AtomicU64>);

impl FaultControl {
    /// Control starting from `faults`.
    pub fn new(faults: Faults) -> Self {
        Self(Arc::new(RwLock::new(faults)), Arc::default())
    }

    /// API requests received so far (faulted ones included), for measuring how many
    /// requests a client's work costs: `GET /kube-sim/stats`.
    pub fn requests(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current settings.
    pub fn get(&self) -> Faults {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the settings.
    pub fn set(&self, faults: Faults) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Changes the settings in place.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.0.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// Decides the fate of one request for `verb`.
    pub fn decide(&self, verb: Verb) -> Decision {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let faults = self.0.read().unwrap_or_else(|e| e.into_inner());
        let applies = |verbs: &[Verb]| verbs.is_empty() || verbs.contains(&verb);
        let delay = (faults.latency_ms > 0).then(|| Duration::from_millis(faults.latency_ms));
        let reset = applies(&faults.reset_verbs) && random::chance(faults.reset_rate);
        let error = faults
            .errors
            .iter()
            .find(|rule| applies(&rule.verbs) && random::chance(rule.rate))
            .map(|rule| ApiError::Injected {
                code: rule.code,
                message: format!("kube-sim injected a {} fault for this {verb:?}", rule.code),
            });
        Decision {
            delay,
            reset,
            error,
        }
    }
}

/// The verb of an API request, or `None` for discovery and admin paths (never faulted).
pub fn classify(method: &Method, uri: &Uri) -> Option<Verb> {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let resource_segments = match segments.first() {
        Some(&"api") => segments.len().checked_sub(2)?,
        Some(&"apis") => segments.len().checked_sub(3)?,
        _ => return None,
    };
    if resource_segments == 0 {
        return None;
    }
    // Collections have an odd number of segments after the group/version prefix
    // (`pods`, `namespaces/x/pods`); objects an even one; a subresource an odd one
    // again, but with a name before it.
    let rest = &segments[segments.len() - resource_segments..];
    let is_collection = match rest {
        [_] => true,
        ["namespaces", _, _] => !matches!(rest[2], "status" | "finalize"),
        _ => false,
    };
    let watching = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=1" || p == "watch=true"));
    Some(match (method.as_str(), is_collection) {
        ("GET", true) if watching => Verb::Watch,
        ("GET", true) => Verb::List,
        ("GET", false) => Verb::Get,
        ("POST", _) => Verb::Create,
        ("PUT", _) => Verb::Update,
        ("PATCH", _) => Verb::Patch,
        ("DELETE", true) => Verb::Deletecollection,
        ("DELETE", false) => Verb::Delete,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb(method: Method, uri: &str) -> Option<Verb> {
        classify(&method, &uri.parse().expect("valid uri"))
    }

    #[test]
    fn requests_are_classified_by_verb() {
        assert_eq!(verb(Method::GET, "/api/v1/namespaces"), Some(Verb::List));
        assert_eq!(verb(Method::GET, "/api/v1/namespaces/x"), Some(Verb::Get));
        assert_eq!(
            verb(
                Method::GET,
                "/apis/apps/v1/namespaces/x/deployments?watch=1"
            ),
            Some(Verb::Watch)
        );
        assert_eq!(
            verb(Method::PATCH, "/apis/apps/v1/namespaces/x/deployments/d"),
            Some(Verb::Patch)
        );
        assert_eq!(
            verb(Method::DELETE, "/api/v1/namespaces/x"),
            Some(Verb::Delete)
        );
        assert_eq!(verb(Method::GET, "/api/v1"), None);
        assert_eq!(verb(Method::GET, "/kube-sim/faults"), None);
    }

    #[test]
    fn wildcards_select_every_namespace_or_job() {
        let faults = Faults {
            never_ready_namespaces: ["*".to_owned()].into(),
            failing_jobs: ["*/setup".to_owned()].into(),
            ..Faults::default()
        };
        assert!(faults.pods_never_ready("store-anything"));
        assert!(faults.job_fails("store-a", "setup"));
        assert!(!faults.job_fails("store-a", "backup"));
        assert!(!Faults::default().pods_never_ready("store-a"));
    }

    #[test]
    fn only_the_named_image_never_pulls() {
        let faults = Faults {
            never_ready_images: ["wordpress:9.9-bad".to_owned()].into(),
            ..Faults::default()
        };
        assert!(faults.image_never_pulls("wordpress:9.9-bad"));
        assert!(!faults.image_never_pulls("wordpress:6.8"));
    }

    #[test]
    fn never_ready_images_are_spelled_like_the_other_faults() {
        let faults: Faults =
            serde_json::from_str(r#"{"neverReadyImages": ["wordpress:9.9-bad"]}"#).expect("parses");
        assert!(faults.image_never_pulls("wordpress:9.9-bad"));
    }

    #[test]
    fn error_rules_parse_from_flags() {
        let rule: ErrorRule = "create,patch=0.5:503".parse().expect("parses");
        assert_eq!(rule.verbs, vec![Verb::Create, Verb::Patch]);
        assert_eq!(rule.code, 503);
        assert!("*=1:418".parse::<ErrorRule>().is_err());
        assert!("nonsense".parse::<ErrorRule>().is_err());
    }

    #[test]
    fn a_certain_rule_always_fires_for_its_verb_only() {
        let control = FaultControl::new(Faults {
            errors: vec!["create=1:500".parse().expect("parses")],
            ..Faults::default()
        });
        assert!(control.decide(Verb::Create).error.is_some());
        assert!(control.decide(Verb::Get).error.is_none());
    }
}

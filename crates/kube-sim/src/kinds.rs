//! The table of kinds the simulator serves.
//!
//! The store is kind-agnostic (objects are JSON values); everything that differs between
//! kinds (where they live in the URL space, whether they are namespaced, which verbs and
//! subresources discovery advertises) is a row here.

/// One served resource type, as discovery describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKind {
    /// API group; empty for the core (`/api/v1`) group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Lower-case plural used in URLs.
    pub plural: &'static str,
    /// Lower-case singular name.
    pub singular: &'static str,
    /// The object's `kind`.
    pub kind: &'static str,
    /// Whether objects live inside a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts (`ns`, `deploy`, ...).
    pub short_names: &'static [&'static str],
    /// Discovery categories; `all` makes `kubectl get all` include the kind.
    pub categories: &'static [&'static str],
    /// Whether the kind has a `status` subresource (and so the main endpoint ignores
    /// status changes, as the real API server does).
    pub has_status: bool,
    /// Whether `metadata.generation` is maintained (bumped on spec changes).
    pub has_generation: bool,
}

impl ResourceKind {
    /// The `apiVersion` string objects of this kind carry.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs advertised by discovery for every served kind.
pub fn verbs() -> &'static [&'static str] {
    VERBS
}

const fn kind(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceKind {
    ResourceKind {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names: &[],
        categories: &[],
        has_status: false,
        has_generation: false,
    }
}

const fn with_status(mut k: ResourceKind) -> ResourceKind {
    k.has_status = true;
    k
}

const fn with_generation(mut k: ResourceKind) -> ResourceKind {
    k.has_generation = true;
    k
}

const fn short(mut k: ResourceKind, names: &'static [&'static str]) -> ResourceKind {
    k.short_names = names;
    k
}

const fn in_all(mut k: ResourceKind) -> ResourceKind {
    k.categories = &["all"];
    k
}

/// The Gateway API's kinds are in the `gateway-api` category, as their CRDs declare.
const fn gateway_api(k: ResourceKind) -> ResourceKind {
    let mut k = with_generation(with_status(k));
    k.categories = &["gateway-api"];
    k
}

/// Every kind the simulator serves.
pub static KINDS: &[ResourceKind] = &[
    short(
        with_status(kind(
            "",
            "v1",
            "namespaces",
            "namespace",
            "Namespace",
            false,
        )),
        &["ns"],
    ),
    kind("", "v1", "secrets", "secret", "Secret", true),
    short(
        kind("", "v1", "configmaps", "configmap", "ConfigMap", true),
        &["cm"],
    ),
    in_all(short(
        with_status(kind("", "v1", "services", "service", "Service", true)),
        &["svc"],
    )),
    short(
        kind(
            "",
            "v1",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
        ),
        &["sa"],
    ),
    short(
        with_status(kind(
            "",
            "v1",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            "PersistentVolumeClaim",
            true,
        )),
        &["pvc"],
    ),
    in_all(short(
        with_status(kind("", "v1", "pods", "pod", "Pod", true)),
        &["po"],
    )),
    short(kind("", "v1", "events", "event", "Event", true), &["ev"]),
    short(
        with_status(kind(
            "",
            "v1",
            "resourcequotas",
            "resourcequota",
            "ResourceQuota",
            true,
        )),
        &["quota"],
    ),
    short(
        kind("", "v1", "limitranges", "limitrange", "LimitRange", true),
        &["limits"],
    ),
    in_all(short(
        with_generation(with_status(kind(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            true,
        ))),
        &["deploy"],
    )),
    in_all(short(
        with_generation(with_status(kind(
            "apps",
            "v1",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            true,
        ))),
        &["sts"],
    )),
    in_all(short(
        with_generation(with_status(kind(
            "apps",
            "v1",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
        ))),
        &["rs"],
    )),
    in_all(with_generation(with_status(kind(
        "batch", "v1", "jobs", "job", "Job", true,
    )))),
    short(
        with_generation(with_status(kind(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "ingress",
            "Ingress",
            true,
        ))),
        &["ing"],
    ),
    short(
        with_generation(kind(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "networkpolicy",
            "NetworkPolicy",
            true,
        )),
        &["netpol"],
    ),
    kind(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
    ),
    short(
        with_generation(with_status(kind(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "poddisruptionbudget",
            "PodDisruptionBudget",
            true,
        ))),
        &["pdb"],
    ),
    // The Gateway API (standard channel, v1): CustomResourceDefinitions on a real cluster,
    // served here as if installed, since storeplane's default front door is an HTTPRoute.
    short(
        gateway_api(kind(
            "gateway.networking.k8s.io",
            "v1",
            "gatewayclasses",
            "gatewayclass",
            "GatewayClass",
            false,
        )),
        &["gc"],
    ),
    short(
        gateway_api(kind(
            "gateway.networking.k8s.io",
            "v1",
            "gateways",
            "gateway",
            "Gateway",
            true,
        )),
        &["gtw"],
    ),
    gateway_api(kind(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "httproute",
        "HTTPRoute",
        true,
    )),
    // A CustomResourceDefinition on a real cluster (the Prometheus operator's); served as
    // if installed, so charts that render one can be applied.
    kind(
        "monitoring.coreos.com",
        "v1",
        "servicemonitors",
        "servicemonitor",
        "ServiceMonitor",
        true,
    ),
];

/// Index of a kind in [`KINDS`]; cheap to copy and compare.
pub type KindId = usize;

/// Finds a kind by its URL coordinates.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<KindId> {
    KINDS
        .iter()
        .position(|k| k.group == group && k.version == version && k.plural == plural)
}

/// The kind with the given id.
pub fn get(id: KindId) -> &'static ResourceKind {
    &KINDS[id]
}

/// The served API groups (excluding core), in discovery order, without duplicates.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for k in KINDS.iter().filter(|k| !k.group.is_empty()) {
        if !out.iter().any(|(g, _)| *g == k.group) {
            out.push((k.group, k.version));
        }
    }
    out
}

/// The id of the Namespace kind, which the store treats specially.
pub fn namespace() -> KindId {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_the_first_row() {
        assert_eq!(get(namespace()).kind, "Namespace");
    }

    #[test]
    fn kinds_are_found_by_path() {
        let id = by_path("apps", "v1", "deployments").expect("served");
        assert_eq!(get(id).kind, "Deployment");
        assert_eq!(get(id).api_version(), "apps/v1");
        assert_eq!(by_path("", "v1", "widgets"), None);
    }

    #[test]
    fn cluster_scoped_rbac_kinds_are_served_outside_namespaces() {
        for plural in ["clusterroles", "clusterrolebindings"] {
            let id = by_path("rbac.authorization.k8s.io", "v1", plural).expect("served");
            assert!(!get(id).namespaced, "{plural}");
        }
        let pdb = by_path("policy", "v1", "poddisruptionbudgets").expect("served");
        assert!(get(pdb).namespaced);
    }

    #[test]
    fn the_gateway_api_is_served_with_gateway_classes_cluster_scoped() {
        for (plural, namespaced) in [
            ("gatewayclasses", false),
            ("gateways", true),
            ("httproutes", true),
        ] {
            let id = by_path("gateway.networking.k8s.io", "v1", plural).expect("served");
            assert_eq!(get(id).namespaced, namespaced, "{plural}");
            assert_eq!(get(id).api_version(), "gateway.networking.k8s.io/v1");
            assert!(get(id).has_status, "{plural}");
        }
    }

    #[test]
    fn groups_are_listed_once() {
        let groups = groups();
        assert_eq!(
            groups.iter().filter(|(g, _)| *g == "apps").count(),
            1,
            "{groups:?}"
        );
    }
}

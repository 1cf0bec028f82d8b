//! The kinds a blueprint produces, as `ApiResource`s for the dynamic client, and
//! [`ObjectRef`], how an applied object is identified.
//!
//! The table is static rather than discovered: discovery costs API requests on every
//! start, and the blueprint's kinds are fixed at compile time by [`Resource`]'s variants.

use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, Secret, Service,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::core::ApiResource;
use storeplane_blueprint::{HTTPRoute, Resource};

/// The `ApiResource` (group, version, plural) of `resource`'s kind.
pub(crate) fn api_resource(resource: &Resource) -> ApiResource {
    match resource {
        Resource::Namespace(_) => ApiResource::erase::<Namespace>(&()),
        Resource::ResourceQuota(_) => ApiResource::erase::<ResourceQuota>(&()),
        Resource::LimitRange(_) => ApiResource::erase::<LimitRange>(&()),
        Resource::NetworkPolicy(_) => ApiResource::erase::<NetworkPolicy>(&()),
        Resource::Secret(_) => ApiResource::erase::<Secret>(&()),
        Resource::Service(_) => ApiResource::erase::<Service>(&()),
        Resource::PersistentVolumeClaim(_) => ApiResource::erase::<PersistentVolumeClaim>(&()),
        Resource::StatefulSet(_) => ApiResource::erase::<StatefulSet>(&()),
        Resource::Deployment(_) => ApiResource::erase::<Deployment>(&()),
        Resource::Job(_) => ApiResource::erase::<Job>(&()),
        Resource::Ingress(_) => ApiResource::erase::<Ingress>(&()),
        Resource::HTTPRoute(_) => ApiResource::erase::<HTTPRoute>(&()),
    }
}

/// Every namespaced kind a blueprint can produce, in apply order; pruning deletes in the
/// reverse order, so a front door goes before the workload behind it. HTTPRoute is a
/// custom resource (the Gateway API's CRDs), which a cluster may not serve.
pub(crate) fn namespaced_kinds() -> [ApiResource; 11] {
    [
        ApiResource::erase::<ResourceQuota>(&()),
        ApiResource::erase::<LimitRange>(&()),
        ApiResource::erase::<NetworkPolicy>(&()),
        ApiResource::erase::<Secret>(&()),
        ApiResource::erase::<Service>(&()),
        ApiResource::erase::<PersistentVolumeClaim>(&()),
        ApiResource::erase::<StatefulSet>(&()),
        ApiResource::erase::<Deployment>(&()),
        ApiResource::erase::<Job>(&()),
        ApiResource::erase::<Ingress>(&()),
        ApiResource::erase::<HTTPRoute>(&()),
    ]
}

/// Identifies one object: kind, namespace (none for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: impl Into<String>, namespace: Option<&str>, name: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        }
    }
}

impl From<&Resource> for ObjectRef {
    fn from(resource: &Resource) -> Self {
        Self::new(resource.kind(), resource.namespace(), resource.name())
    }
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped objects, as error messages
/// name objects.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_named_kind_then_namespace_and_name() {
        let object = ObjectRef::new("Deployment", Some("store-x"), "wordpress");
        assert_eq!(object.to_string(), "Deployment store-x/wordpress");
        assert_eq!(
            ObjectRef::new("Namespace", None, "store-x").to_string(),
            "Namespace store-x"
        );
    }

    #[test]
    fn every_namespaced_kind_has_a_lowercase_plural() {
        for kind in namespaced_kinds() {
            assert!(kind.plural.ends_with('s'), "{}", kind.plural);
            assert_eq!(kind.plural, kind.plural.to_lowercase());
        }
    }
}

//! [`Resource`]: any object a blueprint produces, so an apply engine can handle the whole
//! ordered set generically (kind, API version, namespace, name, and how to apply it).

use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, Secret, Service,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource as _};
use serde::Serialize;

use crate::HTTPRoute;

/// An annotation that, set to `"false"` on a Secret, has it applied like any object: for
/// a copy of values kept elsewhere (the platform's object-store credentials), which must
/// follow when they are rotated. Every other Secret holds values generated once and is
/// only ever created.
pub const CREATE_ONCE: &str = "storeplane.io/create-once";

/// How the apply engine should write an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    /// Server-side apply with storeplane's field manager and `force`, every reconcile.
    Apply,
    /// Create when absent, never overwrite: the object holds generated values that must
    /// not be regenerated (a re-built Secret would carry new passwords the database has
    /// never seen).
    CreateIfAbsent,
}

macro_rules! resources {
    ($($variant:ident),+ $(,)?) => {
        /// One Kubernetes object of a store. Serializes as the object itself, with its
        /// `apiVersion` and `kind`.
        #[derive(Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)] // built once per reconcile; boxing buys nothing
        pub enum Resource {
            $($variant($variant)),+
        }

        impl Resource {
            /// The object's `kind`.
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => $variant::KIND),+ }
            }

            /// The object's `apiVersion`.
            pub fn api_version(&self) -> &'static str {
                match self { $(Self::$variant(_) => $variant::API_VERSION),+ }
            }

            /// The object's metadata.
            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(Self::$variant(object) => object.metadata()),+ }
            }

            /// Reads one object back from its JSON form, by its `kind`; `None` for a kind
            /// no blueprint produces.
            fn from_value(kind: &str, value: serde_json::Value) -> Option<Result<Self, serde_json::Error>> {
                match kind {
                    $(k if k == $variant::KIND => Some(serde_json::from_value::<$variant>(value).map(Self::$variant)),)+
                    _ => None,
                }
            }
        }

        $(
            impl From<$variant> for Resource {
                fn from(object: $variant) -> Self {
                    Self::$variant(object)
                }
            }
        )+
    };
}

resources!(
    Namespace,
    ResourceQuota,
    LimitRange,
    NetworkPolicy,
    Secret,
    Service,
    PersistentVolumeClaim,
    StatefulSet,
    Deployment,
    Job,
    Ingress,
    HTTPRoute,
);

/// Why a manifest could not be read back into objects.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the manifest is not YAML: {0}")]
    Yaml(String),
    #[error("document {index} of the manifest has no kind")]
    NoKind { index: usize },
    #[error("document {index} of the manifest is a {kind}, which no blueprint produces")]
    UnknownKind { index: usize, kind: String },
    #[error("document {index} of the manifest is not a valid {kind}: {source}")]
    Invalid {
        index: usize,
        kind: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Resource {
    /// Reads a manifest (one YAML document per object, as [`crate::objects_to_yaml`]
    /// writes them) back into objects, in the order written. A stored revision's manifest
    /// holds placeholders for every Secret's data: callers replace those objects before
    /// anything reaches a cluster.
    pub fn parse_all(text: &str) -> Result<Vec<Self>, ParseError> {
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(text).map_err(|e| ParseError::Yaml(e.to_string()))?;
        documents
            .into_iter()
            .filter(|document| !document.is_null())
            .enumerate()
            .map(|(index, document)| {
                let kind = document
                    .get("kind")
                    .and_then(serde_json::Value::as_str)
                    .ok_or(ParseError::NoKind { index })?
                    .to_owned();
                match Self::from_value(&kind, document) {
                    Some(Ok(object)) => Ok(object),
                    Some(Err(source)) => Err(ParseError::Invalid {
                        index,
                        kind,
                        source,
                    }),
                    None => Err(ParseError::UnknownKind { index, kind }),
                }
            })
            .collect()
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The object's namespace; `None` for the Namespace itself.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// How the apply engine should write this object.
    pub fn apply_mode(&self) -> ApplyMode {
        match self {
            Self::Secret(secret)
                if secret
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(CREATE_ONCE))
                    .is_some_and(|v| v == "false") =>
            {
                ApplyMode::Apply
            }
            Self::Secret(_) => ApplyMode::CreateIfAbsent,
            _ => ApplyMode::Apply,
        }
    }

    /// `Kind/namespace/name`, for events and logs.
    pub fn reference(&self) -> String {
        match self.namespace() {
            Some(namespace) => format!("{}/{namespace}/{}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }
}

/// Shows every object in full except a Secret's data, which is reduced to its keys so a
/// logged resource set never leaks a password.
impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        macro_rules! show {
            ($object:expr) => {
                f.debug_tuple(self.kind()).field($object).finish()
            };
        }
        match self {
            Self::Secret(secret) => f
                .debug_struct("Secret")
                .field("metadata", &secret.metadata)
                .field(
                    "keys",
                    &secret
                        .data
                        .iter()
                        .flat_map(|d| d.keys())
                        .collect::<Vec<_>>(),
                )
                .finish_non_exhaustive(),
            Self::Namespace(o) => show!(o),
            Self::ResourceQuota(o) => show!(o),
            Self::LimitRange(o) => show!(o),
            Self::NetworkPolicy(o) => show!(o),
            Self::Service(o) => show!(o),
            Self::PersistentVolumeClaim(o) => show!(o),
            Self::StatefulSet(o) => show!(o),
            Self::Deployment(o) => show!(o),
            Self::Job(o) => show!(o),
            Self::Ingress(o) => show!(o),
            Self::HTTPRoute(o) => show!(o),
        }
    }
}

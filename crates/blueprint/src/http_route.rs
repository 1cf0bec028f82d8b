//! The Gateway API's `HTTPRoute` (`gateway.networking.k8s.io/v1`), as far as a store's
//! front door uses it: parent Gateways, host names, and path-prefix rules to a Service.
//!
//! Defined here rather than taken from the `gateway-api` crate (kube-rs's bindings): its
//! newest release (0.22) is built on k8s-openapi 0.28 and kube 4, and this workspace is on
//! k8s-openapi 0.29 and kube 5, so it would bring a second k8s-openapi into the build and
//! its types would not fit ours. The fields below follow the published v1 CRD
//! (<https://gateway-api.sigs.k8s.io/reference/spec/#httproute>); rendered routes are
//! checked against that schema by `scripts/validate-gateway-api.sh`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// An HTTPRoute: routes requests for its host names, arriving at its parent Gateways, to
/// backends. Serializes with its `apiVersion` and `kind`, like the k8s-openapi types.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HTTPRoute {
    pub metadata: ObjectMeta,
    pub spec: HTTPRouteSpec,
}

/// `spec` of an [`HTTPRoute`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteSpec {
    /// The Gateways (and optionally their listeners) the route attaches to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// Host names matched against the request's `Host` header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<HTTPRouteRule>,
}

/// A Gateway the route attaches to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// `gateway.networking.k8s.io` for a Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `Gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The Gateway's namespace; the route's own when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// One listener of the Gateway, by name; every listener that admits the route when
    /// unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// Requests that match `matches` go to `backend_refs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HTTPRouteMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<HTTPBackendRef>,
}

/// What a request must look like to match a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HTTPPathMatch>,
}

/// A path match: `type` is `PathPrefix`, `Exact` or `RegularExpression`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPPathMatch {
    #[serde(rename = "type")]
    pub type_: String,
    pub value: String,
}

/// A Service (the default kind) in the route's namespace, by name and port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPBackendRef {
    pub name: String,
    /// The Service port (a number: Gateway API has no named ports).
    pub port: i32,
}

impl k8s_openapi::Resource for HTTPRoute {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const GROUP: &'static str = "gateway.networking.k8s.io";
    const KIND: &'static str = "HTTPRoute";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "httproutes";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::ListableResource for HTTPRoute {
    const LIST_KIND: &'static str = "HTTPRouteList";
}

impl k8s_openapi::Metadata for HTTPRoute {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The object as the API server sees it: `apiVersion` and `kind` first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    api_version: &'a str,
    kind: &'a str,
    metadata: &'a ObjectMeta,
    spec: &'a HTTPRouteSpec,
}

impl Serialize for HTTPRoute {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use k8s_openapi::Resource as _;
        Wire {
            api_version: Self::API_VERSION,
            kind: Self::KIND,
            metadata: &self.metadata,
            spec: &self.spec,
        }
        .serialize(serializer)
    }
}

/// What is read back from a cluster; `status` and unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Read {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: HTTPRouteSpec,
}

impl<'de> Deserialize<'de> for HTTPRoute {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use k8s_openapi::Resource as _;
        let read = Read::deserialize(deserializer)?;
        for (field, found, expected) in [
            ("apiVersion", &read.api_version, Self::API_VERSION),
            ("kind", &read.kind, Self::KIND),
        ] {
            if let Some(found) = found
                && found != expected
            {
                return Err(serde::de::Error::custom(format!(
                    "{field} is {found:?}, expected {expected:?}"
                )));
            }
        }
        Ok(Self {
            metadata: read.metadata,
            spec: read.spec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_serializes_with_its_api_version_and_kind_first() {
        let route = HTTPRoute {
            metadata: ObjectMeta {
                name: Some("storefront".to_owned()),
                ..ObjectMeta::default()
            },
            ..HTTPRoute::default()
        };
        let json = serde_json::to_string(&route).unwrap();
        assert!(
            json.starts_with(
                r#"{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata""#
            ),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<HTTPRoute>(&json).unwrap(), route);
    }

    #[test]
    fn another_kind_is_not_read_as_a_route() {
        let json =
            r#"{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{}}"#;
        let error = serde_json::from_str::<HTTPRoute>(json).unwrap_err();
        assert!(error.to_string().contains("kind"), "{error}");
    }
}

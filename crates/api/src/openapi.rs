//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from
//! the code.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    ClusterView, CreateStoreRequest, CredentialsView, EngineView, ErrorBody, ErrorDetail,
    EventView, Page, PlanView, SessionView, StoreView, UserView,
};
use crate::{catalog, credentials, feed, session, stores};

#[derive(OpenApi)]
#[openapi(
    info(title = "storeplane", description = "Self-service e-commerce stores on Kubernetes."),
    paths(
        stores::create, stores::list, stores::get, stores::delete, stores::retry, stores::events,
        credentials::reveal, feed::stream, session::whoami, session::cluster, catalog::engines,
        catalog::plans,
    ),
    components(schemas(ClusterView, EngineView, PlanView, StoreView, CreateStoreRequest, EventView, Page<StoreView>, Page<EventView>, CredentialsView, SessionView, UserView, ErrorBody, ErrorDetail)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
#[derive(Debug)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

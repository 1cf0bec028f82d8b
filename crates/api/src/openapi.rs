//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from
//! the code, then completed with what annotations cannot say: the rules of a store name
//! and the engines this server provisions. `scripts/test-api-contract.sh` checks the
//! served document against the running server.

use serde_json::{Value, json};
use storeplane_domain::{Engine, StoreName, StoreTitle};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    BackupList, BackupSummaryView, BackupView, ChangeResponse, ChangeStoreRequest, CheckpointView,
    ClusterView, CreateBackupRequest, CreateStoreRequest, CredentialsView, EngineView, ErrorBody,
    ErrorDetail, EventView, OperationKind, OperationView, Page, PlanView, ReleaseView,
    ResetResponse, RestoreRequest, RevisionDetail, RevisionDiff, RevisionView, RollbackRequest,
    SessionView, StoreView, UserView,
};
use crate::{backups, catalog, credentials, feed, revisions, session, stores};

#[derive(OpenApi)]
#[openapi(
    info(title = "storeplane", description = "Self-service e-commerce stores on Kubernetes."),
    paths(
        stores::create, stores::list, stores::get, stores::delete, stores::retry, stores::events,
        credentials::reveal, credentials::reset, feed::stream, session::whoami, session::cluster,
        catalog::engines, catalog::plans, revisions::releases, revisions::change, revisions::rollback,
        revisions::list, revisions::get, revisions::diff, backups::create, backups::list, backups::restore, backups::purge,
    ),
    components(schemas(ClusterView, EngineView, PlanView, StoreView, CreateStoreRequest, EventView, Page<StoreView>, Page<EventView>, CredentialsView, ResetResponse, SessionView, UserView, ErrorBody, ErrorDetail, OperationView, OperationKind, ReleaseView, ChangeStoreRequest, RollbackRequest, ChangeResponse, CheckpointView, RevisionView, RevisionDetail, RevisionDiff, Page<RevisionView>, BackupView, BackupList, BackupSummaryView, CreateBackupRequest, RestoreRequest, storeplane_domain::BackupKind, storeplane_domain::BackupStatus)),
    modifiers(&Security, &SignInErrors),
    security(("bearer" = []), ("session" = [])),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// What a title may be, as a regular expression: no control character, and no white
/// space at either end (`StoreTitle::parse`); its length is `minLength`/`maxLength`.
const TITLE_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f\s](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s])?$";

/// The document this server serves: [`ApiDoc`] with the store name's rules and, as the
/// engines a create accepts, only those it provisions (`engines`); as the releases a
/// change accepts, those of the catalog (`releases`).
pub fn document(engines: &[Engine], releases: &[ReleaseView]) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let request = &mut doc["components"]["schemas"]["CreateStoreRequest"]["properties"];
    // `not` has no utoipa attribute; the rules are the domain's own constants, so the
    // document and `StoreName::parse` cannot disagree.
    let name = &mut request["name"];
    name["minLength"] = json!(StoreName::MIN_LEN);
    name["maxLength"] = json!(StoreName::MAX_LEN);
    name["pattern"] = json!(StoreName::PATTERN);
    name["not"] = json!({"anyOf": [
        {"enum": StoreName::RESERVED_WORDS},
        {"pattern": format!("^({})", StoreName::RESERVED_PREFIXES.join("|"))},
    ]});
    request["engine"]["enum"] = json!(engines.iter().map(|e| e.as_str()).collect::<Vec<_>>());
    let change = &mut doc["components"]["schemas"]["ChangeStoreRequest"];
    // At least one of the three; `reason` alone changes nothing.
    change["minProperties"] = json!(1);
    change["anyOf"] = json!([
        {"required": ["release"]}, {"required": ["plan"]}, {"required": ["title"]},
    ]);
    let change = &mut change["properties"];
    change["release"]["enum"] = json!(releases.iter().map(|r| r.name.as_str()).collect::<Vec<_>>());
    change["title"]["minLength"] = json!(1);
    change["title"]["maxLength"] = json!(StoreTitle::MAX_LEN);
    change["title"]["pattern"] = json!(TITLE_PATTERN);
    doc["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"] =
        live_event();
    doc
}

/// One server-sent event of `GET /api/v1/events`, as OpenAPI 3.2 describes a stream's
/// items: a `timeline` event with its `seq` as `id:` and an [`EventView`] as data, or the
/// `store` event that follows one that changed a store, with its [`StoreView`].
fn live_event() -> Value {
    let json_of = |schema: &str| {
        json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": format!("#/components/schemas/{schema}")},
        })
    };
    json!({"oneOf": [
        {
            "type": "object",
            "required": ["event", "id", "data"],
            "properties": {
                "event": {"const": "timeline"},
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "data": json_of("EventView"),
            },
        },
        {
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"const": "store"},
                // A client keeps the last `id:` it saw, the seq of the timeline event before.
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "data": json_of("StoreView"),
            },
        },
    ]})
}

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

/// Every operation needs a caller: each answers `401` without a valid sign-in, and each
/// that changes something answers `403` to a cookie session without its CSRF token.
struct SignInErrors;

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .into()
}

impl Modify for SignInErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let reads = [&mut item.get].into_iter().flatten();
            let writes = [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten();
            for operation in reads {
                add_unauthenticated(operation);
            }
            for operation in writes {
                add_unauthenticated(operation);
                operation
                    .responses
                    .responses
                    .entry("403".to_owned())
                    .or_insert_with(|| {
                        error_response(
                            "A cookie session sent no `X-CSRF-Token` (from `GET /api/v1/session`)",
                        )
                    });
            }
        }
    }
}

fn add_unauthenticated(operation: &mut Operation) {
    operation
        .responses
        .responses
        .entry("401".to_owned())
        .or_insert_with(|| error_response("No valid token, session or proxy header"));
}

#[cfg(test)]
mod tests {
    use storeplane_domain::{EventKind, Plan, Role, StoreStatus};

    use super::*;

    fn enum_of(doc: &Value, schema: &str) -> Vec<String> {
        doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn texts<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
        all.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_document_spells_every_enum_as_the_api_speaks_it() {
        let doc = document(Engine::ALL, &[]);
        assert_eq!(enum_of(&doc, "Engine"), texts(Engine::ALL));
        assert_eq!(enum_of(&doc, "Plan"), texts(Plan::ALL));
        assert_eq!(enum_of(&doc, "StoreStatus"), texts(StoreStatus::ALL));
        assert_eq!(enum_of(&doc, "EventKind"), texts(EventKind::ALL));
        assert_eq!(enum_of(&doc, "Role"), texts(Role::ALL));
    }

    #[test]
    fn a_create_offers_only_the_engines_this_server_provisions() {
        let doc = document(&[Engine::WooCommerce], &[]);
        let engine = &doc["components"]["schemas"]["CreateStoreRequest"]["properties"]["engine"];
        assert_eq!(engine["enum"], json!(["woocommerce"]));
    }

    #[test]
    fn a_change_offers_the_catalog_releases_and_the_title_rules() {
        let release = ReleaseView {
            engine: Engine::WooCommerce,
            name: storeplane_domain::ReleaseName::parse("wp6.8-wc9.8").unwrap(),
            default: true,
            components: Default::default(),
        };
        let doc = document(&[Engine::WooCommerce], &[release]);
        let change = &doc["components"]["schemas"]["ChangeStoreRequest"];
        assert_eq!(
            change["properties"]["release"]["enum"],
            json!(["wp6.8-wc9.8"])
        );
        assert_eq!(change["properties"]["title"]["maxLength"], json!(100));
        assert_eq!(change["anyOf"].as_array().unwrap().len(), 3);
        let patch = &doc["paths"]["/api/v1/stores/{id}"]["patch"]["responses"];
        for status in ["200", "202", "400", "404", "409", "412", "422"] {
            assert!(patch.get(status).is_some(), "PATCH documents {status}");
        }
    }

    #[test]
    fn every_operation_documents_the_answer_to_a_caller_not_signed_in() {
        let doc = document(Engine::ALL, &[]);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(
                    operation["responses"].get("401").is_some(),
                    "{method} {path} documents 401"
                );
            }
        }
    }
}

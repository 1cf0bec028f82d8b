//! The resource endpoints: every verb on every served kind.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::request::{self, Params};
use super::{table, watch};
use crate::admission;
use crate::error::{ApiError, Cause};
use crate::kinds::{self, KindId};
use crate::patch;
use crate::route::{self, Route};
use crate::store::{
    Deleted, ListQuery, Preconditions, Propagation, Subresource, WriteContext, name_of,
    namespace_of,
};
use crate::validation::schema;

/// Routes a resource request to its verb.
pub async fn dispatch(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let route = route::parse(uri.path())?;
        let params = Params::parse(&uri)?;
        match (method, route) {
            (Method::GET, Route::Collection { kind, namespace }) if params.flag("watch") => {
                watch::serve(&state, kind, namespace, &params)
            }
            (Method::GET, Route::Collection { kind, namespace }) => {
                list(&state, kind, namespace, &params, &headers)
            }
            (Method::POST, Route::Collection { kind, namespace }) => {
                create(&state, kind, namespace, &params, &headers, &body)
            }
            (Method::DELETE, Route::Collection { kind, namespace }) => {
                delete_collection(&state, kind, namespace, &params, &headers, &body)
            }
            (
                method,
                Route::Object {
                    kind,
                    namespace,
                    name,
                    subresource,
                },
            ) => {
                let sub = match subresource.as_deref() {
                    None => Subresource::Main,
                    Some("status") if kinds::get(kind).has_status => Subresource::Status,
                    Some(_) => return Err(route::unknown_path()),
                };
                let target = Target {
                    kind,
                    namespace,
                    name,
                    sub,
                };
                match method {
                    Method::GET => get(&state, &target, &headers),
                    Method::PUT => replace(&state, &target, &params, &headers, &body),
                    Method::PATCH => patch(&state, &target, &params, &headers, &body),
                    Method::DELETE if sub == Subresource::Main => {
                        delete(&state, &target, &params, &headers, &body)
                    }
                    _ => Err(ApiError::MethodNotAllowed),
                }
            }
            _ => Err(ApiError::MethodNotAllowed),
        }
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// One object addressed by a request.
struct Target {
    kind: KindId,
    namespace: Option<String>,
    name: String,
    sub: Subresource,
}

impl Target {
    fn ns(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
}

fn ok(code: StatusCode, object: &Value) -> Result<Response, ApiError> {
    Ok((code, axum::Json(object)).into_response())
}

/// A successful write's response, with the admission warnings a real server adds to
/// writes of the object itself (not of its status).
/// `decoding` are the warnings decoding the request gave (unknown fields).
fn written(
    state: &AppState,
    kind: KindId,
    sub: Subresource,
    code: StatusCode,
    object: &Value,
    decoding: &[String],
) -> Result<Response, ApiError> {
    let mut response = ok(code, object)?;
    admission::add_warning_headers(&mut response, decoding);
    if sub == Subresource::Main {
        let created = code == StatusCode::CREATED;
        let warnings = admission::warnings(&state.store, kind, object, created);
        admission::add_warning_headers(&mut response, &warnings);
    }
    Ok(response)
}

fn get(state: &AppState, target: &Target, headers: &HeaderMap) -> Result<Response, ApiError> {
    let object = state.store.get(target.kind, target.ns(), &target.name)?;
    if request::wants_table(headers) {
        return ok(StatusCode::OK, &table::render(target.kind, &[object], None));
    }
    ok(StatusCode::OK, &object)
}

fn list(
    state: &AppState,
    kind: KindId,
    namespace: Option<String>,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let query = ListQuery {
        namespace,
        labels: params.labels()?,
        fields: params.fields()?,
        limit: params.number("limit")?.map(|l| l as usize),
        continue_token: params.get("continue").map(str::to_string),
    };
    let page = state.store.list(kind, &query)?;
    let mut metadata = json!({ "resourceVersion": page.resource_version.to_string() });
    if let Some(token) = &page.continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(remaining) = page.remaining {
        metadata["remainingItemCount"] = json!(remaining);
    }
    if request::wants_table(headers) {
        return ok(
            StatusCode::OK,
            &table::render(kind, &page.items, Some(metadata)),
        );
    }
    Ok(list_response(kind, &metadata, &page.items))
}

/// A `<Kind>List` response, written item by item from the shared objects rather than
/// copied into one big value first.
fn list_response(kind: KindId, metadata: &Value, items: &[Arc<Value>]) -> Response {
    let k = kinds::get(kind);
    let mut body = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{metadata},\"items\":[",
        k.kind,
        k.api_version()
    )
    .into_bytes();
    body.reserve(items.len() * 2048);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        // Serializing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, &**item);
    }
    body.extend_from_slice(b"]}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn create(
    state: &AppState,
    kind: KindId,
    namespace: Option<String>,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    if kinds::get(kind).namespaced && namespace.is_none() {
        return Err(ApiError::MethodNotAllowed);
    }
    let dry_run = request::dry_run(params, "CreateOptions")?;
    let field_validation = request::field_validation(params, "CreateOptions")?;
    let object = request::decode(headers, body)?;
    let decoding = schema::check_object(kind, &object, field_validation)?;
    let ctx = WriteContext::new(request::field_manager(params, headers)).dry_run(dry_run);
    let created = state
        .store
        .create(kind, namespace.as_deref(), object, &ctx)?;
    written(
        state,
        kind,
        Subresource::Main,
        StatusCode::CREATED,
        &created,
        &decoding,
    )
}

fn replace(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let dry_run = request::dry_run(params, "UpdateOptions")?;
    let field_validation = request::field_validation(params, "UpdateOptions")?;
    let object = request::decode(headers, body)?;
    let decoding = match target.sub {
        Subresource::Main => schema::check_object(target.kind, &object, field_validation)?,
        Subresource::Status => Vec::new(),
    };
    let ctx = WriteContext::new(request::field_manager(params, headers)).dry_run(dry_run);
    let replaced = state.store.replace(
        target.kind,
        target.ns(),
        &target.name,
        object,
        target.sub,
        &ctx,
    )?;
    written(
        state,
        target.kind,
        target.sub,
        StatusCode::OK,
        &replaced,
        &decoding,
    )
}

fn patch(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let content_type = request::content_type(headers);
    let manager = request::field_manager(params, headers);
    let ctx = WriteContext::new(manager.clone()).dry_run(request::dry_run(params, "PatchOptions")?);
    request::field_validation(params, "PatchOptions")?;
    if content_type == "application/apply-patch+yaml" {
        if params.get("fieldManager").is_none() {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![Cause::new(
                    "FieldValueRequired",
                    "Required value: is required for apply patch",
                    "fieldManager",
                )],
            ));
        }
        let applied = request::decode_as(body, true)?;
        if target.sub == Subresource::Main {
            schema::check_applied(target.kind, target.ns(), &target.name, &applied)?;
        }
        let (object, created) = state.store.apply(
            target.kind,
            target.ns(),
            &target.name,
            applied,
            target.sub,
            &ctx,
            params.flag("force"),
        )?;
        let code = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return written(state, target.kind, target.sub, code, &object, &[]);
    }
    let document = request::decode_as(body, false)?;
    let apply_patch = |live: &Value| -> Result<Value, ApiError> {
        let mut patched = live.clone();
        match content_type.as_str() {
            "application/merge-patch+json" => patch::merge_patch(&mut patched, &document),
            "application/strategic-merge-patch+json" => {
                patch::strategic_merge_patch(&mut patched, &document)
            }
            "application/json-patch+json" => {
                patch::json_patch(&mut patched, &document).map_err(|e| match e {
                    patch::PatchError::Malformed(m) => ApiError::BadRequest(m),
                    failed => ApiError::invalid(
                        "",
                        kinds::get(target.kind).kind,
                        &target.name,
                        vec![Cause::new("FieldValueInvalid", failed.to_string(), "")],
                    ),
                })?
            }
            other => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "the body of the request was in an unknown format - accepted media types \
                     include: application/json-patch+json, application/merge-patch+json, \
                     application/apply-patch+yaml; got {other}"
                )));
            }
        }
        // A patch only carries a resourceVersion precondition if it sets one itself.
        if live.pointer("/metadata/resourceVersion") == patched.pointer("/metadata/resourceVersion")
            && let Some(meta) = patched.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("resourceVersion");
        }
        Ok(patched)
    };
    let object = state.store.modify(
        target.kind,
        target.ns(),
        &target.name,
        target.sub,
        &ctx,
        apply_patch,
    )?;
    written(state, target.kind, target.sub, StatusCode::OK, &object, &[])
}

/// `DeleteOptions` from the body or the query string (kubectl uses the body, kube-rs
/// too; curl users tend to use the query).
fn delete_options(
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Propagation, Preconditions, bool), ApiError> {
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        request::decode(headers, body)?
    };
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| params.get("propagationPolicy"));
    let propagation = match policy {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "invalid propagationPolicy {other:?}"
            )));
        }
    };
    let propagation = if options.get("orphanDependents") == Some(&json!(true)) {
        Propagation::Orphan
    } else {
        propagation
    };
    let precondition = |field: &str| {
        options
            .pointer(&format!("/preconditions/{field}"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let preconditions = Preconditions {
        uid: precondition("uid"),
        resource_version: precondition("resourceVersion"),
    };
    // DeleteOptions carry `dryRun` as a list (`["All"]`); the query as one value.
    let dry_run = match options.get("dryRun") {
        None | Some(Value::Null) => request::dry_run(params, "DeleteOptions")?,
        Some(Value::Array(values)) if values.is_empty() => false,
        Some(Value::Array(values)) if values.iter().all(|v| v == "All") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                vec![Cause::new(
                    "FieldValueNotSupported",
                    format!("Unsupported value: {other}: supported values: \"All\""),
                    "dryRun",
                )],
            ));
        }
    };
    Ok((propagation, preconditions, dry_run))
}

fn delete(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (propagation, preconditions, dry_run) = delete_options(params, headers, body)?;
    let outcome = state.store.delete_as(
        target.kind,
        target.ns(),
        &target.name,
        propagation,
        &preconditions,
        dry_run,
    )?;
    match outcome {
        Deleted::Pending(object) => ok(StatusCode::OK, &object),
        Deleted::Gone(object) => ok(StatusCode::OK, &success(target.kind, &object)),
    }
}

fn delete_collection(
    state: &AppState,
    kind: KindId,
    namespace: Option<String>,
    params: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (propagation, preconditions, dry_run) = delete_options(params, headers, body)?;
    let query = ListQuery {
        namespace,
        labels: params.labels()?,
        fields: params.fields()?,
        ..ListQuery::default()
    };
    let page = state.store.list(kind, &query)?;
    let mut deleted = Vec::new();
    for object in page.items {
        let ns = namespace_of(&object).to_string();
        let ns = (!ns.is_empty()).then_some(ns);
        let name = name_of(&object).to_string();
        match state.store.delete_as(
            kind,
            ns.as_deref(),
            &name,
            propagation,
            &preconditions,
            dry_run,
        ) {
            Ok(Deleted::Gone(o) | Deleted::Pending(o)) => deleted.push(o),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let metadata = json!({ "resourceVersion": state.store.resource_version().to_string() });
    Ok(list_response(kind, &metadata, &deleted))
}

/// The Success Status the real server answers a completed delete with.
fn success(kind: KindId, object: &Value) -> Value {
    let k = kinds::get(kind);
    let mut details = json!({
        "name": name_of(object),
        "kind": k.plural,
        "uid": object.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
    });
    if !k.group.is_empty() {
        details["group"] = json!(k.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

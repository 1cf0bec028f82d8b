//! How the fake API answers each route, as `docs/api.md` says.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use serde_json::json;
use storeplane_api::dto::{CreateStoreRequest, EventView, Page};
use storeplane_domain::{EventKind, StoreStatus};

use crate::fake::{Fate, Frame, Recorded, State, publish_event, publish_store, transition};
use crate::fixtures::{store_created, with_status};

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

pub(crate) fn json_answer<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

pub(crate) fn paginate<T: serde::Serialize + Clone>(
    items: &[T],
    query: &HashMap<String, String>,
    default_limit: usize,
) -> Response {
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default_limit);
    let start: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (start + limit).min(items.len());
    let page = Page {
        items: items[start.min(end)..end].to_vec(),
        next_cursor: (end < items.len()).then(|| end.to_string()),
    };
    json_answer(StatusCode::OK, &page)
}

pub(crate) fn create(state: &mut State, recorded: &Recorded, body: &Bytes) -> Response {
    if recorded.header("content-type") != Some("application/json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON",
        );
    }
    let Ok(request) = serde_json::from_slice::<CreateStoreRequest>(body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_json", "malformed JSON");
    };
    let key = recorded.header("idempotency-key").map(str::to_owned);
    if let Some(id) = key.as_ref().and_then(|k| state.idempotency.get(k))
        && let Some(store) = state.stores.iter().find(|s| s.id == *id)
    {
        return json_answer(StatusCode::ACCEPTED, store);
    }
    let taken = state
        .stores
        .iter()
        .any(|s| s.name == request.name && s.status != StoreStatus::Deleted);
    if taken {
        let message = format!("a store named {:?} already exists", request.name);
        let body = json!({"error": {"code": "name_taken", "message": message, "field": "name"}});
        return (StatusCode::CONFLICT, axum::Json(body)).into_response();
    }
    let mut store = with_status(
        store_created(&request.name, Utc::now()),
        StoreStatus::Pending,
    );
    store.plan = request.plan.parse().unwrap();
    state.stores.insert(0, store.clone());
    if let Some(key) = key {
        state.idempotency.insert(key, store.id);
    }
    let message = format!("store {} accepted", store.name);
    publish_event(state, store.id, EventKind::Created, &message, json!({}));
    publish_store(state, &store);
    match state.fate.clone() {
        Fate::Ready => {
            transition(state, store.id, StoreStatus::Provisioning, None);
            publish_event(
                state,
                store.id,
                EventKind::Step,
                "applied 14 objects",
                json!({}),
            );
            transition(state, store.id, StoreStatus::Ready, None);
        }
        Fate::Fail(reason) => {
            transition(state, store.id, StoreStatus::Provisioning, None);
            transition(state, store.id, StoreStatus::Failed, Some(&reason));
        }
        Fate::Stay => {}
    }
    json_answer(StatusCode::ACCEPTED, &store)
}

pub(crate) fn store_action(
    state: &mut State,
    index: usize,
    method: Method,
    rest: &[&str],
    query: &HashMap<String, String>,
) -> Response {
    let id = state.stores[index].id;
    match (method, rest) {
        (Method::GET, []) => json_answer(StatusCode::OK, &state.stores[index]),
        (Method::DELETE, []) => {
            let answer = match state.stores[index].status {
                StoreStatus::Deleting | StoreStatus::Deleted => state.stores[index].clone(),
                _ => {
                    transition(state, id, StoreStatus::Deleting, None);
                    let answer = state.stores[index].clone();
                    publish_event(
                        state,
                        id,
                        EventKind::Teardown,
                        "namespace deleted",
                        json!({}),
                    );
                    transition(state, id, StoreStatus::Deleted, None);
                    answer
                }
            };
            json_answer(StatusCode::ACCEPTED, &answer)
        }
        (Method::POST, ["retry"]) => {
            if state.stores[index].status != StoreStatus::Failed {
                return error(
                    StatusCode::CONFLICT,
                    "conflict",
                    "only a failed store can be retried",
                );
            }
            transition(state, id, StoreStatus::Pending, None);
            json_answer(StatusCode::ACCEPTED, &state.stores[index])
        }
        (Method::GET, ["events"]) => {
            let events: Vec<EventView> = state
                .events
                .iter()
                .filter(|e| e.store_id == id)
                .cloned()
                .collect();
            paginate(&events, query, 100)
        }
        (Method::POST, ["credentials", "reveal"]) => {
            if state.stores[index].status != StoreStatus::Ready {
                return error(
                    StatusCode::CONFLICT,
                    "credentials_not_ready",
                    "not provisioned yet",
                );
            }
            if state.revealed.contains(&id) {
                let message =
                    "the credentials were already revealed; reset the password to get new ones";
                return error(StatusCode::GONE, "credentials_revealed", message);
            }
            state.revealed.push(id);
            let body = json!({
                "username": "admin", "password": "correct-horse-battery",
                "admin_url": state.stores[index].admin_url,
            });
            json_answer(StatusCode::OK, &body)
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "no"),
    }
}

/// The SSE stream: a replay after `Last-Event-ID`, then live frames until a hang-up.
pub(crate) fn live_updates(state: &State, recorded: &Recorded) -> Response {
    // Subscribed under the same lock that reads the history, so no frame falls between.
    let mut live = state.live.subscribe();
    let after: Option<i64> = recorded
        .header("last-event-id")
        .and_then(|v| v.parse().ok());
    let replay: Vec<String> = match after {
        Some(after) => state
            .history
            .iter()
            .filter(|(seq, _)| *seq > after)
            .map(|(_, frame)| frame.clone())
            .collect(),
        None => Vec::new(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
    tokio::spawn(async move {
        // A comment first, so that the answer's head leaves at once.
        let opening = std::iter::once(": connected\n\n".to_owned()).chain(replay);
        for frame in opening {
            if tx.send(frame).await.is_err() {
                return;
            }
        }
        while let Ok(Frame::Text(text)) = live.recv().await {
            if tx.send(text).await.is_err() {
                return;
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(Ok::<_, Infallible>);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

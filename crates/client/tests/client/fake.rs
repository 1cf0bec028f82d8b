//! A fake storeplane API on a loopback port: it keeps stores in memory, answers as
//! `docs/api.md` says, records every request it saw, and streams live updates that tests
//! drive by hand (including hanging up, to exercise resumption).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use storeplane_api::dto::{EventView, StoreView};
use storeplane_domain::{EventKind, StoreId, StoreStatus};
use tokio::sync::broadcast;

use crate::fake_routes::{create, error, live_updates, paginate, store_action};

/// The token the fake accepts.
pub const TOKEN: &str = "t0ken-abc";

/// What becomes of a store created on the fake, emitted while the create is answered.
#[derive(Debug, Clone)]
pub enum Fate {
    /// pending -> provisioning -> ready.
    Ready,
    /// pending -> provisioning -> failed, with this reason.
    Fail(String),
    /// Stays pending.
    Stay,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// The path and query, e.g. `/api/v1/stores?limit=5`.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.uri)
    }
}

/// An answer a test imposes on one method and path, whatever the state.
#[derive(Debug, Clone)]
pub(crate) enum Canned {
    Answer {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Never answers.
    Stall,
}

#[derive(Debug, Clone)]
pub(crate) enum Frame {
    Text(String),
    HangUp,
}

pub(crate) struct State {
    pub(crate) stores: Vec<StoreView>,
    pub(crate) events: Vec<EventView>,
    /// Every live-update frame sent, with the seq it follows, for `Last-Event-ID` replay.
    pub(crate) history: Vec<(i64, String)>,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) canned: HashMap<(Method, String), Canned>,
    pub(crate) idempotency: HashMap<String, StoreId>,
    pub(crate) revealed: Vec<StoreId>,
    pub(crate) fate: Fate,
    pub(crate) live: broadcast::Sender<Frame>,
}

/// A running fake API.
#[derive(Clone)]
pub struct FakeApi {
    url: String,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Starts a fake on a free loopback port; it stops with the test's runtime.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            stores: Vec::new(),
            events: Vec::new(),
            history: Vec::new(),
            requests: Vec::new(),
            canned: HashMap::new(),
            idempotency: HashMap::new(),
            revealed: Vec::new(),
            fate: Fate::Ready,
            live: broadcast::channel(1024).0,
        }));
        let app = Router::new().fallback({
            let state = state.clone();
            move |request: Request<Body>| handle(state.clone(), request)
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// What happens to the stores created from now on.
    pub fn set_fate(&self, fate: Fate) {
        self.state().fate = fate;
    }

    /// Adds a store as if created earlier, newest first like the API lists them.
    pub fn seed(&self, store: StoreView) -> StoreView {
        self.state().stores.insert(0, store.clone());
        store
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The requests whose path (without query) is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        let requests = self.requests();
        requests
            .into_iter()
            .filter(|r| r.uri.split('?').next() == Some(path))
            .collect()
    }

    /// Answers `method path` with `status` and a JSON `body`, whatever the state.
    pub fn answer(&self, method: Method, path: &str, status: u16, body: Value) {
        self.answer_raw(
            method,
            path,
            status,
            vec![("content-type", "application/json".into())],
            &body.to_string(),
        );
    }

    /// Answers `method path` with exactly these headers and body.
    pub fn answer_raw(
        &self,
        method: Method,
        path: &str,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: &str,
    ) {
        let canned = Canned::Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.to_owned(),
        };
        self.state()
            .canned
            .insert((method, path.to_owned()), canned);
    }

    /// Makes `method path` never answer.
    pub fn stall(&self, method: Method, path: &str) {
        self.state()
            .canned
            .insert((method, path.to_owned()), Canned::Stall);
    }

    /// Appends an event to a store's timeline and streams it.
    pub fn push_event(&self, store_id: StoreId, kind: EventKind, message: &str) -> EventView {
        publish_event(&mut self.state(), store_id, kind, message, json!({}))
    }

    /// Appends a `step` event with `detail` to a store's timeline and streams it.
    pub fn push_step(&self, store_id: StoreId, message: &str, detail: Value) -> EventView {
        publish_event(
            &mut self.state(),
            store_id,
            EventKind::Step,
            message,
            detail,
        )
    }

    /// Moves a store to `status` as a worker would: a timeline event, then the store.
    pub fn set_status(&self, id: StoreId, status: StoreStatus, reason: Option<&str>) {
        transition(&mut self.state(), id, status, reason);
    }

    /// Sends a raw frame on the live stream, e.g. an event name the client does not know.
    pub fn push_raw(&self, frame: &str) {
        let state = self.state();
        let _ = state.live.send(Frame::Text(frame.to_owned()));
    }

    /// Closes every live-update connection, as a restarting server would.
    pub fn hang_up(&self) {
        let _ = self.state().live.send(Frame::HangUp);
    }
}
pub(crate) fn publish_event(
    state: &mut State,
    store_id: StoreId,
    kind: EventKind,
    message: &str,
    detail: Value,
) -> EventView {
    let seq = state.events.last().map_or(1, |e| e.seq + 1);
    let event = EventView {
        seq,
        store_id,
        at: Utc::now(),
        kind,
        message: message.to_owned(),
        detail,
        actor: "system:worker".to_owned(),
    };
    state.events.push(event.clone());
    let frame = format!(
        "id: {seq}\nevent: timeline\ndata: {}\n\n",
        serde_json::to_string(&event).unwrap()
    );
    send(state, seq, frame);
    event
}

pub(crate) fn publish_store(state: &mut State, store: &StoreView) {
    let seq = state.events.last().map_or(0, |e| e.seq);
    let frame = format!(
        "event: store\ndata: {}\n\n",
        serde_json::to_string(store).unwrap()
    );
    send(state, seq, frame);
}

fn send(state: &mut State, seq: i64, frame: String) {
    state.history.push((seq, frame.clone()));
    let _ = state.live.send(Frame::Text(frame));
}

pub(crate) fn transition(state: &mut State, id: StoreId, to: StoreStatus, reason: Option<&str>) {
    let Some(index) = state.stores.iter().position(|s| s.id == id) else {
        return;
    };
    let from = state.stores[index].status;
    state.stores[index].status = to;
    state.stores[index].status_reason = reason.map(str::to_owned);
    state.stores[index].updated_at = Utc::now();
    let message = match reason {
        Some(reason) => format!("{from} -> {to}: {reason}"),
        None => format!("{from} -> {to}"),
    };
    let detail = json!({"from": from, "to": to});
    publish_event(state, id, EventKind::StatusChanged, &message, detail);
    let store = state.stores[index].clone();
    publish_store(state, &store);
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.clone(),
        uri: parts.uri.to_string(),
        headers: parts.headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let path = parts.uri.path().to_owned();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.replace("%20", " ")))
                .collect()
        })
        .unwrap_or_default();
    let canned = {
        let mut state = state.lock().unwrap();
        state.requests.push(recorded.clone());
        state
            .canned
            .get(&(parts.method.clone(), path.clone()))
            .cloned()
    };
    match canned {
        Some(Canned::Stall) => return futures::future::pending().await,
        Some(Canned::Answer {
            status,
            headers,
            body,
        }) => {
            let mut response = (status, body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            return response;
        }
        None => {}
    }
    if recorded.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "missing or unknown API token",
        );
    }
    let segments: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    let mut state = state.lock().unwrap();
    match (parts.method.clone(), segments.as_slice()) {
        (Method::GET, ["events"]) => live_updates(&state, &recorded),
        (Method::POST, ["stores"]) => create(&mut state, &recorded, &body),
        (Method::GET, ["stores"]) => {
            let stores: Vec<StoreView> = state
                .stores
                .iter()
                .filter(|s| query.get("name").is_none_or(|n| *n == s.name))
                .filter(|s| {
                    query
                        .get("status")
                        .is_none_or(|st| *st == s.status.as_str())
                })
                .cloned()
                .collect();
            paginate(&stores, &query, 50)
        }
        (method, ["stores", id, rest @ ..]) => {
            let Some(index) = id
                .parse::<StoreId>()
                .ok()
                .and_then(|id| state.stores.iter().position(|s| s.id == id))
            else {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no store {id}"),
                );
            };
            store_action(&mut state, index, method, rest, &query)
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such route"),
    }
}

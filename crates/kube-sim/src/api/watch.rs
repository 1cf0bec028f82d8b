//! Watches: a chunked stream of newline-delimited JSON watch events.
//!
//! As on a real API server, a resourceVersion that is too old is not an HTTP error: the
//! stream opens and carries one `ERROR` event with a 410 `Expired` Status, which is what
//! kube-rs' watcher and client-go's reflector look for before re-listing. A watcher that
//! falls behind the live feed (it holds `WATCH_FEED` events) catches up from the history
//! and carries on; only when the history no longer reaches back to its last version is
//! its stream closed, and the client resumes (or re-lists if that has been compacted
//! away).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{Instant, MissedTickBehavior};

use super::AppState;
use super::request::Params;
use crate::error::ApiError;
use crate::kinds::{self, KindId};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Event, Scope, Store, WatchStart};

/// Which events a watch wants.
struct Filter {
    kind: KindId,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn wants(&self, event: &Event) -> bool {
        event.kind == self.kind
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| event.namespace() == ns)
            && self.labels.matches(&event.object)
            && self.fields.matches(&event.object)
    }
}

/// Opens a watch.
pub fn serve(
    state: &Arc<AppState>,
    kind: KindId,
    namespace: Option<String>,
    params: &Params,
) -> Result<Response, ApiError> {
    let filter = Filter {
        kind,
        namespace,
        labels: params.labels()?,
        fields: params.fields()?,
    };
    let send_initial = params.flag("sendInitialEvents");
    let start = match params.get("resourceVersion") {
        _ if send_initial => WatchStart::Snapshot,
        None | Some("0") => WatchStart::Snapshot,
        Some(rv) => WatchStart::After(
            rv.parse()
                .map_err(|_| ApiError::BadRequest(format!("invalid resourceVersion {rv:?}")))?,
        ),
    };
    let bookmarks = params.flag("allowWatchBookmarks");
    let timeout = params
        .number("timeoutSeconds")?
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let scope = Scope {
        namespace: filter.namespace.as_deref(),
        name: filter.fields.name(),
    };
    match state.store.watch(kind, scope, start) {
        Err(ApiError::Expired(message)) => {
            let error = ApiError::Expired(message).to_status();
            // The channel is fresh and has room for one message.
            let _ = tx.try_send(line("ERROR", &error));
        }
        Err(e) => return Err(e),
        Ok(feed) => {
            let run = Run {
                store: state.store.clone(),
                filter,
                bookmarks,
                send_initial,
                interval: state.config.bookmark_interval,
                deadline: Instant::now() + timeout,
                stopping: state.stopping.clone(),
            };
            tokio::spawn(run.stream(feed.backlog, feed.live, feed.resource_version, tx));
        }
    }
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::BadRequest(format!("failed to build watch response: {e}")))
}

struct Run {
    store: Arc<Store>,
    filter: Filter,
    bookmarks: bool,
    send_initial: bool,
    interval: Duration,
    deadline: Instant,
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl Run {
    async fn stream(
        mut self,
        backlog: Vec<Arc<Event>>,
        mut live: broadcast::Receiver<Arc<Event>>,
        start_rv: u64,
        tx: mpsc::Sender<Bytes>,
    ) {
        for event in backlog.iter().filter(|e| self.filter.wants(e)) {
            if tx.send(event_line(event)).await.is_err() {
                return;
            }
        }
        // Every event up to `seen` has been considered, so a bookmark at `seen` is safe.
        let mut seen = start_rv.max(backlog.last().map(|e| e.rv).unwrap_or(0));
        if self.send_initial && self.bookmarks {
            let marker = self.bookmark(seen, true);
            if tx.send(marker).await.is_err() {
                return;
            }
        }
        let mut ticker = tokio::time::interval_at(Instant::now() + self.interval, self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(event) => {
                        if event.rv <= seen {
                            continue;
                        }
                        seen = event.rv;
                        if self.filter.wants(&event) && tx.send(event_line(&event)).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Catch up from the history, under the store's lock, so nothing
                        // falls between the replay and the new live feed.
                        let scope = Scope {
                            namespace: self.filter.namespace.as_deref(),
                            name: self.filter.fields.name(),
                        };
                        let Ok(feed) = self.store.watch(self.filter.kind, scope, WatchStart::After(seen)) else {
                            // Compacted away: end the stream; the client's resume gets 410.
                            return;
                        };
                        for event in feed.backlog.iter().filter(|e| self.filter.wants(e)) {
                            if tx.send(event_line(event)).await.is_err() {
                                return;
                            }
                        }
                        seen = seen.max(feed.resource_version);
                        live = feed.live;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = ticker.tick(), if self.bookmarks => {
                    if tx.send(self.bookmark(seen, false)).await.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(self.deadline) => return,
                _ = self.stopping.changed() => return,
                _ = tx.closed() => return,
            }
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let k = kinds::get(self.filter.kind);
        let mut metadata = json!({ "resourceVersion": rv.to_string() });
        if initial_end {
            metadata["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
        }
        line(
            "BOOKMARK",
            &json!({ "kind": k.kind, "apiVersion": k.api_version(), "metadata": metadata }),
        )
    }
}

fn event_line(event: &Event) -> Bytes {
    line(event.event_type.as_str(), &event.object)
}

fn line(event_type: &str, object: &Value) -> Bytes {
    // Written by hand to avoid cloning the object into a wrapper value.
    let mut bytes = format!("{{\"type\":\"{event_type}\",\"object\":").into_bytes();
    // Serializing a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut bytes, object);
    bytes.extend_from_slice(b"}\n");
    Bytes::from(bytes)
}

//! Live updates: one task per process follows the metadata store's timeline and fans new
//! events out to every `GET /api/v1/events` subscriber.
//!
//! The task wakes when the metadata store signals a new event (PostgreSQL `NOTIFY`, so
//! events written by any process arrive; in-process for SQLite) and, as a safety net for a
//! notification lost while a listener reconnects, once a second. It always reads from the
//! database by `seq`, so every subscriber sees every event exactly once and in order.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt, stream};
use storeplane_db::{DbError, Repository};
use storeplane_domain::{EventKind, Store, StoreEvent, StoreId, UserId};
use tokio::sync::{broadcast, watch};

use crate::dto::{ErrorBody, EventView};
use crate::page_cache::PageCache;
use crate::{ApiError, AppState, Caller};

/// How many events one read takes from the metadata store.
const BATCH: u32 = 500;
/// How many events a subscriber may fall behind before it re-reads from the database.
const CHANNEL_CAPACITY: usize = 1024;
/// The safety-net wake-up interval.
const TICK: Duration = Duration::from_secs(1);

/// A timeline event, the owner of its store (who may see it), and the state of the
/// store right after it when the event changed the store.
#[derive(Debug)]
pub struct FeedItem {
    pub event: StoreEvent,
    pub owner: UserId,
    pub store: Option<Store>,
}

/// How many stores' owners [`Owners`] remembers before it starts over.
const OWNERS_KEPT: usize = 100_000;

/// The owners of the stores whose events the feed has read. A store's owner never
/// changes, so only events that change the store (its status, its revisions) need its row
/// read: a store's many other events (one per object applied) are placed by this map.
#[derive(Debug, Default)]
struct Owners(Mutex<HashMap<StoreId, UserId>>);

impl Owners {
    fn get(&self, store: StoreId) -> Option<UserId> {
        self.0.lock().ok()?.get(&store).copied()
    }

    fn remember(&self, store: StoreId, owner: UserId) {
        if let Ok(mut owners) = self.0.lock() {
            if owners.len() >= OWNERS_KEPT {
                owners.clear();
            }
            owners.insert(store, owner);
        }
    }
}

/// The process's live-update fan-out.
#[derive(Debug, Clone)]
pub struct EventFeed {
    tx: broadcast::Sender<Arc<FeedItem>>,
    closed: watch::Receiver<bool>,
    owners: Arc<Owners>,
}

/// Stops the feed: open streams end, so a graceful shutdown is not held up by them.
#[derive(Debug)]
pub struct FeedCloser(watch::Sender<bool>);

impl FeedCloser {
    pub fn close(&self) {
        let _ = self.0.send(true);
    }
}

impl EventFeed {
    /// Starts following the timeline from its current end.
    /// Stores that change invalidate `pages`.
    pub fn start(repo: Arc<dyn Repository>, pages: Arc<PageCache>) -> (Self, FeedCloser) {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (close_tx, closed) = watch::channel(false);
        let owners = Arc::new(Owners::default());
        tokio::spawn(follow(
            repo,
            pages,
            owners.clone(),
            tx.clone(),
            closed.clone(),
        ));
        (Self { tx, closed, owners }, FeedCloser(close_tx))
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<FeedItem>> {
        self.tx.subscribe()
    }
}

async fn follow(
    repo: Arc<dyn Repository>,
    pages: Arc<PageCache>,
    owners: Arc<Owners>,
    tx: broadcast::Sender<Arc<FeedItem>>,
    mut closed: watch::Receiver<bool>,
) {
    // Listen before reading where the timeline ends, so no event falls in between.
    let mut wakeups = repo.event_wakeups();
    let mut last = loop {
        match repo.latest_event_seq().await {
            Ok(seq) => break seq,
            Err(e) => {
                tracing::warn!(error = %e, "live updates cannot read the timeline yet; retrying");
                tokio::time::sleep(TICK).await;
            }
        }
    };
    // Pages cached before the feed followed the timeline may predate changes it will not
    // report (they are behind `last`).
    pages.invalidate();
    loop {
        tokio::select! {
            _ = wakeups.next() => {}
            () = tokio::time::sleep(TICK) => {}
            _ = closed.wait_for(|closed| *closed) => return,
        }
        loop {
            match load_items(repo.as_ref(), &owners, last, BATCH).await {
                Ok(items) => {
                    let full = items.len() == BATCH as usize;
                    if !items.is_empty() {
                        // Every event is a change to a store (or its timeline).
                        pages.invalidate();
                    }
                    for item in items {
                        last = item.event.seq;
                        // No subscriber is not an error: the event is in the database.
                        let _ = tx.send(item);
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live updates failed to read new events; will retry");
                    break;
                }
            }
        }
    }
}

/// Reads events after `after` with their stores' owners, and the stores they changed.
async fn load_items(
    repo: &dyn Repository,
    owners: &Owners,
    after: i64,
    limit: u32,
) -> Result<Vec<Arc<FeedItem>>, DbError> {
    let events = repo.events_after(after, limit).await?;
    let mut stores: HashMap<StoreId, Store> = HashMap::new();
    let mut items = Vec::with_capacity(events.len());
    for event in events {
        let changes = changes_store(&event);
        let known = if changes {
            None
        } else {
            owners.get(event.store_id)
        };
        let (owner, store) = match known {
            Some(owner) => (owner, None),
            None => {
                let store = match stores.get(&event.store_id) {
                    Some(store) => store.clone(),
                    None => {
                        let store = repo.get_store(event.store_id).await?;
                        owners.remember(store.id, store.owner);
                        stores.insert(store.id, store.clone());
                        store
                    }
                };
                (store.owner, changes.then_some(store))
            }
        };
        items.push(Arc::new(FeedItem {
            event,
            owner,
            store,
        }));
    }
    Ok(items)
}

/// Whether `event` changed what the store's view shows: its status, or where its
/// revisions stand (a revision recorded, applied, deployed, failed or rolled back).
fn changes_store(event: &StoreEvent) -> bool {
    match event.kind {
        EventKind::Created | EventKind::StatusChanged => true,
        EventKind::Step => matches!(
            event.detail.get("step").and_then(|s| s.as_str()),
            Some("revision" | "password_reset" | "outputs" | "backup")
        ),
        _ => false,
    }
}

/// Live updates as server-sent events.
///
/// Every timeline event the caller may see arrives as `timeline` (its `id:` is the
/// event's `seq`); when it changed the store (its status, or one of its revisions), the
/// store's new state follows as `store`.
/// Send `Last-Event-ID` to resume after an event.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = "^[0-9]{1,18}$", description = "Resume after this event (its seq)")),
    responses(
        // The events' own schema (a `timeline` or a `store` event) is set in
        // `openapi::document`: no annotation describes an event stream.
        (status = 200, description = "A text/event-stream of `timeline` and `store` events", content_type = "text/event-stream"),
        (status = 400, description = "A Last-Event-ID that is not an event seq", body = ErrorBody),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume_after = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| crate::cursor::parse_seq(v.trim()))
        })
        .map(|seq| {
            seq.ok_or_else(|| {
                ApiError::bad_request("bad_request", "Last-Event-ID must be an event seq")
                    .with_field("Last-Event-ID")
            })
        })
        .transpose()?;
    // Subscribe before reading the backlog, so nothing written in between is lost; the
    // overlap is dropped by `seq`.
    let rx = state.feed.subscribe();
    let last_sent = match resume_after {
        Some(seq) => seq,
        None => state.repo.latest_event_seq().await?,
    };
    let subscriber = Subscriber {
        repo: state.repo.clone(),
        views: state.views.clone(),
        caller,
        rx,
        closed: state.feed.closed.clone(),
        owners: state.feed.owners.clone(),
        backlog: VecDeque::new(),
        needs_backfill: resume_after.is_some(),
        last_sent,
    };
    let events = stream::unfold(subscriber, |mut s| async move {
        s.next_events().await.map(|events| (events, s))
    })
    .flat_map(|events| stream::iter(events.into_iter().map(Ok)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One SSE client's position in the timeline.
struct Subscriber {
    repo: Arc<dyn Repository>,
    views: crate::state::StoreViews,
    caller: Caller,
    rx: broadcast::Receiver<Arc<FeedItem>>,
    closed: watch::Receiver<bool>,
    owners: Arc<Owners>,
    backlog: VecDeque<Arc<FeedItem>>,
    /// Read from the database before listening (resumption, or after falling behind).
    needs_backfill: bool,
    last_sent: i64,
}

impl Subscriber {
    /// The next SSE events to send, or `None` when the stream should end.
    async fn next_events(&mut self) -> Option<Vec<Event>> {
        loop {
            if self.needs_backfill && self.backlog.is_empty() {
                match load_items(self.repo.as_ref(), &self.owners, self.last_sent, BATCH).await {
                    Ok(items) if items.is_empty() => self.needs_backfill = false,
                    Ok(items) => self.backlog.extend(items),
                    Err(e) => {
                        tracing::warn!(error = %e, "live-update backfill failed; ending the stream so the client resumes");
                        return None;
                    }
                }
            }
            let item = match self.backlog.pop_front() {
                Some(item) => item,
                None => tokio::select! {
                    received = self.rx.recv() => match received {
                        Ok(item) => item,
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            self.needs_backfill = true;
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = self.closed.wait_for(|closed| *closed) => return None,
                },
            };
            if item.event.seq <= self.last_sent {
                continue;
            }
            self.last_sent = item.event.seq;
            if self.caller.may_access(&item.owner) {
                return Some(self.render(&item));
            }
        }
    }

    fn render(&self, item: &FeedItem) -> Vec<Event> {
        let view = EventView::from(item.event.clone());
        let mut events = vec![
            Event::default()
                .id(item.event.seq.to_string())
                .event("timeline")
                .json_data(&view)
                .unwrap_or_else(|_| Event::default().comment("unserializable event")),
        ];
        if let Some(store) = &item.store {
            let store = self.views.view(store);
            if let Ok(event) = Event::default().event("store").json_data(&store) {
                events.push(event);
            }
        }
        events
    }
}

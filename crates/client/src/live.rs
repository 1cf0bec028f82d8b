//! Live updates: the `GET /api/v1/events` server-sent-event stream, parsed into typed
//! updates and resumed with `Last-Event-ID` when the connection drops, the way a browser's
//! `EventSource` does.
//!
//! The server sends every timeline event as `event: timeline` with `id:` its sequence
//! number, followed by `event: store` with the store's new state when it changed. Other
//! event names are skipped, so a newer server can add some without breaking this client.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::stream::{BoxStream, Stream, StreamExt};
use storeplane_api::dto::{EventView, StoreView};

use crate::client::Client;
use crate::error::ClientError;

/// The server sends a keep-alive comment every 15 seconds; this long without even that
/// means the connection is dead although no socket error said so.
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// How many reconnections in a row may fail before the stream gives up.
const MAX_RECONNECTS: u32 = 10;

/// The first pause before reconnecting; it doubles on each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One live update.
#[derive(Debug, Clone, PartialEq)]
// A handful arrive per second at most, each consumed at once: boxing the store would
// save nothing worth an allocation per update.
#[allow(clippy::large_enum_variant)]
pub enum LiveUpdate {
    /// A new event on a store's timeline.
    Timeline(EventView),
    /// A store's new state, after an event changed it.
    Store(StoreView),
}

/// The stream of live updates, from [`Client::subscribe`]. It ends only after an error it
/// cannot recover from, which is its last item.
pub struct LiveUpdates {
    inner: BoxStream<'static, Result<LiveUpdate, ClientError>>,
}

impl std::fmt::Debug for LiveUpdates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveUpdates").finish_non_exhaustive()
    }
}

impl Stream for LiveUpdates {
    type Item = Result<LiveUpdate, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

type Frames = BoxStream<'static, Result<Event, EventStreamError<std::io::Error>>>;

/// Where the subscription stands between two items.
struct Subscription {
    client: Client,
    /// The `id:` of the last event received: where a reconnection resumes.
    last_event_id: Option<i64>,
    frames: Option<Frames>,
    /// Reconnections that failed in a row since the last event arrived.
    failures: u32,
    /// The first pause before reconnecting; the server may set it with `retry:`.
    retry: Duration,
    /// The pause before the next reconnection: `retry`, doubled on each failure.
    backoff: Duration,
    finished: bool,
}

impl LiveUpdates {
    /// Opens the stream; connection errors (unreachable, `401`, ...) surface here rather
    /// than as the first item.
    pub(crate) async fn connect(
        client: Client,
        last_event_id: Option<i64>,
    ) -> Result<Self, ClientError> {
        let frames = frames(&client, last_event_id).await?;
        let subscription = Subscription {
            client,
            last_event_id,
            frames: Some(frames),
            failures: 0,
            retry: FIRST_BACKOFF,
            backoff: FIRST_BACKOFF,
            finished: false,
        };
        let inner = futures::stream::unfold(subscription, |mut subscription| async move {
            let item = subscription.next_update().await?;
            Some((item, subscription))
        });
        Ok(Self {
            inner: inner.boxed(),
        })
    }
}

async fn frames(client: &Client, last_event_id: Option<i64>) -> Result<Frames, ClientError> {
    let response = client.open_events(last_event_id).await?;
    // Idleness is judged on bytes, not events: keep-alive comments never become events,
    // yet they are what proves a quiet connection alive.
    let chunks =
        futures::stream::unfold(response.bytes_stream().boxed(), |mut chunks| async move {
            let chunk = match tokio::time::timeout(IDLE_LIMIT, chunks.next()).await {
                Ok(Some(Ok(bytes))) => Ok(bytes),
                Ok(Some(Err(err))) => Err(std::io::Error::other(crate::error::root_cause(&err))),
                Ok(None) => return None,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("nothing received for {}s", IDLE_LIMIT.as_secs()),
                )),
            };
            Some((chunk, chunks))
        });
    Ok(chunks.eventsource().boxed())
}

impl Subscription {
    async fn next_update(&mut self) -> Option<Result<LiveUpdate, ClientError>> {
        if self.finished {
            return None;
        }
        loop {
            let Some(frames) = self.frames.as_mut() else {
                if let Err(err) = self.reconnect().await {
                    self.finished = true;
                    return Some(Err(err));
                }
                continue;
            };
            let lost = match frames.next().await {
                Some(Ok(event)) => {
                    if let Some(retry) = event.retry {
                        self.retry = retry;
                    }
                    self.failures = 0;
                    self.backoff = self.retry;
                    if let Ok(id) = event.id.trim().parse() {
                        self.last_event_id = Some(id);
                    }
                    match parse_event(&event) {
                        Some(Ok(update)) => return Some(Ok(update)),
                        Some(Err(err)) => {
                            return Some(Err(ClientError::NotStoreplane {
                                url: self.client.server().to_owned(),
                                status: 200,
                                detail: format!(
                                    "a {:?} event that does not parse: {err}",
                                    event.event
                                ),
                            }));
                        }
                        None => continue,
                    }
                }
                Some(Err(err)) => crate::error::root_cause(&err),
                None => "the server closed the stream".to_owned(),
            };
            tracing::debug!(reason = %lost, last_event_id = ?self.last_event_id, "live updates interrupted; resuming");
            self.frames = None;
            // A server that accepts and at once closes must not keep us reconnecting forever.
            if let Err(err) = self.count_failure(lost) {
                self.finished = true;
                return Some(Err(err));
            }
        }
    }

    /// Opens the stream again after the last event received, pausing longer after each
    /// failure; gives up on an error that waiting cannot fix, or after too many tries.
    async fn reconnect(&mut self) -> Result<(), ClientError> {
        loop {
            tokio::time::sleep(self.backoff).await;
            match frames(&self.client, self.last_event_id).await {
                Ok(frames) => {
                    self.frames = Some(frames);
                    return Ok(());
                }
                Err(err) if !err.is_transient() => return Err(err),
                Err(err) => self.count_failure(err.to_string())?,
            }
        }
    }

    /// Notes one more failure in a row: the next pause is longer, and past
    /// [`MAX_RECONNECTS`] the stream is lost for good.
    fn count_failure(&mut self, reason: String) -> Result<(), ClientError> {
        self.failures += 1;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        if self.failures > MAX_RECONNECTS {
            return Err(ClientError::LiveUpdatesLost {
                url: self.client.server().to_owned(),
                reason,
            });
        }
        Ok(())
    }
}

/// The update an event carries; `None` for event names this client does not know.
fn parse_event(event: &Event) -> Option<Result<LiveUpdate, serde_json::Error>> {
    match event.event.as_str() {
        "timeline" => Some(serde_json::from_str(&event.data).map(LiveUpdate::Timeline)),
        "store" => Some(serde_json::from_str(&event.data).map(LiveUpdate::Store)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event {
            event: name.to_owned(),
            data: data.to_owned(),
            id: String::new(),
            retry: None,
        }
    }

    #[test]
    fn an_unknown_event_name_is_skipped() {
        assert!(parse_event(&event("message", "{}")).is_none());
    }

    #[test]
    fn a_timeline_event_that_is_not_an_event_view_is_an_error() {
        assert!(matches!(
            parse_event(&event("timeline", "{\"seq\": 1}")),
            Some(Err(_))
        ));
    }
}

//! The object store: every object of every kind, one cluster-wide resourceVersion
//! counter, and a bounded history of watch events.
//!
//! One mutex guards everything. Each write bumps the counter exactly once and emits
//! exactly one event, so the history holds a contiguous run of versions and a watch can
//! resume from any version still in it. Events are published while the lock is held, so
//! a watcher that subscribes under the lock sees no gap between its backlog and the live
//! feed.

mod delete;
mod meta;
mod write;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

pub use delete::{Deleted, Preconditions, Propagation};
pub use meta::{is_deleting, name_of, namespace_of, now, set, uid_of};
pub use write::{Subresource, WriteContext};

use crate::error::ApiError;
use crate::kinds::{self, KINDS, KindId};
use crate::selector::{FieldSelector, LabelSelector};

/// The kind of a change, as watch events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The object was created.
    Added,
    /// The object changed.
    Modified,
    /// The object is gone.
    Deleted,
}

impl EventType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion the change produced.
    pub rv: u64,
    /// The object's kind.
    pub kind: KindId,
    /// What happened.
    pub event_type: EventType,
    /// The object after the change (before it, for deletions, with the new version).
    pub object: Arc<Value>,
}

impl Event {
    /// The object's namespace ("" for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        meta::namespace_of(&self.object)
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        meta::name_of(&self.object)
    }
}

/// `(namespace, name)`; namespace is empty for cluster-scoped objects.
type Key = (String, String);

#[derive(Debug)]
struct State {
    rv: u64,
    /// The newest version no longer in `history`; watching from before it is `Expired`.
    compacted: u64,
    objects: Vec<BTreeMap<Key, Arc<Value>>>,
    history: VecDeque<Arc<Event>>,
}

/// The in-memory object store.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<Event>>,
    history_limit: usize,
}

/// What a list request asks for.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// Restrict to one namespace; `None` lists across all namespaces.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
    /// Page size; `None` or 0 returns everything.
    pub limit: Option<usize>,
    /// Continue token from a previous page.
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    /// Matching objects, ordered by namespace then name.
    pub items: Vec<Arc<Value>>,
    /// The store's version when the list was taken.
    pub resource_version: u64,
    /// Token for the next page, when there is one.
    pub continue_token: Option<String>,
    /// How many matching objects follow this page.
    pub remaining: Option<usize>,
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStart {
    /// Synthetic ADDED events for current objects, then live changes.
    Snapshot,
    /// Changes after this resourceVersion.
    After(u64),
}

/// The start of a watch: events to replay, then the live feed.
#[derive(Debug)]
pub struct WatchFeed {
    /// Events to send before the live feed (snapshot or history replay).
    pub backlog: Vec<Arc<Event>>,
    /// Live events after the backlog.
    pub live: broadcast::Receiver<Arc<Event>>,
    /// The store's version when the watch started.
    pub resource_version: u64,
}

impl Store {
    /// An empty cluster holding the namespaces every cluster starts with.
    pub fn new(history_limit: usize) -> Self {
        // Slots hold `Arc`s, so a deep buffer is cheap; it keeps watchers and the
        // controllers from lagging (and resyncing) under bursts of writes.
        let (events, _) = broadcast::channel(1 << 16);
        let store = Self {
            state: Mutex::new(State {
                rv: 0,
                compacted: 0,
                objects: vec![BTreeMap::new(); KINDS.len()],
                history: VecDeque::new(),
            }),
            events,
            history_limit: history_limit.max(1),
        };
        let system = WriteContext::system();
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let object = serde_json::json!({"metadata": {"name": ns}});
            // Creating fixed, valid names in an empty store cannot fail.
            let _ = store.create(kinds::namespace(), None, object, &system);
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every write replaces
        // whole values), so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribes to every change from now on (used by the controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// One object.
    pub fn get(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let state = self.lock();
        state.objects[kind]
            .get(&key(namespace, name))
            .cloned()
            .ok_or_else(|| not_found(kind, name))
    }

    /// Objects of `kind` (in `namespace`, or everywhere), without selectors or paging.
    pub fn objects(&self, kind: KindId, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let state = self.lock();
        match namespace {
            Some(ns) => state.objects[kind]
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => state.objects[kind].values().cloned().collect(),
        }
    }

    /// Objects of `kind` in `namespace` whose names start with `prefix`: how controllers
    /// find what they own (`<deployment>-`, `<replicaset>-`) without scanning the
    /// namespace.
    pub fn objects_named(&self, kind: KindId, namespace: &str, prefix: &str) -> Vec<Arc<Value>> {
        let state = self.lock();
        state.objects[kind]
            .range((namespace.to_string(), prefix.to_string())..)
            .take_while(|((n, name), _)| n == namespace && name.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A filtered, possibly paged list.
    pub fn list(&self, kind: KindId, query: &ListQuery) -> Result<ListPage, ApiError> {
        let start = match &query.continue_token {
            Some(token) => Some(decode_continue(token)?),
            None => None,
        };
        let state = self.lock();
        let map = &state.objects[kind];
        let candidates: Box<dyn Iterator<Item = (&Key, &Arc<Value>)>> = match &query.namespace {
            Some(ns) => Box::new(
                map.range((ns.clone(), String::new())..)
                    .take_while(move |((n, _), _)| n == ns),
            ),
            None => Box::new(map.iter()),
        };
        let matching: Vec<(&Key, &Arc<Value>)> = candidates
            .filter(|(k, _)| start.as_ref().is_none_or(|s| *k > s))
            .filter(|(_, v)| query.labels.matches(v) && query.fields.matches(v))
            .collect();
        let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let page_len = matching.len().min(limit);
        let items = matching[..page_len]
            .iter()
            .map(|(_, v)| (*v).clone())
            .collect();
        let remaining = matching.len() - page_len;
        let continue_token =
            (remaining > 0 && page_len > 0).then(|| encode_continue(matching[page_len - 1].0));
        Ok(ListPage {
            items,
            resource_version: state.rv,
            continue_token,
            remaining: (remaining > 0).then_some(remaining),
        })
    }

    /// Starts a watch on `kind`; filtering by namespace and selectors is the caller's.
    pub fn watch(&self, kind: KindId, start: WatchStart) -> Result<WatchFeed, ApiError> {
        let state = self.lock();
        let live = self.events.subscribe();
        let backlog = match start {
            WatchStart::Snapshot => state.objects[kind]
                .values()
                .map(|object| {
                    Arc::new(Event {
                        rv: meta::resource_version_of(object),
                        kind,
                        event_type: EventType::Added,
                        object: object.clone(),
                    })
                })
                .collect(),
            WatchStart::After(rv) => {
                if rv < state.compacted {
                    return Err(ApiError::Expired(format!(
                        "too old resource version: {rv} ({})",
                        state.compacted + 1
                    )));
                }
                state
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && e.kind == kind)
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchFeed {
            backlog,
            live,
            resource_version: state.rv,
        })
    }
}

impl State {
    /// Bumps the version, stamps it on `object`, records and publishes the event.
    fn emit(
        &mut self,
        store: &Store,
        kind: KindId,
        event_type: EventType,
        mut object: Value,
    ) -> Arc<Value> {
        self.rv += 1;
        meta::set_resource_version(&mut object, self.rv);
        // Stored objects are shared with events, watchers and lists, never copied.
        let object = Arc::new(object);
        let event = Arc::new(Event {
            rv: self.rv,
            kind,
            event_type,
            object: object.clone(),
        });
        self.history.push_back(event.clone());
        while self.history.len() > store.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = store.events.send(event);
        object
    }

    fn namespace_object(&self, ns: &str) -> Option<&Arc<Value>> {
        self.objects[kinds::namespace()].get(&(String::new(), ns.to_string()))
    }
}

fn key(namespace: Option<&str>, name: &str) -> Key {
    (namespace.unwrap_or_default().to_string(), name.to_string())
}

fn not_found(kind: KindId, name: &str) -> ApiError {
    let k = kinds::get(kind);
    ApiError::not_found(k.group, k.plural, name)
}

/// Continue tokens are the last key of the page, hex-encoded so they stay opaque.
fn encode_continue((ns, name): &Key) -> String {
    format!("{ns}/{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Result<Key, ApiError> {
    let invalid = || ApiError::BadRequest(format!("invalid continue token {token:?}"));
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (ns, name) = text.split_once('/').ok_or_else(invalid)?;
    Ok((ns.to_string(), name.to_string()))
}

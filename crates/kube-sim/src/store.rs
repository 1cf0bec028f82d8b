//! The object store: every object of every kind, one cluster-wide resourceVersion
//! counter, and a bounded history of watch events.
//!
//! One mutex guards everything. Each write bumps the counter exactly once and emits
//! exactly one event, so the history holds a contiguous run of versions and a watch can
//! resume from any version still in it. Events are published while the lock is held, so
//! a watcher that subscribes under the lock sees no gap between its backlog and the live
//! feed.
//!
//! What holds past versions of objects is bounded by count, so memory grows with the
//! objects stored, not with the writes made to them: the history keeps `history_limit`
//! events as text; the watchers' live feed keeps [`WATCH_FEED`] events (a watcher that
//! falls further behind has its stream ended and resumes from the history); the
//! controllers' feed keeps what they have not taken yet (they take each event as it
//! comes, and never need to rescan every object to catch up).
//!
//! Objects are stored as their JSON text and parsed when read (see `stored`): a parsed
//! `Value` takes about ten times the memory of its text, and ten thousand stores'
//! objects kept as values took 8 GB.

mod delete;
mod meta;
mod stored;
mod write;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

pub use delete::{Deleted, Preconditions, Propagation};
pub use meta::{is_deleting, name_of, namespace_of, now, set, uid_of};
pub use write::{Subresource, WriteContext};

use stored::{PARSED, Stored};

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

/// One event of the history, its object as text.
#[derive(Debug)]
struct Recorded {
    rv: u64,
    kind: KindId,
    event_type: EventType,
    object: Stored,
}

/// Events the watchers' live feed holds: how far a watcher may fall behind before its
/// stream is ended (it resumes from the history).
pub const WATCH_FEED: usize = 1024;

#[derive(Debug)]
struct State {
    rv: u64,
    /// The newest version no longer in `history`; watching from before it is `Expired`.
    compacted: u64,
    objects: Vec<BTreeMap<Key, Stored>>,
    history: VecDeque<Recorded>,
    /// The objects written last (kind, key, version), whose parsed form is kept.
    parsed: VecDeque<(KindId, Key, u64)>,
    /// Who follows every change in order ([`Store::follow`]): the controllers.
    followers: Vec<mpsc::UnboundedSender<Arc<Event>>>,
    /// The write under way is a dry run (`?dryRun=All`): it is validated and admitted as
    /// any other, but [`State::emit`] stores nothing, bumps no version and tells no one.
    /// Set only for the length of one locked write ([`Store::lock_writing`]).
    dry_run: bool,
}

/// The store's lock held for one write, which is a dry run if it says so; the flag is
/// cleared again however the write ends.
struct Writing<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for Writing<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl std::ops::DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.0
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.dry_run = false;
    }
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

/// Which objects of a kind a list or watch is about: those of one namespace (or of all),
/// perhaps only the one with a given name. Lookups stay within it instead of scanning the
/// kind, so a watch on one object costs the same in a cluster of ten thousand stores as
/// in an empty one. Selectors still apply on top.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// One namespace, or `None` for every namespace (and cluster-scoped kinds).
    pub namespace: Option<&'a str>,
    /// One name (a `metadata.name=` field selector), or `None` for every name.
    pub name: Option<&'a str>,
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
        // Each slot keeps its event's object version alive until it is overwritten, so
        // the buffer stays short; the controllers follow through their own queue.
        let (events, _) = broadcast::channel(WATCH_FEED);
        let store = Self {
            state: Mutex::new(State {
                rv: 0,
                compacted: 0,
                objects: vec![BTreeMap::new(); KINDS.len()],
                history: VecDeque::new(),
                parsed: VecDeque::new(),
                followers: Vec::new(),
                dry_run: false,
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

    /// The lock, for one write that is a dry run when `dry_run`.
    fn lock_writing(&self, dry_run: bool) -> Writing<'_> {
        let mut state = self.lock();
        state.dry_run = dry_run;
        Writing(state)
    }

    /// Every change from now on, in order, none dropped however far the receiver falls
    /// behind (the controllers, which must see every change and keep up with them).
    pub fn follow(&self) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().followers.push(tx);
        rx
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
            .map(Stored::value)
            .ok_or_else(|| not_found(kind, name))
    }

    /// Objects of `kind` in `namespace` whose names start with `prefix`: how controllers
    /// find what they own (`<deployment>-`, `<replicaset>-`) without scanning the
    /// namespace.
    pub fn objects_named(&self, kind: KindId, namespace: &str, prefix: &str) -> Vec<Arc<Value>> {
        let state = self.lock();
        state.objects[kind]
            .range((namespace.to_string(), prefix.to_string())..)
            .take_while(|((n, name), _)| n == namespace && name.starts_with(prefix))
            .map(|(_, stored)| stored.value())
            .collect()
    }

    /// A filtered, possibly paged list.
    pub fn list(&self, kind: KindId, query: &ListQuery) -> Result<ListPage, ApiError> {
        let start = match &query.continue_token {
            Some(token) => Some(decode_continue(token)?),
            None => None,
        };
        let state = self.lock();
        let scope = Scope {
            namespace: query.namespace.as_deref(),
            name: query.fields.name(),
        };
        let matching: Vec<(&Key, Arc<Value>)> = state
            .in_scope(kind, scope)
            .filter(|(k, _)| start.as_ref().is_none_or(|s| *k > s))
            .map(|(k, stored)| (k, stored.value()))
            .filter(|(_, v)| query.labels.matches(v) && query.fields.matches(v))
            .collect();
        let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let page_len = matching.len().min(limit);
        let items = matching[..page_len]
            .iter()
            .map(|(_, v)| v.clone())
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

    /// Starts a watch on `kind`. A snapshot holds the objects in `scope`; filtering the
    /// replayed history and the live feed by namespace and selectors is the caller's.
    pub fn watch(
        &self,
        kind: KindId,
        scope: Scope<'_>,
        start: WatchStart,
    ) -> Result<WatchFeed, ApiError> {
        let state = self.lock();
        let live = self.events.subscribe();
        let backlog = match start {
            WatchStart::Snapshot => state
                .in_scope(kind, scope)
                .map(|(_, stored)| {
                    let object = stored.value();
                    Arc::new(Event {
                        rv: meta::resource_version_of(&object),
                        kind,
                        event_type: EventType::Added,
                        object,
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
                    .map(|e| {
                        Arc::new(Event {
                            rv: e.rv,
                            kind: e.kind,
                            event_type: e.event_type,
                            object: e.object.value(),
                        })
                    })
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
    /// The objects of `kind` in `scope`, ordered by namespace then name.
    fn in_scope<'s>(
        &'s self,
        kind: KindId,
        scope: Scope<'s>,
    ) -> Box<dyn Iterator<Item = (&'s Key, &'s Stored)> + 's> {
        let map = &self.objects[kind];
        let cluster_scoped = !kinds::get(kind).namespaced;
        match (scope.namespace, scope.name) {
            (Some(ns), Some(name)) => Box::new(map.get_key_value(&key(Some(ns), name)).into_iter()),
            (None, Some(name)) if cluster_scoped => {
                Box::new(map.get_key_value(&key(None, name)).into_iter())
            }
            (Some(ns), None) => Box::new(
                map.range((ns.to_string(), String::new())..)
                    .take_while(move |((n, _), _)| n == ns),
            ),
            (None, _) => Box::new(map.iter()),
        }
    }

    /// Bumps the version, stamps it on `object`, stores it under `key` (removes it, for
    /// a deletion), records and publishes the event.
    fn emit(
        &mut self,
        store: &Store,
        kind: KindId,
        key: Key,
        event_type: EventType,
        mut object: Value,
    ) -> Arc<Value> {
        if self.dry_run {
            // The object as it would be stored: a new one has no resourceVersion yet (as
            // a real server answers a dry-run create), a changed one keeps its old one.
            return Arc::new(object);
        }
        self.rv += 1;
        meta::set_resource_version(&mut object, self.rv);
        // The object as written is shared with the store, the event's watchers and the
        // caller.
        let object = Arc::new(object);
        let stored = Stored::of(object.clone());
        self.history.push_back(Recorded {
            rv: self.rv,
            kind,
            event_type,
            object: stored.text_only(),
        });
        while self.history.len() > store.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        if event_type == EventType::Deleted {
            self.objects[kind].remove(&key);
        } else {
            self.parsed.push_back((kind, key.clone(), self.rv));
            self.objects[kind].insert(key, stored);
            while self.parsed.len() > PARSED {
                let Some((kind, key, rv)) = self.parsed.pop_front() else {
                    break;
                };
                // Unless it was written again since (and so is further back in line).
                if let Some(stored) = self.objects[kind].get_mut(&key)
                    && stored
                        .parsed
                        .as_ref()
                        .is_some_and(|o| meta::resource_version_of(o) == rv)
                {
                    stored.parsed = None;
                }
            }
        }
        let event = Arc::new(Event {
            rv: self.rv,
            kind,
            event_type,
            object: object.clone(),
        });
        self.followers
            .retain(|follower| follower.send(event.clone()).is_ok());
        // No receivers is fine: nobody is watching.
        let _ = store.events.send(event);
        object
    }

    /// Every object of `kind` in namespace `ns` (what quota admission counts).
    fn objects_in(&self, kind: KindId, ns: &str) -> Vec<Arc<Value>> {
        self.objects[kind]
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .map(|(_, stored)| stored.value())
            .collect()
    }

    fn namespace_object(&self, ns: &str) -> Option<Arc<Value>> {
        self.objects[kinds::namespace()]
            .get(&(String::new(), ns.to_string()))
            .map(Stored::value)
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

//! A cache of serialized store-list pages, invalidated by any change to any store.
//!
//! Listing stores is the dashboard's most frequent call, and nearly every call finds the
//! same rows as the one before. A page is served from here while the store *generation*
//! it was read at is current. The generation moves when a store changes:
//!
//! - synchronously, by this process's API handlers after their write commits, so a client
//!   always reads its own writes;
//! - by the live-update feed when it reads new events, which covers writes by workers and,
//!   on PostgreSQL, by every other process — within the feed's latency (milliseconds after
//!   the notification, a second at worst), the same freshness live updates have.
//!
//! Tenancy is part of the key (whose stores the page lists), so no page crosses users.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use storeplane_domain::{StoreId, StoreStatus, UserId};

/// Pages kept at most; past it the cache starts over (cheap, and bounds memory).
const MAX_PAGES: usize = 1024;

/// What a list request asks for, exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub owner: Option<UserId>,
    pub status: Option<StoreStatus>,
    pub name: Option<String>,
    pub before: Option<StoreId>,
    pub limit: u32,
}

#[derive(Debug, Default)]
pub struct PageCache {
    generation: AtomicU64,
    pages: Mutex<HashMap<PageKey, (u64, Bytes)>>,
}

impl PageCache {
    /// The current generation; read it *before* reading the database for a page, so that a
    /// change committed meanwhile makes the page stale rather than lost.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Some store changed: every cached page is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The page for `key`, if it was read at the current generation.
    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        let current = self.generation();
        let pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages
            .get(key)
            .filter(|(generation, _)| *generation == current)
            .map(|(_, page)| page.clone())
    }

    /// Keeps a page read at `generation`.
    pub fn put(&self, key: PageKey, generation: u64, page: Bytes) {
        let mut pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            pages.clear();
        }
        pages.insert(key, (generation, page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(limit: u32) -> PageKey {
        PageKey {
            owner: None,
            status: None,
            name: None,
            before: None,
            limit,
        }
    }

    #[test]
    fn a_page_is_served_until_any_store_changes() {
        let cache = PageCache::default();
        let read_at = cache.generation();
        cache.put(key(50), read_at, Bytes::from_static(b"page"));
        assert_eq!(cache.get(&key(50)).as_deref(), Some(&b"page"[..]));
        assert_eq!(cache.get(&key(10)), None, "another query is another page");
        cache.invalidate();
        assert_eq!(cache.get(&key(50)), None);
    }

    #[test]
    fn a_page_read_while_a_store_changed_is_never_served() {
        let cache = PageCache::default();
        let read_at = cache.generation();
        cache.invalidate(); // a write commits while the page is being read
        cache.put(key(50), read_at, Bytes::from_static(b"old"));
        assert_eq!(cache.get(&key(50)), None);
    }
}

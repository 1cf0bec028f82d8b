//! What the applier remembers of the objects it applied: a few digests per object, for a
//! bounded number of recently applied objects.
//!
//! The memory only sharpens [`Outcome`](crate::Outcome)s: an object the applier no longer
//! remembers is judged by the apply response's timestamps (see the `outcome` module),
//! which is what the first pass after a start does anyway. So it keeps the objects of the
//! stores applied most recently, where that matters (a pass repeated within the same
//! second, a retry), and forgets the rest: how much it holds never depends on how many
//! stores the cluster has. Without a bound it grew with every store a drift check passed
//! over, and a control plane of a thousand stores was killed for it.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use lru::LruCache;

use crate::kinds::ObjectRef;
use crate::outcome::Observed;

/// Objects remembered by default: the objects of about two hundred stores (each has about
/// twenty), well above what the workers of one process apply at once. At a few hundred
/// bytes an object this stays under 2 MB.
pub const DEFAULT_REMEMBERED_OBJECTS: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(objects) => objects,
    None => unreachable!(),
};

/// The objects applied most recently, at most `capacity` of them, least recently applied
/// forgotten first.
#[derive(Debug)]
pub(crate) struct Memory {
    objects: Mutex<LruCache<ObjectRef, Observed>>,
}

impl Memory {
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            objects: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<ObjectRef, Observed>> {
        // A panic elsewhere cannot leave the cache inconsistent: every change is one call.
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is remembered of `object`, if anything.
    pub fn recall(&self, object: &ObjectRef) -> Option<Observed> {
        self.lock().get(object).copied()
    }

    /// Remembers `object` as `seen`, or forgets it when the response said too little.
    pub fn remember(&self, object: ObjectRef, seen: Option<Observed>) {
        let mut objects = self.lock();
        match seen {
            Some(seen) => {
                objects.put(object, seen);
            }
            None => {
                objects.pop(&object);
            }
        }
    }

    pub fn forget(&self, object: &ObjectRef) {
        self.lock().pop(object);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

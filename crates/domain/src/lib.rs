//! storeplane's domain model: what a store is, how its lifecycle may move, what its
//! timeline records, and how jobs are retried.
//!
//! This crate is pure: it knows nothing of HTTP, SQL or Kubernetes and never reads the
//! clock or a random source itself. Time and randomness are passed in, so every rule here
//! is tested without I/O.

mod event;
mod job;
mod lifecycle;
mod name;
mod release;
mod store;
mod user;

pub use event::{Actor, EventKind, NewStoreEvent, StoreEvent, UnknownActor};
pub use job::{Job, JobId, JobKind, JobState, RetryPolicy};
pub use lifecycle::{IllegalTransition, StoreStatus};
pub use name::{InvalidName, NameRule, StoreName};
pub use release::{InvalidSpecValue, ReleaseName, StoreTitle};
pub use store::{Engine, Plan, Store, StoreId, StoreSpec, UnknownVariant};
pub use user::{InvalidUserName, Role, User, UserId, UserName};

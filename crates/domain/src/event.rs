//! The store timeline: append-only events that say what happened, when, and who did it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreId;
use crate::store::text_enum;

text_enum! {
    /// What kind of thing happened. Kinds are coarse and few so that a dashboard can pick
    /// an icon for each; the message and detail carry the specifics.
    EventKind, "event kind" {
        /// The store was accepted.
        Created = "created",
        /// The store's status changed (detail: `from`, `to`).
        StatusChanged = "status_changed",
        /// A step of the provisioning pipeline ran (detail: the step and its outcome).
        Step = "step",
        /// A Kubernetes object was created, configured or found unchanged.
        ObjectApplied = "object_applied",
        /// Drift was found and repaired.
        DriftRestored = "drift_restored",
        /// A job attempt failed and will be retried (detail: attempt, next run).
        Retry = "retry",
        /// Something failed for good (the message says what a person can do).
        Failed = "failed",
        /// The admin credentials were revealed.
        CredentialsRevealed = "credentials_revealed",
        /// Teardown progress.
        Teardown = "teardown",
    }
}

/// Who caused an event: a person (by user name) or a part of storeplane itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    User(String),
    System(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(name) => write!(f, "user:{name}"),
            Self::System(component) => write!(f, "system:{component}"),
        }
    }
}

impl FromStr for Actor {
    type Err = UnknownActor;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("user", name)) if !name.is_empty() => Ok(Self::User(name.to_owned())),
            Some(("system", name)) if !name.is_empty() => Ok(Self::System(name.to_owned())),
            _ => Err(UnknownActor(s.to_owned())),
        }
    }
}

/// Text that is neither `user:<name>` nor `system:<component>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown actor {0:?}: expected user:<name> or system:<component>")]
pub struct UnknownActor(pub String);

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An event about to be appended to a store's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStoreEvent {
    pub store_id: StoreId,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
    /// Structured detail for machines (never a secret).
    pub detail: serde_json::Value,
    pub actor: Actor,
}

impl NewStoreEvent {
    /// An event with no structured detail.
    pub fn new(
        store_id: StoreId,
        at: DateTime<Utc>,
        kind: EventKind,
        actor: Actor,
        message: impl Into<String>,
    ) -> Self {
        Self {
            store_id,
            at,
            kind,
            message: message.into(),
            detail: serde_json::Value::Null,
            actor,
        }
    }

    /// Adds structured detail.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// An event on a store's timeline, as recorded. `seq` is assigned by the metadata store,
/// grows with every event written anywhere, and is what live-update clients resume from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreEvent {
    pub seq: i64,
    pub store_id: StoreId,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
    pub detail: serde_json::Value,
    pub actor: Actor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_text() {
        for actor in [Actor::User("alice".into()), Actor::System("worker".into())] {
            assert_eq!(actor.to_string().parse::<Actor>().unwrap(), actor);
        }
    }

    #[test]
    fn malformed_actors_are_rejected() {
        assert!("alice".parse::<Actor>().is_err());
        assert!("user:".parse::<Actor>().is_err());
        assert!("robot:x".parse::<Actor>().is_err());
    }
}

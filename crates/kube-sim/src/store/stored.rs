//! [`Stored`]: an object as the store keeps it.
//!
//! A parsed `serde_json::Value` takes about ten times the memory of its JSON text: every
//! JSON object is a B-tree whose smallest node holds eleven entries, and a Deployment's
//! `managedFields` alone is a tree of dozens of small objects. Ten thousand stores'
//! objects kept as values took 8 GB, so the store keeps text and parses it again when
//! read, except for the objects written last, which are what controllers and appliers
//! read next.

use std::sync::Arc;

use serde_json::Value;

/// An object as stored: its JSON text, parsed again when read, and, while it is among
/// the [`PARSED`] objects written last, its parsed form too (what controllers and
/// appliers read is mostly what was just written).
#[derive(Debug, Clone)]
pub(super) struct Stored {
    text: Arc<str>,
    pub(super) parsed: Option<Arc<Value>>,
}

/// Objects whose parsed form is kept beside their text: the ones written last.
pub(super) const PARSED: usize = 1024;

impl Stored {
    pub(super) fn of(object: Arc<Value>) -> Self {
        // Serializing a `Value` cannot fail: its keys are strings.
        let text = serde_json::to_string(&*object).unwrap_or_default();
        Self {
            text: text.into(),
            parsed: Some(object),
        }
    }

    pub(super) fn value(&self) -> Arc<Value> {
        match &self.parsed {
            Some(object) => object.clone(),
            // The text was written from a `Value` by `of`, so it parses.
            None => Arc::new(serde_json::from_str(&self.text).unwrap_or(Value::Null)),
        }
    }

    /// The text alone, as the history keeps it.
    pub(super) fn text_only(&self) -> Self {
        Self {
            text: self.text.clone(),
            parsed: None,
        }
    }
}

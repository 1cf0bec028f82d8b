//! Validation the real API server runs on writes, after defaulting and before admission:
//! object metadata (names, labels, annotations), the required fields of the kinds
//! storeplane writes, the fields that cannot change once an object exists, and unknown
//! fields (`fieldValidation`).

pub mod immutable;
mod metadata;
pub mod schema;
mod spec;

use serde_json::Value;

use crate::error::{ApiError, Cause};
use crate::kinds::{self, KindId};
use crate::store::name_of;

/// Refuses a new object that the real server's validation refuses, with `422 Invalid`
/// listing every cause.
pub fn check_create(kind: KindId, object: &Value) -> Result<(), ApiError> {
    let k = kinds::get(kind);
    let mut causes = metadata::name(k, name_of(object));
    causes.extend(metadata::labels_and_annotations(object));
    causes.extend(spec::causes(k, object));
    refuse(kind, object, causes)
}

/// Refuses an update of `old` to `new` that the real server's validation refuses: an
/// invalid object, or a changed immutable field.
pub fn check_update(kind: KindId, new: &Value, old: &Value) -> Result<(), ApiError> {
    let k = kinds::get(kind);
    let mut causes = metadata::labels_and_annotations(new);
    causes.extend(spec::causes(k, new));
    refuse(kind, new, causes)?;
    immutable::check_update(kind, new, old)
}

fn refuse(kind: KindId, object: &Value, causes: Vec<Cause>) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    let k = kinds::get(kind);
    Err(ApiError::invalid(k.group, k.kind, name_of(object), causes))
}

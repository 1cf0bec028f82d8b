//! Validation the real API server runs on writes, beyond admission: the fields that
//! cannot change once an object exists.

pub mod immutable;

//! storeplane HTTP API.

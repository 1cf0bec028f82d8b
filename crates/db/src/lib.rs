//! storeplane metadata store.

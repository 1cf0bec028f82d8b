//! Pagination cursors: the position of the last item of the page before. A store list's
//! cursor is a store id (lists run newest first, so the next page holds the stores older
//! than it), a timeline's is an event's `seq`.
//!
//! Cursors are plain positions rather than encoded tokens so that the OpenAPI document
//! can say exactly which values exist (a UUID; a non-negative integer): any value of that
//! form is a valid position and gets a page, possibly empty, never an error. Clients
//! still pass back the `next_cursor` they were given rather than building one.

use storeplane_domain::StoreId;

use crate::ApiError;

/// The cursor of the page after the one ending with `store`.
pub fn of_store(store: StoreId) -> String {
    store.to_string()
}

/// The cursor of the page after the one ending with the event `seq`.
pub fn of_event(seq: i64) -> String {
    seq.to_string()
}

/// The store a store list's cursor points after.
pub fn store(cursor: &str) -> Result<StoreId, ApiError> {
    cursor.parse().map_err(|_| invalid("a store id (a UUID)"))
}

/// The largest event cursor: a round bound that the document's `maximum` (a JSON number,
/// so a double) states exactly, far beyond any `seq` a database reaches.
pub const MAX_EVENT_SEQ: i64 = 1_000_000_000_000_000_000;

/// The event `seq` a timeline's cursor points after.
pub fn event(cursor: &str) -> Result<i64, ApiError> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|seq| (0..=MAX_EVENT_SEQ).contains(seq))
        .ok_or_else(|| invalid("an event seq (an integer from 0 to 10^18)"))
}

fn invalid(form: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_cursor",
        format!("the cursor must be {form}: pass back a next_cursor, or start from the first page"),
    )
    .with_field("cursor")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        assert_eq!(event(&of_event(42)).unwrap(), 42);
        let id = StoreId::generate();
        assert_eq!(store(&of_store(id)).unwrap(), id);
    }

    #[test]
    fn a_cursor_of_the_wrong_form_is_a_bad_request() {
        for bad in ["!!!", "-1", "1.5", "1000000000000000001"] {
            assert_eq!(event(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
        assert_eq!(store("42").unwrap_err().code, "invalid_cursor");
    }
}

//! Pagination cursors: the position of the last item of the page before. A store list's
//! cursor is a store id (lists run newest first, so the next page holds the stores older
//! than it), a timeline's is an event's `seq`.
//!
//! Cursors are plain positions rather than encoded tokens so that the OpenAPI document
//! can say exactly which values exist (a UUID; up to 18 digits): any value of that
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

/// An event `seq` as a client sends it back (a cursor, a `Last-Event-ID`): 1 to 18 digits,
/// the `^[0-9]{1,18}$` the OpenAPI document states (any `seq` a database reaches, and
/// always an `i64`).
pub fn parse_seq(text: &str) -> Option<i64> {
    let digits = (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// The event `seq` a timeline's cursor points after.
pub fn event(cursor: &str) -> Result<i64, ApiError> {
    parse_seq(cursor).ok_or_else(|| invalid("an event seq (1 to 18 digits)"))
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
        for bad in ["!!!", "-1", "+1", "1.5", "", "1000000000000000000"] {
            assert_eq!(event(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
        assert_eq!(store("42").unwrap_err().code, "invalid_cursor");
    }
}

//! Opaque pagination cursors. Clients pass back what they were given; encoding the position
//! keeps them from building cursors by hand and leaves room to change what one holds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ApiError;

pub fn encode(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// Decodes a cursor into the position it holds, parsed as `T`.
pub fn decode<T: std::str::FromStr>(cursor: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "the cursor is not one this server gave out; start from the first page",
            )
            .with_field("cursor")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        assert_eq!(decode::<i64>(&encode("42")).unwrap(), 42);
    }

    #[test]
    fn a_forged_cursor_is_a_bad_request() {
        assert_eq!(decode::<i64>("!!!").unwrap_err().code, "invalid_cursor");
        assert_eq!(
            decode::<i64>(&encode("x")).unwrap_err().code,
            "invalid_cursor"
        );
    }
}

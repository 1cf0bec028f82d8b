//! Bearer secrets (API tokens, session ids, login links): how they are made and hashed.
//! Only hashes reach the metadata store, so a leaked database grants nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh secret: 32 bytes from a CSPRNG, URL-safe base64, with a prefix that says what
/// it is (`spt_` token, `sps_` session, `spl_` login link), so a leaked one is recognisable
/// by secret scanners.
pub fn generate(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a secret, hex-encoded: what the metadata store keeps and looks up by.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_prefixed_and_hash_to_hex() {
        let a = generate("spt_");
        assert!(a.starts_with("spt_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, generate("spt_"));
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(hash(&a), hash(&a));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}

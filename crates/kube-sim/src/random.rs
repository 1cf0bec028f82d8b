//! Cheap randomness for generated names and fault rates.
//!
//! A splitmix64 sequence seeded from the clock: no cryptographic needs here, and it keeps
//! a dependency out of a crate that only needs coin flips and name suffixes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static STATE: AtomicU64 = AtomicU64::new(0);

/// The next pseudo-random number.
pub fn next_u64() -> u64 {
    let mut seed = STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x2545_f491_4f6c_dd1d);
        // Several threads may seed at once; any of their seeds will do.
        let _ = STATE.compare_exchange(0, nanos | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    seed = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// True with probability `rate` (clamped to 0..=1).
pub fn chance(rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    if rate >= 1.0 {
        return true;
    }
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= rate
}

/// The alphabet the real API server uses for generated names (no vowels, no look-alikes).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A random suffix of `len` characters, as `generateName` and the ReplicaSet controller
/// produce.
pub fn suffix(len: usize) -> String {
    (0..len)
        .map(|_| ALPHABET[(next_u64() % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// A stable short hash of `input` in the same alphabet, as `pod-template-hash` looks.
pub fn stable_hash(input: &str) -> String {
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..10 {
        out.push(ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char);
        hash /= ALPHABET.len() as u64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_use_the_kubernetes_alphabet() {
        let s = suffix(5);
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn stable_hash_is_stable_and_distinguishes_inputs() {
        assert_eq!(stable_hash("a"), stable_hash("a"));
        assert_ne!(stable_hash("a"), stable_hash("b"));
    }

    #[test]
    fn certain_and_impossible_chances() {
        assert!(chance(1.0));
        assert!(!chance(0.0));
    }
}

//! Per-identity token buckets on the expensive, state-changing requests (creating and
//! deleting stores). `governor` implements GCRA, a token bucket without a refill timer.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::ApiError;
use crate::settings::RateLimit;

/// A keyed rate limiter; `None` inside when limits are off.
#[derive(Clone)]
pub struct Limiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        let inner = NonZeroU32::new(limit.per_minute).and_then(|per_minute| {
            let burst = NonZeroU32::new(limit.burst.max(1))?;
            Some(Arc::new(governor::RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )))
        });
        Self { inner }
    }

    /// Takes one token from `identity`'s bucket, or says how long until one is free.
    pub fn check(&self, identity: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(&identity.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                metrics::counter!("storeplane_rate_limited_total").increment(1);
                ApiError::rate_limited(wait.as_secs_f64().ceil() as u64)
            })
    }

    /// Forgets identities whose buckets are full again, so memory stays bounded.
    pub fn shrink(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_retry_time() {
        let limiter = Limiter::new(RateLimit {
            per_minute: 6,
            burst: 2,
        });
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        let err = limiter.check("a").unwrap_err();
        assert_eq!(err.code, "rate_limited");
        assert!(
            (1..=10).contains(&err.retry_after.unwrap()),
            "{:?}",
            err.retry_after
        );
        assert!(limiter.check("b").is_ok(), "buckets are per identity");
    }

    #[test]
    fn a_zero_rate_means_no_limit() {
        let limiter = Limiter::new(RateLimit {
            per_minute: 0,
            burst: 0,
        });
        assert!((0..1000).all(|_| limiter.check("a").is_ok()));
    }
}

//! A client-side rate limit for the Kubernetes API: a token bucket of `qps` requests per
//! second with bursts of up to `burst`, like client-go's `--kube-api-qps` /
//! `--kube-api-burst`, so a thousand stores created at once do not flood the API server.
//!
//! kube-rs has no client rate limiter of its own; this is a small tower layer around a
//! `governor` bucket. It waits in `poll_ready`, which kube's request buffer drives, so
//! requests queue in order instead of failing.

use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Sleep;
use tower::{Layer, Service};

/// Requests per second and burst size for the Kubernetes client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRateLimit {
    pub qps: NonZeroU32,
    pub burst: NonZeroU32,
}

/// The tower layer that applies a [`ClientRateLimit`] to every request of a client; all
/// services it makes share one bucket.
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl RateLimitLayer {
    pub fn new(limit: ClientRateLimit) -> Self {
        let quota = Quota::per_second(limit.qps).allow_burst(limit.burst);
        Self {
            limiter: Arc::new(RateLimiter::direct(quota)),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> RateLimited<S> {
        RateLimited {
            inner,
            limiter: self.limiter.clone(),
            permit: false,
            sleep: None,
        }
    }
}

/// A service whose requests wait for a token from the shared bucket.
pub struct RateLimited<S> {
    inner: S,
    limiter: Arc<DefaultDirectRateLimiter>,
    /// A token was taken for the next request and not yet spent.
    permit: bool,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<S> std::fmt::Debug for RateLimited<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimited")
            .field("permit", &self.permit)
            .finish_non_exhaustive()
    }
}

impl<S, R> Service<R> for RateLimited<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        while !self.permit {
            if let Some(sleep) = self.sleep.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                self.sleep = None;
            }
            match self.limiter.check() {
                Ok(()) => self.permit = true,
                Err(not_until) => {
                    let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
                    self.sleep = Some(Box::pin(tokio::time::sleep(wait)));
                }
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.permit = false;
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::future::{Ready, ready};
    use std::time::Instant;

    use tower::ServiceExt;

    use super::*;

    #[derive(Clone)]
    struct Echo;

    impl Service<u32> for Echo {
        type Response = u32;
        type Error = Infallible;
        type Future = Ready<Result<u32, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: u32) -> Self::Future {
            ready(Ok(request))
        }
    }

    fn limit(qps: u32, burst: u32) -> ClientRateLimit {
        ClientRateLimit {
            qps: NonZeroU32::new(qps).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    #[tokio::test]
    async fn a_burst_passes_at_once_and_the_rest_at_the_rate() {
        let layer = RateLimitLayer::new(limit(50, 10));
        let mut service = layer.layer(Echo);
        let started = Instant::now();
        for i in 0..10 {
            service.ready().await.unwrap().call(i).await.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "the burst waited"
        );
        // Ten more at 50 per second take about 200 ms.
        for i in 0..10 {
            service.ready().await.unwrap().call(i).await.unwrap();
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(150),
            "20 requests at 50 qps with a burst of 10 took only {elapsed:?}"
        );
    }

    #[tokio::test]
    async fn services_of_one_layer_share_the_bucket() {
        let layer = RateLimitLayer::new(limit(20, 2));
        let mut first = layer.layer(Echo);
        let mut second = layer.layer(Echo);
        let started = Instant::now();
        for i in 0..3 {
            first.ready().await.unwrap().call(i).await.unwrap();
            second.ready().await.unwrap().call(i).await.unwrap();
        }
        // Six requests, two free: four wait 50 ms each.
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}

//! Counting the API requests a client sends, to hold a store's provisioning to its
//! request budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use kube::client::ClientBuilder;
use storeplane_kube::Applier;
use tower::Service;

use super::fixtures::{namespace, store};

/// Counts every request that passes through it.
#[derive(Clone)]
struct Counting<S> {
    inner: S,
    sent: Arc<AtomicUsize>,
}

impl<S: Service<R>, R> Service<R> for Counting<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}

#[tokio::test]
async fn provisioning_a_store_to_ready_takes_at_most_25_api_requests() -> anyhow::Result<()> {
    let sim = kube_sim::SimHandle::start(kube_sim::SimConfig::default()).await?;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let client = ClientBuilder::try_from(sim.kube_config())?
        .with_layer(&tower::layer::layer_fn(move |inner| Counting {
            inner,
            sent: counter.clone(),
        }))
        .build();
    let applier = Applier::new(client);
    let resources = store();

    applier.apply(&resources.ordered()).await?;
    applier
        .wait_ready(&namespace(), &resources.readiness, Duration::from_secs(30))
        .await?;

    let sent = sent.load(Ordering::Relaxed);
    assert!(sent <= 25, "{sent} requests");
    sim.shutdown().await;
    Ok(())
}
